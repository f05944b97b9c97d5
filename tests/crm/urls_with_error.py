"""The project's URLs plus a view that fails, to test the 500 page."""

from django.urls import path

from crm.urls import handler500, urlpatterns as project_urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("kaboom-secret")


urlpatterns = [*project_urlpatterns, path("boom/", boom)]

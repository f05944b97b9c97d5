"""The project's URLs plus a view that fails, to test the 500 page."""

from django.urls import path

from crm.urls import handler500  # noqa: F401
from crm.urls import urlpatterns as project_urlpatterns


def boom(request):
    raise RuntimeError("kaboom-secret")


urlpatterns = [*project_urlpatterns, path("boom/", boom)]

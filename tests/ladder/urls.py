"""Test URLconf: the project's routes plus the ladder pages and API."""

from django.urls import include, path

from crm.urls import handler500  # noqa: F401
from crm.urls import urlpatterns as crm_urlpatterns

urlpatterns = [
    path("ladders/", include("ladder.urls")),
    path("api/", include("ladder.api.urls")),
    *crm_urlpatterns,
]

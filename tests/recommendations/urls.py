"""Test URLconf: the project's routes plus the recommendations pages and API."""

from django.urls import include, path

from crm.urls import handler500  # noqa: F401
from crm.urls import urlpatterns as crm_urlpatterns

urlpatterns = [
    path("suggestions/", include("recommendations.urls")),
    path("api/", include("recommendations.api.urls")),
    *crm_urlpatterns,
]

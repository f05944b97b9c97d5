"""Pages of the core domain, one module per area, re-exported for the URLconfs."""

from crm.views.imports import (
    ImportJobDetailView,
    ImportJobErrorReportView,
    ImportJobListView,
)
from crm.views.site import HomeView, LoginView, health, server_error

__all__ = [
    "HomeView",
    "ImportJobDetailView",
    "ImportJobErrorReportView",
    "ImportJobListView",
    "LoginView",
    "health",
    "server_error",
]

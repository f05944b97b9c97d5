"""Pages of the core domain, one module per area, re-exported for the URLconfs."""

from crm.views.customers import (
    CustomerDetailView,
    CustomerListView,
    CustomerTimelineView,
    LogContactView,
)
from crm.views.imports import (
    ImportJobDetailView,
    ImportJobErrorReportView,
    ImportJobListView,
    ImportPreviewView,
    ImportUploadView,
)
from crm.views.search import SearchView
from crm.views.site import HomeView, LoginView, health, server_error

__all__ = [
    "CustomerDetailView",
    "CustomerListView",
    "CustomerTimelineView",
    "LogContactView",
    "SearchView",
    "HomeView",
    "ImportJobDetailView",
    "ImportJobErrorReportView",
    "ImportJobListView",
    "ImportPreviewView",
    "ImportUploadView",
    "LoginView",
    "health",
    "server_error",
]

"""HTML pages of the core domain (namespace ``crm``)."""

from django.urls import path

from crm import views

app_name = "crm"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("customers/", views.CustomerListView.as_view(), name="customer_list"),
    path(
        "customers/<int:pk>/",
        views.CustomerDetailView.as_view(),
        name="customer_detail",
    ),
    path(
        "customers/<int:pk>/timeline/",
        views.CustomerTimelineView.as_view(),
        name="customer_timeline",
    ),
    path(
        "customers/<int:pk>/contacts/",
        views.LogContactView.as_view(),
        name="customer_log_contact",
    ),
    path("search/", views.SearchView.as_view(), name="search"),
    path("imports/", views.ImportJobListView.as_view(), name="import_list"),
    path("imports/new/", views.ImportUploadView.as_view(), name="import_new"),
    path(
        "imports/new/preview/", views.ImportPreviewView.as_view(), name="import_preview"
    ),
    path(
        "imports/<int:pk>/", views.ImportJobDetailView.as_view(), name="import_detail"
    ),
    path(
        "imports/<int:pk>/errors.csv",
        views.ImportJobErrorReportView.as_view(),
        name="import_errors",
    ),
]

"""HTML pages of the core domain (namespace ``crm``)."""

from django.urls import path

from crm import views

app_name = "crm"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("imports/", views.ImportJobListView.as_view(), name="import_list"),
    path(
        "imports/<int:pk>/", views.ImportJobDetailView.as_view(), name="import_detail"
    ),
    path(
        "imports/<int:pk>/errors.csv",
        views.ImportJobErrorReportView.as_view(),
        name="import_errors",
    ),
]

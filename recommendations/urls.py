"""Recommendations pages (namespace ``recommendations``), mounted at /suggestions/."""

from django.urls import path

from recommendations import views

app_name = "recommendations"

urlpatterns = [
    path("runs/", views.RunListView.as_view(), name="run_list"),
    path(
        "customers/<int:customer_id>/",
        views.CustomerSuggestionsPanelView.as_view(),
        name="customer_panel",
    ),
    path(
        "<int:pk>/outcome/",
        views.SuggestionOutcomeView.as_view(),
        name="suggestion_outcome",
    ),
]

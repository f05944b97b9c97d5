"""Ladder pages (namespace ``ladder``), mounted at /ladders/."""

from django.urls import path

from ladder import views

app_name = "ladder"

urlpatterns = [
    path("", views.LadderListView.as_view(), name="ladder_list"),
    path("new/", views.LadderCreateView.as_view(), name="ladder_create"),
    path("<int:pk>/", views.LadderEditView.as_view(), name="ladder_edit"),
    path("<int:pk>/delete/", views.LadderDeleteView.as_view(), name="ladder_delete"),
    path("<int:pk>/report/", views.LadderReportView.as_view(), name="ladder_report"),
    path("<int:pk>/steps/", views.StepCreateView.as_view(), name="step_create"),
    path("steps/<int:pk>/", views.StepUpdateView.as_view(), name="step_update"),
    path("steps/<int:pk>/move/", views.StepMoveView.as_view(), name="step_move"),
    path("steps/<int:pk>/delete/", views.StepDeleteView.as_view(), name="step_delete"),
    path(
        "steps/<int:pk>/offers/",
        views.StepOfferCreateView.as_view(),
        name="offer_create",
    ),
    path(
        "offers/<int:pk>/delete/",
        views.StepOfferDeleteView.as_view(),
        name="offer_delete",
    ),
]

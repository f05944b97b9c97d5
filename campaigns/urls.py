"""Campaign pages (namespace ``campaigns``), mounted at /campaigns/."""

from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("list/", views.CampaignListView.as_view(), name="campaign_list"),
    path("new/", views.CampaignCreateView.as_view(), name="campaign_create"),
    path("<int:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
    path(
        "<int:pk>/launch/", views.CampaignLaunchView.as_view(), name="campaign_launch"
    ),
    path(
        "<int:pk>/cancel/", views.CampaignCancelView.as_view(), name="campaign_cancel"
    ),
    path("<int:pk>/progress/", views.SendProgressView.as_view(), name="send_progress"),
    path("<int:pk>/sms-meter/", views.SmsMeterView.as_view(), name="sms_meter"),
    path(
        "<int:pk>/preview/", views.MessagePreviewView.as_view(), name="message_preview"
    ),
    path(
        "<int:pk>/preview/customers/",
        views.PreviewCustomersView.as_view(),
        name="preview_customers",
    ),
    path(
        "<int:pk>/variants/", views.VariantCreateView.as_view(), name="variant_create"
    ),
    path(
        "variants/<int:pk>/", views.VariantUpdateView.as_view(), name="variant_update"
    ),
    path(
        "variants/<int:pk>/delete/",
        views.VariantDeleteView.as_view(),
        name="variant_delete",
    ),
    path(
        "<int:pk>/results/",
        views.CampaignResultsView.as_view(),
        name="campaign_results",
    ),
    path(
        "<int:pk>/results.csv",
        views.CampaignResultsCsvView.as_view(),
        name="campaign_results_csv",
    ),
    path(
        "<int:pk>/codes/", views.OfferCodeCreateView.as_view(), name="offer_code_create"
    ),
    path("segment-size/", views.SegmentSizeView.as_view(), name="segment_size"),
    path("calls/", views.CallListView.as_view(), name="call_list"),
    path(
        "calls/<int:pk>/outcome/", views.CallOutcomeView.as_view(), name="call_outcome"
    ),
    path("segments/", views.SegmentListView.as_view(), name="segment_list"),
    path("segments/new/", views.SegmentCreateView.as_view(), name="segment_create"),
    path(
        "segments/preview/", views.SegmentPreviewView.as_view(), name="segment_preview"
    ),
    path("segments/<int:pk>/", views.SegmentEditView.as_view(), name="segment_edit"),
    path(
        "segments/<int:pk>/count/",
        views.SegmentCountView.as_view(),
        name="segment_count",
    ),
]

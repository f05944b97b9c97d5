"""Campaign pages, one module per area, re-exported for the URLconf."""

from campaigns.views.calls import CallListView, CallOutcomeView
from campaigns.views.campaigns import (
    CampaignCancelView,
    CampaignCreateView,
    CampaignDetailView,
    CampaignLaunchView,
    CampaignListView,
    MessagePreviewView,
    OfferCodeCreateView,
    PreviewCustomersView,
    SegmentSizeView,
    SendProgressView,
    SmsMeterView,
    VariantCreateView,
    VariantDeleteView,
    VariantUpdateView,
)
from campaigns.views.dashboard import DashboardView
from campaigns.views.results import CampaignResultsCsvView, CampaignResultsView
from campaigns.views.segments import (
    SegmentCountView,
    SegmentCreateView,
    SegmentEditView,
    SegmentListView,
    SegmentPreviewView,
)

__all__ = [
    "CallListView",
    "CallOutcomeView",
    "CampaignCancelView",
    "CampaignCreateView",
    "CampaignDetailView",
    "CampaignLaunchView",
    "CampaignListView",
    "CampaignResultsCsvView",
    "CampaignResultsView",
    "DashboardView",
    "MessagePreviewView",
    "OfferCodeCreateView",
    "PreviewCustomersView",
    "SegmentCountView",
    "SegmentCreateView",
    "SegmentEditView",
    "SegmentListView",
    "SegmentPreviewView",
    "SegmentSizeView",
    "SendProgressView",
    "SmsMeterView",
    "VariantCreateView",
    "VariantDeleteView",
    "VariantUpdateView",
]

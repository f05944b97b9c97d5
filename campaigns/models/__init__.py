"""Campaign models, re-exported so ``from campaigns.models import Campaign`` works."""

from .campaigns import (
    CAMPAIGN_SETTINGS,
    AudienceMember,
    Campaign,
    CampaignResult,
    OfferCode,
    OfferRedemption,
    Variant,
)
from .segments import Segment
from .sends import Send

__all__ = [
    "CAMPAIGN_SETTINGS",
    "AudienceMember",
    "Campaign",
    "CampaignResult",
    "OfferCode",
    "OfferRedemption",
    "Segment",
    "Send",
    "Variant",
]

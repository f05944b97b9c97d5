"""Send rows for the demo's past campaigns: recorded as sent, no message goes out."""

from __future__ import annotations

import datetime as dt

from campaigns.models import Campaign, Send
from campaigns.sending.services import create_sends


def record_demo_sends(campaign: Campaign, *, sent_at: dt.datetime | None = None) -> int:
    """Write a ``sent`` Send for each treated member of a past demo campaign.

    ``sent_at`` defaults to the campaign's launch. Idempotent.
    """
    when = sent_at or campaign.launched_at
    create_sends(campaign_id=campaign.pk, now=when)
    return Send.objects.filter(campaign=campaign, status=Send.Status.PENDING).update(
        status=Send.Status.SENT, claimed_at=when, sent_at=when
    )

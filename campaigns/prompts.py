"""In-store prompts and checkout offers of running campaigns.

A campaign on the ``in_store`` or ``checkout`` channel reaches a customer who
is there: its Send rows (status ``sent``) are the customers it applies to, for the
campaign's attribution window after launch (unless it is cancelled).
The counter view and the basket API get these through
``recommendations.extensions`` (registered in ``CampaignsConfig.ready``), so
the lower app never imports this one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, Send
from crm.models import Channel, Customer


def _active_sends(customer_id: int, channel: str):
    return (
        Send.objects.filter(
            customer_id=customer_id,
            channel=channel,
            status=Send.Status.SENT,
            campaign__status__in=(Campaign.Status.SENDING, Campaign.Status.DONE),
        )
        .select_related(
            "variant",
            "campaign__store",
            "campaign__offer_product",
            "campaign__offer_step",
        )
        .order_by("-campaign__launched_at", "-pk")
    )


def _running(send: Send, now: dt.datetime) -> bool:
    """A prompt stays up for the campaign's attribution window after launch.

    Every row of such a campaign settles at once (nothing to deliver), so
    the campaign is "done" at once too; the window is what bounds the offer.
    """
    launched = send.campaign.launched_at or send.queued_at
    days = send.campaign.attribution_window_days
    return launched + dt.timedelta(days=days) >= now


def _render(send: Send, customer: Customer) -> dict[str, Any] | None:
    from campaigns.messages import render_message
    from campaigns.services import campaign_message_values, customer_message_values

    values = campaign_message_values(send.campaign)
    try:
        message = render_message(
            subject=send.variant.subject,
            body=send.variant.body,
            values=customer_message_values(values, customer),
        )
    except ValidationError:
        return None
    product = send.campaign.offer_product
    return {
        "campaign_id": send.campaign_id,
        "send_id": send.pk,
        "title": message.subject or send.campaign.name,
        "body": message.body,
        "code": values.get("offer_code", ""),
        "discount_percent": (
            str(send.campaign.discount_percent)
            if send.campaign.discount_percent
            else None
        ),
        "sku": product.sku if product is not None else "",
    }


def in_store_prompts(customer_id: int, store_id: int | None) -> list[dict[str, Any]]:
    """Prompts to show at the counter of ``store_id`` for this customer.

    A campaign tied to a store shows only there; one without a store shows
    in every store.
    """
    customer = Customer.objects.select_related("home_store").filter(pk=customer_id)
    customer = customer.first()
    if customer is None:
        return []
    sends = _active_sends(customer_id, Channel.IN_STORE).filter(
        Q(campaign__store__isnull=True) | Q(campaign__store_id=store_id)
    )
    now = timezone.now()
    running = (send for send in sends if _running(send, now))
    return [p for p in (_render(send, customer) for send in running) if p]


def checkout_offers(customer_id: int, skus: list[str]) -> list[dict[str, Any]]:
    """Offers of running checkout campaigns for this customer's basket.

    An offer of a product already in the basket is still returned (the
    discount applies to it); the caller decides how to show it.
    """
    customer = Customer.objects.select_related("home_store").filter(pk=customer_id)
    customer = customer.first()
    if customer is None:
        return []
    sends = _active_sends(customer_id, Channel.CHECKOUT)
    now = timezone.now()
    running = (send for send in sends if _running(send, now))
    return [p for p in (_render(send, customer) for send in running) if p]


def counter_prompt_provider(customer, store) -> list[dict[str, Any]]:
    """Adapter for ``recommendations.extensions`` (objects in, ids out)."""
    return in_store_prompts(customer.pk, getattr(store, "pk", None))

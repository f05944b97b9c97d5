"""Erasure reaches the apps above crm through the customer_erased hook (PRIV-04)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from campaigns.models import Send
from crm.services.customers import erase_customer
from recommendations.models import Suggestion
from tests.campaigns.factories import CampaignFactory
from tests.crm.factories import CustomerFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_erasure_scrubs_offer_notes_call_notes_and_provider_errors():
    # Free text staff typed, or a provider's reply quoting the address, may
    # name the person; the rows themselves (ids, outcomes) stay.
    customer = CustomerFactory(first_name="Mario", phone="+393331234567")
    OrderLineFactory(order__customer=customer)
    offer = Suggestion.objects.create(
        customer=customer,
        product=ProductFactory(),
        kind=Suggestion.Kind.CROSS_SELL,
        channel=Suggestion.Channel.PHONE,
        reason_code="popular",
        reason="Popular",
        status=Suggestion.Status.DECLINED,
        note="Mario's wife prefers red",
    )
    send = Send.objects.create(
        campaign=CampaignFactory(),
        customer=customer,
        channel="phone",
        status="sent",
        queued_at=timezone.now(),
        call_notes="call Mario after 6 on +39 333 1234567",
        last_error="550 <mario@example.com> unknown",
    )
    erase_customer(customer=customer)
    offer.refresh_from_db()
    send.refresh_from_db()
    assert offer.note == "" and offer.status == Suggestion.Status.DECLINED
    assert (send.call_notes, send.last_error) == ("", "")
    assert send.status == "sent"

"""The suppression list survives deletion (PRIV-03) and audiences respect it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.sending.optout import withdraw_channel_consent
from crm.models import ChannelConsent, Customer, Suppression
from crm.models.suppression import contact_digest
from crm.selectors import list_marketable_customers
from crm.services.customers import set_consent
from tests.campaigns.sending_support import make_customers

pytestmark = pytest.mark.django_db


def test_the_list_holds_no_readable_contact(settings):
    customer = make_customers(1)[0]
    withdraw_channel_consent(customer_id=customer.pk, channel="email", source="x")
    row = Suppression.objects.get()
    assert customer.email not in str(row.__dict__)
    assert row.digest == contact_digest(customer.email)
    settings.SUPPRESSION_HMAC_KEY = "another key"
    assert row.digest != contact_digest(customer.email)  # keyed, not a bare hash


def test_an_erased_then_reimported_contact_is_not_marketable():
    # given: someone opts out and is then erased
    customer = make_customers(1)[0]
    email = customer.email
    withdraw_channel_consent(customer_id=customer.pk, channel="email", source="x")
    customer.delete()
    # when: the same address comes back with an old consent (an import)
    again = Customer.objects.create(external_id="NEW1", email=email)
    ChannelConsent.objects.create(
        customer=again,
        channel="email",
        granted=True,
        source="import",
        changed_at=timezone.now() - dt.timedelta(days=30),
    )
    fresh = make_customers(1)[0]
    # then
    marketable = set(list_marketable_customers(channel="email"))
    assert again not in marketable and fresh in marketable
    # new consent evidence lifts the suppression
    set_consent(customer=again, channel="email", granted=False, source="x")
    set_consent(customer=again, channel="email", granted=True, source="web form")
    assert again in set(list_marketable_customers(channel="email"))


def test_suppression_is_per_channel():
    customer = make_customers(1, channel="sms")[0]
    ChannelConsent.objects.create(
        customer=customer,
        channel="email",
        granted=True,
        source="t",
        changed_at=timezone.now() - dt.timedelta(days=1),
    )
    Suppression.objects.record(
        channel="sms", contact=customer.phone, reason=Suppression.Reason.OPT_OUT
    )
    assert customer not in set(list_marketable_customers(channel="sms"))
    assert customer in set(list_marketable_customers(channel="email"))


@pytest.mark.parametrize("size", [1, 50])
def test_audience_query_count_does_not_grow_with_the_list(
    size, django_assert_max_num_queries
):
    customers = make_customers(size)
    for customer in customers[: size // 2 or 1]:
        Suppression.objects.record(
            channel="email", contact=customer.email, reason="erasure"
        )
    with django_assert_max_num_queries(3):
        ids = list(list_marketable_customers(channel="email"))
    assert len(ids) == size - (size // 2 or 1)

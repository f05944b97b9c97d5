"""Sent campaign messages in crm's customer timeline (campaigns.hooks)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Send
from crm.models import Channel
from tests.campaigns.factories import CampaignFactory, VariantFactory
from tests.crm.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PAGE_BUDGET = 15


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(user, customer):
    return client_for(user).get(reverse("crm:customer_detail", args=[customer.pk]))


def send(customer, *, name, status=Send.Status.SENT, days_ago=2, channel=None):
    campaign = CampaignFactory(name=name)
    at = timezone.now() - dt.timedelta(days=days_ago)
    return Send.objects.create(
        campaign=campaign,
        customer=customer,
        variant=VariantFactory(campaign=campaign),
        channel=channel or campaign.channel,
        status=status,
        queued_at=at,
        sent_at=at if status == Send.Status.SENT else None,
    )


@pytest.fixture
def carla(store_a):
    return CustomerFactory(first_name="Carla", last_name="Corallo", home_store=store_a)


def test_a_sent_message_shows_in_the_timeline_with_its_label(sales, carla):
    send(carla, name="Spring cut offer", channel=Channel.SMS)
    response = page(sales, carla)
    assert response.status_code == 200
    events = [
        e for e in response.context["timeline"].events if e["source"] == "message"
    ]
    assert [e["title"] for e in events] == ["Spring cut offer"]
    body = response.content.decode()
    assert "Campaign message" in body and "Spring cut offer" in body
    assert "SMS" in body  # the channel's label


def test_unsent_messages_and_other_customers_messages_stay_out(sales, carla, store_a):
    send(carla, name="Still pending", status=Send.Status.PENDING)
    send(carla, name="Skipped, no consent", status=Send.Status.SKIPPED)
    send(carla, name="Bounced", status=Send.Status.FAILED)
    send(CustomerFactory(home_store=store_a), name="Someone else's")
    body = page(sales, carla).content.decode()
    for name in ("Still pending", "Skipped, no consent", "Bounced", "Someone else"):
        assert name not in body


def test_messages_interleave_by_date_and_page_with_the_cursor(sales, carla):
    from crm.selectors import TimelineCursor, list_customer_timeline

    for n in range(25):
        send(carla, name=f"Message {n:02d}", days_ago=n + 1)
    first = list_customer_timeline(sales, customer_id=carla.pk)
    assert [e["title"] for e in first.events][:2] == ["Message 00", "Message 01"]
    second = list_customer_timeline(
        sales,
        customer_id=carla.pk,
        cursor=TimelineCursor.decode(first.next_cursor),
    )
    titles = [e["title"] for e in first.events + second.events]
    assert titles == [f"Message {n:02d}" for n in range(25)]


def test_a_clerk_of_another_store_sees_no_message(clerk_b, clerk_a, carla):
    from crm.selectors import list_customer_timeline

    send(carla, name="Spring cut offer")
    assert page(clerk_b, carla).status_code == 404
    # Even asked directly, the hook returns nothing outside the clerk's store.
    foreign = list_customer_timeline(clerk_b, customer_id=carla.pk)
    assert [e for e in foreign.events if e["source"] == "message"] == []
    own = list_customer_timeline(clerk_a, customer_id=carla.pk)
    assert [e["title"] for e in own.events] == ["Spring cut offer"]


@pytest.mark.parametrize("messages", [1, 30])
def test_page_query_budget_holds_for_a_clerk(clerk_a, carla, messages):
    for n in range(messages):
        send(carla, name=f"Message {n}", days_ago=n + 1)
    client = client_for(clerk_a)
    client.get(reverse("crm:customer_detail", args=[carla.pk]))  # warm caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("crm:customer_detail", args=[carla.pk]))
    assert response.status_code == 200
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
    ]
    assert len(statements) <= PAGE_BUDGET
    assert "Message 0" in response.content.decode()

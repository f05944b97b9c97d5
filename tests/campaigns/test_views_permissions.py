"""Who may open which campaign page (SEC-07) and CSRF on every POST (SEC-10).

Managers do everything; sales staff read campaigns and results and work
their call lists; clerks get 403 everywhere; anonymous users go to log in.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, OfferCode, Segment, Variant
from tests.campaigns.factories import CampaignFactory, SegmentFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(db):
    segment = SegmentFactory(name="All", definition={"match": "all", "rules": []})
    draft = CampaignFactory(name="Draft", segment=segment)
    variant = VariantFactory(campaign=draft, label="A")
    sending = CampaignFactory(
        name="Sending",
        segment=segment,
        status=Campaign.Status.SENDING,
        launched_at=timezone.now(),
    )
    return {"segment": segment, "draft": draft, "variant": variant, "sending": sending}


def read_pages(objects):
    """(url, who may read it: "manager" or "sales") for every GET page."""
    draft, segment = objects["draft"], objects["segment"]
    sending, variant = objects["sending"], objects["variant"]
    return [
        (reverse("campaigns:dashboard"), "manager"),
        (reverse("campaigns:campaign_create"), "manager"),
        (reverse("campaigns:campaign_launch", args=[draft.pk]), "manager"),
        (reverse("campaigns:segment_create"), "manager"),
        (reverse("campaigns:segment_edit", args=[segment.pk]), "manager"),
        (reverse("campaigns:campaign_list"), "sales"),
        (reverse("campaigns:campaign_detail", args=[draft.pk]), "sales"),
        (reverse("campaigns:campaign_results", args=[sending.pk]), "sales"),
        (reverse("campaigns:campaign_results_csv", args=[sending.pk]), "sales"),
        (reverse("campaigns:send_progress", args=[sending.pk]), "sales"),
        (reverse("campaigns:segment_list"), "sales"),
        (reverse("campaigns:call_list"), "sales"),
        (reverse("campaigns:segment_count", args=[segment.pk]), "sales"),
        (reverse("campaigns:segment_preview") + "?name=x&match=all", "sales"),
        (reverse("campaigns:segment_size") + f"?segment={segment.pk}", "sales"),
        (reverse("campaigns:sms_meter", args=[draft.pk]) + "?body=hi", "sales"),
        (
            reverse("campaigns:message_preview", args=[draft.pk])
            + f"?variant={variant.pk}&customer=0",
            "sales",
        ),
    ]


def write_actions(objects):
    """(url, data) for every POST that changes something (managers only)."""
    draft, segment = objects["draft"], objects["segment"]
    sending, variant = objects["sending"], objects["variant"]
    return [
        (reverse("campaigns:campaign_create"), {"name": "New"}),
        (reverse("campaigns:campaign_detail", args=[draft.pk]), {"name": "Hijacked"}),
        (reverse("campaigns:campaign_launch", args=[draft.pk]), {"confirm": "yes"}),
        (reverse("campaigns:campaign_cancel", args=[sending.pk]), {}),
        (
            reverse("campaigns:variant_create", args=[draft.pk]),
            {"label": "Z", "subject": "s", "body": "b", "weight": 1},
        ),
        (
            reverse("campaigns:variant_update", args=[variant.pk]),
            {"label": "A", "subject": "s", "body": "Changed", "weight": 1},
        ),
        (reverse("campaigns:variant_delete", args=[variant.pk]), {}),
        (reverse("campaigns:campaign_results", args=[sending.pk]), {}),
        (
            reverse("campaigns:offer_code_create", args=[draft.pk]),
            {"kind": "campaign", "code": "STOLEN"},
        ),
        (reverse("campaigns:segment_create"), {"name": "Mine", "match": "all"}),
        (
            reverse("campaigns:segment_edit", args=[segment.pk]),
            {"name": "Renamed", "match": "all"},
        ),
    ]


def _state():
    return (
        list(Campaign.objects.order_by("pk").values_list("name", "status")),
        list(Variant.objects.values_list("label", "body")),
        list(Segment.objects.values_list("name", flat=True)),
        list(OfferCode.objects.values_list("code", flat=True)),
    )


def test_clerks_get_403_on_every_campaign_page(client, clerk_a, objects):
    client.force_login(clerk_a)
    for url, _who in read_pages(objects):
        assert client.get(url).status_code == 403, url


def test_clerks_cannot_change_anything(client, clerk_a, objects):
    client.force_login(clerk_a)
    before = _state()
    for url, data in write_actions(objects):
        assert client.post(url, data).status_code == 403, url
    assert _state() == before


def test_sales_read_campaigns_and_results_but_not_the_manager_pages(
    client, sales, objects
):
    client.force_login(sales)
    for url, who in read_pages(objects):
        expected = 200 if who == "sales" else 403
        assert client.get(url).status_code == expected, url


def test_sales_see_a_draft_without_its_forms(client, sales, objects):
    client.force_login(sales)
    response = client.get(
        reverse("campaigns:campaign_detail", args=[objects["draft"].pk])
    )
    body = response.content.decode()
    assert not response.context.get("form")
    assert reverse("campaigns:variant_create", args=[objects["draft"].pk]) not in body
    assert reverse("campaigns:campaign_launch", args=[objects["draft"].pk]) not in body
    assert (
        "Refresh now"
        not in client.get(
            reverse("campaigns:campaign_results", args=[objects["sending"].pk])
        ).content.decode()
    )


def test_sales_cannot_change_anything(client, sales, objects):
    client.force_login(sales)
    before = _state()
    for url, data in write_actions(objects):
        assert client.post(url, data).status_code == 403, url
    assert _state() == before


def test_managers_open_every_page(client, manager, objects):
    client.force_login(manager)
    for url, _who in read_pages(objects):
        assert client.get(url).status_code == 200, url


def test_anonymous_users_are_sent_to_log_in(client, objects):
    for url, _who in read_pages(objects):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]


def test_every_post_needs_the_csrf_token(manager, objects):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    before = _state()
    actions = write_actions(objects) + [
        (reverse("campaigns:call_outcome", args=[1]), {"outcome": "reached"})
    ]
    for url, data in actions:
        assert client.post(url, data).status_code == 403, url
    assert _state() == before


def test_the_nav_shows_campaigns_to_managers_and_sales_only(
    client, manager, sales, clerk_a, objects
):
    dashboard = f'href="{reverse("campaigns:dashboard")}"'
    client.force_login(manager)
    assert dashboard in client.get(reverse("home")).content.decode()
    client.force_login(sales)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("campaigns:campaign_list")}"' in home
    assert dashboard not in home
    client.force_login(clerk_a)
    assert "/campaigns/" not in client.get(reverse("home")).content.decode()

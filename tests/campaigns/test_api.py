"""Campaigns API: role permissions, commands, results, CSV and query budgets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, Segment
from crm.models import ChannelConsent
from tests.campaigns.factories import (
    CampaignFactory,
    OfferCodeFactory,
    SegmentFactory,
    VariantFactory,
)
from tests.crm.factories import CustomerFactory

pytestmark = pytest.mark.django_db

WOMEN = {"match": "all", "rules": [{"field": "gender", "values": ["F"]}]}


def consenting(n, gender="F"):
    customers = CustomerFactory.create_batch(n, gender=gender)
    for customer in customers:
        ChannelConsent.objects.create(
            customer=customer,
            channel="email",
            granted=True,
            source="test",
            changed_at=timezone.now(),
        )
    return customers


# --- permissions ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/segments/",
        "/api/campaigns/",
        "/api/campaign-variants/",
        "/api/offer-codes/",
    ],
)
def test_clerks_get_403_and_sales_read_only(api_client_for, clerk_a, sales, url):
    assert api_client_for(clerk_a).get(url).status_code == 403
    assert api_client_for(None).get(url).status_code in (401, 403)
    assert api_client_for(sales).get(url).status_code == 200


def test_sales_cannot_write_or_launch(api_client_for, sales):
    client = api_client_for(sales)
    response = client.post(
        "/api/segments/", {"name": "x", "definition": WOMEN}, format="json"
    )
    assert response.status_code == 403
    campaign = CampaignFactory()
    VariantFactory(campaign=campaign)
    consenting(2)
    assert client.post(f"/api/campaigns/{campaign.pk}/launch/").status_code == 403
    assert (
        client.post(
            "/api/segments/preview/", {"definition": WOMEN}, format="json"
        ).status_code
        == 403
    )
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_clerk_cannot_see_a_segment_count(api_client_for, clerk_a):
    segment = SegmentFactory(definition=WOMEN)
    response = api_client_for(clerk_a).get(f"/api/segments/{segment.pk}/count/")
    assert response.status_code == 403


# --- segments -----------------------------------------------------------------------


def test_manager_creates_a_segment_and_reads_its_count_and_sample(
    api_client_for, manager
):
    consenting(3)
    CustomerFactory(gender="M")
    client = api_client_for(manager)
    response = client.post(
        "/api/segments/",
        {"name": "Women", "definition": WOMEN, "created_by": 999},
        format="json",
    )
    assert response.status_code == 201, response.json()
    segment = Segment.objects.get(pk=response.json()["id"])
    assert segment.created_by == manager
    assert client.get(f"/api/segments/{segment.pk}/count/").json() == {"count": 3}
    sample = client.get(f"/api/segments/{segment.pk}/sample/?n=2").json()
    assert len(sample) == 2 and set(sample[0]) == {
        "id",
        "first_name",
        "last_name",
        "home_store",
        "home_store_name",
    }


def test_bad_definition_is_a_400_with_the_rule_named(api_client_for, manager):
    response = api_client_for(manager).post(
        "/api/segments/",
        {
            "name": "Bad",
            "definition": {"rules": [{"field": "age", "min": 60, "max": 20}]},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "Rule 1" in str(response.json()["definition"])


def test_preview_counts_an_unsaved_definition(api_client_for, manager):
    consenting(4)
    response = api_client_for(manager).post(
        "/api/segments/preview/", {"definition": WOMEN, "n": 3}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["count"] == 4 and len(response.json()["sample"]) == 3
    bad = api_client_for(manager).post(
        "/api/segments/preview/",
        {"definition": {"rules": [{"field": "x"}]}},
        format="json",
    )
    assert bad.status_code == 400


# --- campaigns ------------------------------------------------------------------------


def test_manager_creates_launches_and_cancels(api_client_for, manager):
    consenting(10)
    segment = SegmentFactory(definition=WOMEN)
    client = api_client_for(manager)
    response = client.post(
        "/api/campaigns/",
        {
            "name": "Spring",
            "goal": "drive_to_store",
            "segment": segment.pk,
            "channel": "email",
            "control_share": "0.2",
            "status": "done",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    campaign_id = response.json()["id"]
    assert response.json()["status"] == "draft"
    variant = client.post(
        "/api/campaign-variants/",
        {
            "campaign": campaign_id,
            "label": "A",
            "subject": "Hi",
            "body": "Hello {first_name}",
        },
        format="json",
    )
    assert variant.status_code == 201, variant.json()
    launched = client.post(f"/api/campaigns/{campaign_id}/launch/")
    assert launched.status_code == 200, launched.json()
    assert launched.json()["status"] == "sending"
    campaign = Campaign.objects.get(pk=campaign_id)
    assert campaign.audience.count() == 10
    assert campaign.audience.filter(variant__isnull=True).count() == 2
    # Launched: no more edits, no second launch.
    patch = client.patch(f"/api/campaigns/{campaign_id}/", {"name": "x"}, format="json")
    assert patch.status_code == 400
    assert client.post(f"/api/campaigns/{campaign_id}/launch/").status_code == 400
    cancelled = client.post(f"/api/campaigns/{campaign_id}/cancel/")
    assert cancelled.json()["status"] == "cancelled"


def test_variant_with_unknown_field_is_rejected(api_client_for, manager):
    campaign = CampaignFactory()
    response = api_client_for(manager).post(
        "/api/campaign-variants/",
        {"campaign": campaign.pk, "label": "A", "subject": "x", "body": "{password}"},
        format="json",
    )
    assert response.status_code == 400
    assert "body" in response.json()


def test_results_and_csv(api_client_for, manager, sales):
    consenting(5)
    campaign = CampaignFactory(
        name='=HYPERLINK("http://evil","x")', segment=SegmentFactory(definition=WOMEN)
    )
    VariantFactory(campaign=campaign)
    assert (
        api_client_for(manager)
        .get(f"/api/campaigns/{campaign.pk}/results/")
        .status_code
        == 404
    )
    services.launch_campaign(campaign=campaign)
    services.refresh_campaign_results(campaign_id=campaign.pk)
    response = api_client_for(sales).get(f"/api/campaigns/{campaign.pk}/results/")
    assert response.status_code == 200
    assert response.json()["payload"]["audience"] == 5
    csv_response = api_client_for(sales).get(
        f"/api/campaigns/{campaign.pk}/results-csv/"
    )
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_response["Content-Disposition"].startswith("attachment;")
    body = b"".join(
        csv_response.streaming_content
        if csv_response.streaming
        else [csv_response.content]
    ).decode()
    assert "'=HYPERLINK(" in body and "\n=HYPERLINK" not in body


def test_preview_of_one_customer(api_client_for, manager):
    campaign = CampaignFactory()
    variant = VariantFactory(
        campaign=campaign, subject="Hi {first_name}", body="Come by"
    )
    customer = CustomerFactory(first_name="Lia")
    response = api_client_for(manager).get(
        f"/api/campaigns/{campaign.pk}/preview/?variant={variant.pk}&customer={customer.pk}"
    )
    assert response.json() == {"subject": "Hi Lia", "body": "Come by"}


# --- offer codes -------------------------------------------------------------------------


def test_generate_partner_and_switch_off_codes(api_client_for, manager):
    campaign = CampaignFactory()
    client = api_client_for(manager)
    generated = client.post(
        "/api/offer-codes/generate/",
        {"campaign": campaign.pk, "count": 5, "prefix": "SP"},
        format="json",
    )
    assert generated.status_code == 201 and len(generated.json()) == 5
    partner = client.post(
        "/api/offer-codes/",
        {
            "campaign": campaign.pk,
            "kind": "partner",
            "partner_name": "Ann",
            "code": "ann-10",
        },
        format="json",
    )
    assert partner.status_code == 201, partner.json()
    assert partner.json()["code"] == "ANN-10"
    no_name = client.post(
        "/api/offer-codes/", {"campaign": campaign.pk, "kind": "partner"}, format="json"
    )
    assert no_name.status_code == 400
    off = client.patch(
        f"/api/offer-codes/{partner.json()['id']}/",
        {"active": False, "code": "HACKED"},
        format="json",
    )
    assert off.status_code == 200
    assert off.json()["active"] is False and off.json()["code"] == "ANN-10"


# --- query budgets (PERF-01) ----------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context)


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/api/segments/", lambda: SegmentFactory()),
        ("/api/campaigns/", lambda: VariantFactory().campaign),
        ("/api/campaign-variants/", lambda: VariantFactory()),
        ("/api/offer-codes/", lambda: OfferCodeFactory()),
    ],
)
@pytest.mark.parametrize("role", ["manager", "sales"])
def test_list_endpoints_cost_the_same_for_1_and_50_rows(
    api_client_for, request, url, make, role
):
    client = api_client_for(request.getfixturevalue(role))
    make()
    # The first request loads the user's permissions (cached on the user after).
    client.get(url)
    one = _queries(client, url)
    for _ in range(49):
        make()
    fifty = _queries(client, url)
    assert fifty == one
    assert one <= 8

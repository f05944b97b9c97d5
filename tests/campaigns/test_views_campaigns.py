"""Campaign pages: create, variants (htmx), SMS meter, preview, launch, cancel."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign, Send, Variant
from crm.services.customers import set_consent
from tests.campaigns.factories import CampaignFactory, SegmentFactory, VariantFactory
from tests.crm.factories import CustomerFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def store(db):
    return StoreFactory(code="MI", name="Milano Centro")


@pytest.fixture
def consenting(store):
    """Ten customers with e-mail and SMS consent, one without any."""
    people = []
    for index in range(10):
        customer = CustomerFactory(
            first_name=f"Name{index}", home_store=store, phone=f"+39333000{index:04d}"
        )
        for channel in ("email", "sms"):
            set_consent(
                customer=customer, channel=channel, granted=True, source="store"
            )
        people.append(customer)
    CustomerFactory(first_name="Silent", home_store=store)
    return people


@pytest.fixture
def segment(consenting):
    return SegmentFactory(name="Everyone", definition={"match": "all", "rules": []})


def campaign_data(segment, **overrides):
    data = {
        "name": "Spring visit",
        "goal": "drive_to_store",
        "segment": segment.pk,
        "channel": "email",
        "offer_product": "",
        "offer_step": "",
        "store": "",
        "discount_percent": "10",
        "control_percent": "20",
        "schedule_at": "",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "attribution_window_days": "14",
    }
    data.update(overrides)
    return data


def test_the_create_page_shows_the_segment_size_trigger(manager_client, segment):
    response = manager_client.get(reverse("campaigns:campaign_create"))
    assert response.status_code == 200
    assert reverse("campaigns:segment_size") in response.content.decode()


def test_the_segment_size_fragment_counts_the_chosen_segment(manager_client, segment):
    response = manager_client.get(
        reverse("campaigns:segment_size"), {"segment": segment.pk}, headers=HX
    )
    assert response.status_code == 200
    assert "11 customers in this segment now" in response.content.decode()


def test_creating_a_campaign_stores_the_control_share_as_a_fraction(
    manager_client, segment
):
    response = manager_client.post(
        reverse("campaigns:campaign_create"), campaign_data(segment)
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "campaigns:campaign_detail", args=[campaign.pk]
    )
    assert str(campaign.control_share) == "0.200"
    assert campaign.status == Campaign.Status.DRAFT


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"goal": "upsell"}, "needs an offer"),
        ({"control_percent": "75"}, "less than or equal to 50"),
        ({"discount_percent": "150"}, "less than or equal to 100"),
        ({"quiet_hours_start": "21:00"}, "Give both ends of the quiet hours"),
        ({"offer_product": "NOPE"}, "No product has the SKU"),
        ({"attribution_window_days": "0"}, "greater than or equal to 1"),
    ],
)
def test_bad_campaign_settings_are_refused_with_a_clear_message(
    manager_client, segment, overrides, message
):
    response = manager_client.post(
        reverse("campaigns:campaign_create"), campaign_data(segment, **overrides)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Campaign.objects.exists()


def test_both_a_product_and_a_step_is_refused(manager_client, segment):
    from tests.ladder.factories import StepFactory

    product = ProductFactory(sku="MUG-1")
    step = StepFactory()
    response = manager_client.post(
        reverse("campaigns:campaign_create"),
        campaign_data(segment, offer_product="mug-1", offer_step=step.pk),
    )
    assert response.status_code == 400
    assert "not both" in response.content.decode()
    assert product.pk and not Campaign.objects.exists()


@pytest.fixture
def draft(segment):
    return CampaignFactory(name="Spring visit", segment=segment)


def test_the_draft_page_renders_the_editor(manager_client, draft):
    VariantFactory(campaign=draft, label="A")
    response = manager_client.get(reverse("campaigns:campaign_detail", args=[draft.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "status-draft" in body
    assert reverse("campaigns:variant_create", args=[draft.pk]) in body
    assert reverse("campaigns:campaign_launch", args=[draft.pk]) in body
    assert "{first_name}" in body  # the personalisation help
    # The live size loads after the page, from the segment size fragment.
    lazy = f'{reverse("campaigns:segment_size")}?segment={draft.segment_id}"'
    assert lazy in body and 'hx-trigger="load"' in body
    size = manager_client.get(
        reverse("campaigns:segment_size"), {"segment": draft.segment_id}, headers=HX
    )
    assert size.context["size"] == 11
    assert "11 customers in this segment now" in size.content.decode()


def test_an_sms_draft_loads_every_variants_cost_once_after_the_page(
    manager_client, segment
):
    campaign = CampaignFactory(segment=segment, channel="sms")
    first = VariantFactory(campaign=campaign, label="A", body="a" * 100)
    second = VariantFactory(campaign=campaign, label="B", body="It’s " + "a" * 100)
    page = manager_client.get(reverse("campaigns:campaign_detail", args=[campaign.pk]))
    body = page.content.decode()
    meter = reverse("campaigns:sms_meter", args=[campaign.pk])
    assert body.count(f'hx-get="{meter}?variants=stored" hx-trigger="load"') == 1
    # The page itself already shows each variant's parts and cost per message.
    assert f'id="sms-meter-{first.pk}"' in body and "GSM-7" in body
    assert page.context["variant_rows"][0]["sms"]["cost_total"] is None
    stored = manager_client.get(meter, {"variants": "stored"}, headers=HX)
    assert stored.status_code == 200
    text = stored.content.decode()
    # 10 customers consent to SMS; 10 % are the control: 9 messages each.
    assert text.count('hx-swap-oob="true"') == 2
    assert f'id="sms-meter-{first.pk}"' in text
    assert f'id="sms-meter-{second.pk}"' in text
    assert text.count("for 9 messages") == 2
    assert "UCS-2" in text


def test_editing_a_draft_saves_it(manager_client, draft, segment):
    response = manager_client.post(
        reverse("campaigns:campaign_detail", args=[draft.pk]),
        campaign_data(segment, name="Renamed", control_percent="0"),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.name == "Renamed" and draft.control_share == 0


def test_adding_a_variant_with_htmx_answers_with_the_variants_fragment(
    manager_client, draft
):
    response = manager_client.post(
        reverse("campaigns:variant_create", args=[draft.pk]),
        {
            "label": "a",
            "name": "Friendly",
            "subject": "Hi {first_name}",
            "body": "Dear {first_name}, see you at {store_name}.",
            "weight": "2",
        },
        headers=HX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<section id="variants"') and "<html" not in body
    assert "Variant added." in body
    variant = Variant.objects.get(campaign=draft)
    assert (variant.label, variant.weight) == ("A", 2)


def test_a_variant_with_an_unknown_field_is_refused_in_the_fragment(
    manager_client, draft
):
    response = manager_client.post(
        reverse("campaigns:variant_create", args=[draft.pk]),
        {"label": "A", "subject": "Hi", "body": "Hello {nickname}", "weight": "1"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Unknown personalisation field" in response.content.decode()
    assert not Variant.objects.exists()


def test_a_variant_without_htmx_redirects_back(manager_client, draft):
    response = manager_client.post(
        reverse("campaigns:variant_create", args=[draft.pk]),
        {"label": "A", "subject": "Hi", "body": "Hello", "weight": "1"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#variants")


def test_updating_and_removing_a_variant(manager_client, draft):
    variant = VariantFactory(campaign=draft, label="A", body="Old")
    response = manager_client.post(
        reverse("campaigns:variant_update", args=[variant.pk]),
        {"label": "A", "subject": "S", "body": "New text", "weight": "3"},
        headers=HX,
    )
    assert "Variant saved." in response.content.decode()
    variant.refresh_from_db()
    assert (variant.body, variant.weight) == ("New text", 3)
    response = manager_client.post(
        reverse("campaigns:variant_delete", args=[variant.pk]), headers=HX
    )
    assert "Variant removed." in response.content.decode()
    assert not Variant.objects.exists()


def test_the_sms_meter_shows_encoding_parts_and_cost(manager_client, segment):
    campaign = CampaignFactory(segment=segment, channel="sms")
    gsm = manager_client.get(
        reverse("campaigns:sms_meter", args=[campaign.pk]),
        {"body": "a" * 100},
        headers=HX,
    )
    assert gsm.status_code == 200
    info = gsm.context["sms"]["info"]
    assert info.encoding == "GSM-7" and info.segments == 1
    # 10 customers consent to SMS ("Silent" does not); 10 % are the control.
    assert gsm.context["sms"]["audience"] == 9
    assert "GSM-7" in gsm.content.decode()
    ucs2 = manager_client.get(
        reverse("campaigns:sms_meter", args=[campaign.pk]),
        {"body": "It’s " + "a" * 100},
        headers=HX,
    )
    assert ucs2.context["sms"]["info"].encoding == "UCS-2"
    assert ucs2.context["sms"]["info"].segments == 2
    too_long = manager_client.get(
        reverse("campaigns:sms_meter", args=[campaign.pk]),
        {"body": "a" * 600},
        headers=HX,
    )
    assert too_long.context["sms"]["too_long"]
    assert "Too long" in too_long.content.decode()


def test_an_sms_variant_body_carries_the_live_meter(manager_client, segment):
    campaign = CampaignFactory(segment=segment, channel="sms")
    page = manager_client.get(reverse("campaigns:campaign_detail", args=[campaign.pk]))
    body = page.content.decode()
    assert reverse("campaigns:sms_meter", args=[campaign.pk]) in body
    assert 'hx-trigger="input changed delay:400ms"' in body


def test_the_preview_renders_the_message_for_one_customer(
    manager_client, draft, consenting, store
):
    variant = VariantFactory(
        campaign=draft,
        label="A",
        subject="Hi {first_name}",
        body="See you at {store_name}",
    )
    customer = consenting[3]
    response = manager_client.get(
        reverse("campaigns:message_preview", args=[draft.pk]),
        {"variant": variant.pk, "customer": customer.pk},
        headers=HX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hi Name3" in body and "See you at Milano Centro" in body


def test_a_preview_that_cannot_be_filled_says_why(manager_client, draft, consenting):
    variant = VariantFactory(campaign=draft, label="A", body="Code {offer_code}")
    response = manager_client.get(
        reverse("campaigns:message_preview", args=[draft.pk]),
        {"variant": variant.pk, "customer": consenting[0].pk},
        headers=HX,
    )
    assert response.status_code == 200
    assert "{offer_code}" in response.content.decode()


def test_launch_needs_a_confirmation_then_freezes_the_audience(manager_client, draft):
    VariantFactory(campaign=draft, label="A")
    page = manager_client.get(reverse("campaigns:campaign_launch", args=[draft.pk]))
    assert page.status_code == 200
    assert page.context["reachable"] == 10  # "Silent" has no e-mail consent
    unconfirmed = manager_client.post(
        reverse("campaigns:campaign_launch", args=[draft.pk])
    )
    assert unconfirmed.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT
    response = manager_client.post(
        reverse("campaigns:campaign_launch", args=[draft.pk]), {"confirm": "yes"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status in (Campaign.Status.SENDING, Campaign.Status.DONE)
    assert draft.audience.count() == 10


def test_launching_without_a_variant_is_refused_with_the_reason(manager_client, draft):
    response = manager_client.post(
        reverse("campaigns:campaign_launch", args=[draft.pk]), {"confirm": "yes"}
    )
    assert response.status_code == 400
    assert "at least one message variant" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT and not draft.audience.exists()


def test_cancel_stops_a_scheduled_campaign(manager_client, segment):
    campaign = CampaignFactory(segment=segment, status=Campaign.Status.SCHEDULED)
    response = manager_client.post(
        reverse("campaigns:campaign_cancel", args=[campaign.pk]), follow=True
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    assert "status-cancelled" in response.content.decode()


def test_cancel_is_post_only(manager_client, segment):
    campaign = CampaignFactory(segment=segment, status=Campaign.Status.SCHEDULED)
    response = manager_client.get(
        reverse("campaigns:campaign_cancel", args=[campaign.pk])
    )
    assert response.status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED


def _sends(campaign, customers, statuses):
    from django.utils import timezone

    return Send.objects.bulk_create(
        Send(
            campaign=campaign,
            customer=customer,
            channel=campaign.channel,
            status=status,
            queued_at=timezone.now(),
        )
        for customer, status in zip(customers, statuses, strict=True)
    )


def test_progress_polls_while_sending_and_stops_when_done(
    manager_client, segment, consenting
):
    campaign = CampaignFactory(segment=segment, status=Campaign.Status.SENDING)
    _sends(campaign, consenting[:4], ["sent", "sent", "pending", "skipped"])
    response = manager_client.get(
        reverse("campaigns:send_progress", args=[campaign.pk]), headers=HX
    )
    body = response.content.decode()
    assert 'hx-trigger="every 5s"' in body and "<html" not in body
    progress = response.context["progress"]
    assert (progress.total, progress.settled, progress.sent) == (4, 3, 2)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DONE)
    done = manager_client.get(
        reverse("campaigns:send_progress", args=[campaign.pk]), headers=HX
    )
    assert "every 5s" not in done.content.decode()


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("campaigns:campaign_list"))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_the_campaign_list_costs_the_same_for_1_and_20_campaigns(
    request, client, segment, consenting, role
):
    client.force_login(request.getfixturevalue(role))
    first = CampaignFactory(segment=segment, status=Campaign.Status.SENDING)
    _sends(first, consenting[:2], ["sent", "pending"])
    one = _list_queries(client)
    for index in range(19):
        campaign = CampaignFactory(segment=SegmentFactory(name=f"S{index}"))
        _sends(campaign, consenting[:3], ["sent", "sent", "failed"])
    twenty = _list_queries(client)
    assert one == twenty
    assert twenty <= 12


def test_offer_codes_are_added_from_the_campaign_page(manager_client, draft):
    url = reverse("campaigns:offer_code_create", args=[draft.pk])
    random = manager_client.post(url, {"kind": "campaign", "code": ""})
    assert random.status_code == 302
    assert draft.offer_codes.count() == 1
    partner = manager_client.post(
        url,
        {"kind": "partner", "code": "giulia10", "partner_name": "Giulia (Instagram)"},
        follow=True,
    )
    assert "Offer code GIULIA10 added." in partner.content.decode()
    assert draft.offer_codes.get(code="GIULIA10").partner_name == "Giulia (Instagram)"
    # A variant using {offer_code} now previews with the campaign's code.
    page = manager_client.get(reverse("campaigns:campaign_detail", args=[draft.pk]))
    assert "GIULIA10" in page.content.decode()


def test_a_partner_code_needs_a_partner_and_a_free_code(manager_client, draft):
    url = reverse("campaigns:offer_code_create", args=[draft.pk])
    nameless = manager_client.post(url, {"kind": "partner", "code": "X1"}, follow=True)
    assert "Name the partner or influencer." in nameless.content.decode()
    manager_client.post(url, {"kind": "campaign", "code": "SPRING"})
    again = manager_client.post(
        url, {"kind": "campaign", "code": "spring"}, follow=True
    )
    assert "already in use" in again.content.decode()
    assert draft.offer_codes.count() == 1


def test_other_customers_refreshes_the_preview_choices(manager_client, draft):
    response = manager_client.get(
        reverse("campaigns:preview_customers", args=[draft.pk]), headers=HX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<option") == 10 and "<html" not in body


def _detail_queries(client, campaign) -> tuple[int, int]:
    """(the page's queries, the queries of the SMS costs it loads after)."""
    counts = []
    for url in (
        reverse("campaigns:campaign_detail", args=[campaign.pk]),
        reverse("campaigns:sms_meter", args=[campaign.pk]) + "?variants=stored",
    ):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers=HX)
        assert response.status_code == 200
        counts.append(len(queries))
    return counts[0], counts[1]


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_an_sms_draft_costs_the_same_for_1_and_20_variants_and_codes(
    request, client, segment, role
):
    from tests.campaigns.factories import OfferCodeFactory

    client.force_login(request.getfixturevalue(role))
    campaign = CampaignFactory(segment=segment, channel="sms")
    VariantFactory(campaign=campaign, label="A")
    OfferCodeFactory(campaign=campaign)
    client.get(reverse("campaigns:campaign_detail", args=[campaign.pk]))
    one = _detail_queries(client, campaign)
    for index in range(1, 20):
        VariantFactory(campaign=campaign, label=chr(ord("A") + index))
        OfferCodeFactory(campaign=campaign)
    for index in range(20):
        SegmentFactory(name=f"Other {index}")
        CustomerFactory(first_name=f"More{index}")
    twenty = _detail_queries(client, campaign)
    assert one == twenty
    # PERF-01 detail page: 15 at most (the session write's SAVEPOINTs
    # included); 12 for a manager (the form's three drop-downs), 9 for sales.
    assert twenty[0] <= 15 and twenty[1] <= 15, twenty

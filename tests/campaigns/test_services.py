"""Campaign services: segments, campaigns, variants, audiences, launch, codes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns import services
from campaigns.audience import CONTROL, group_sizes, split_audience
from campaigns.messages import template_fields
from campaigns.models import AudienceMember, Campaign, OfferCode
from crm.models import ChannelConsent, Customer
from tests.campaigns.factories import (
    CampaignFactory,
    OfferCodeFactory,
    SegmentFactory,
    VariantFactory,
)
from tests.crm.factories import (
    CustomerFactory,
    OrderFactory,
    ProductFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db

EVERYONE = {"match": "all", "rules": []}


def make_customers(n, *, consent_channel="email", gender="F"):
    """``n`` customers in one insert, each with consent on ``consent_channel``."""
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(external_id=f"B{i:06d}-{gender}", first_name=f"C{i}", gender=gender)
        for i in range(n)
    )
    if consent_channel:
        ChannelConsent.objects.bulk_create(
            ChannelConsent(
                customer=c,
                channel=consent_channel,
                granted=True,
                source="test",
                changed_at=now,
            )
            for c in customers
        )
    return customers


# --- pure split -------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 7, 100, 1001])
def test_group_sizes_are_exact_to_one(n):
    sizes = group_sizes(n, weights=[1, 3], control_share=0.2)
    assert sum(sizes) == n
    control, a, b = sizes
    assert abs(control - 0.2 * n) <= 0.5
    treated = n - control
    assert abs(a - treated / 4) < 1 and abs(b - treated * 3 / 4) < 1


def test_split_is_reproducible_and_order_independent():
    ids = list(range(1, 501))
    first = split_audience(ids, weights=[1, 1], control_share=0.1, seed=42)
    again = split_audience(
        list(reversed(ids)), weights=[1, 1], control_share=0.1, seed=42
    )
    other = split_audience(ids, weights=[1, 1], control_share=0.1, seed=43)
    assert (first == again).all()
    assert not (first == other).all()
    assert (first == CONTROL).sum() == 50


# --- segments ---------------------------------------------------------------


def test_segment_names_are_unique_case_insensitively(manager):
    services.create_segment(name="Lapsed", definition=EVERYONE, user=manager)
    with pytest.raises(ValidationError) as error:
        services.create_segment(name="lapsed", definition=EVERYONE)
    assert "name" in error.value.message_dict


def test_invalid_definition_writes_nothing():
    with pytest.raises(ValidationError) as error:
        services.create_segment(name="Bad", definition={"rules": [{"field": "nope"}]})
    assert "definition" in error.value.message_dict
    assert not services.Segment.objects.filter(name="Bad").exists()


def test_segment_used_by_a_campaign_cannot_be_deleted():
    campaign = CampaignFactory()
    with pytest.raises(ValidationError):
        services.delete_segment(segment=campaign.segment)


# --- campaigns --------------------------------------------------------------


def test_upsell_needs_an_offer_and_never_two():
    segment = SegmentFactory()
    with pytest.raises(ValidationError) as error:
        services.create_campaign(
            name="Up", goal="upsell", segment=segment, channel="email"
        )
    assert "offer_product" in error.value.message_dict
    from tests.ladder.factories import StepFactory

    with pytest.raises(ValidationError) as error:
        services.create_campaign(
            name="Up",
            goal="upsell",
            segment=segment,
            channel="email",
            offer_product=ProductFactory(),
            offer_step=StepFactory(),
        )
    assert "offer_step" in error.value.message_dict


def test_database_refuses_a_control_share_over_half_and_two_offers():
    segment = SegmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(
            name="x",
            goal="win_back",
            segment=segment,
            channel="email",
            control_share=Decimal("0.6"),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(name="y", goal="upsell", segment=segment, channel="sms")


def test_control_share_validation_message():
    with pytest.raises(ValidationError) as error:
        services.create_campaign(
            name="x",
            goal="win_back",
            segment=SegmentFactory(),
            channel="email",
            control_share=Decimal("0.7"),
        )
    assert "control_share" in error.value.message_dict


def test_only_a_draft_can_be_changed():
    campaign = CampaignFactory(status=Campaign.Status.SENDING)
    with pytest.raises(ValidationError, match="Only a draft"):
        services.update_campaign(campaign=campaign, name="Renamed")
    campaign.refresh_from_db()
    assert campaign.name != "Renamed"


# --- variants and messages ----------------------------------------------------


def test_template_whitelist_rejects_attribute_access_and_unknown_fields():
    assert template_fields("Hi {first_name}, {{literal}}") == {"first_name"}
    for bad in (
        "{first_name.__class__}",
        "{0}",
        "{offer_name[0]}",
        "{first_name!r}",
        "{x}",
    ):
        with pytest.raises(ValidationError):
            template_fields(bad)
    with pytest.raises(ValidationError, match="brace"):
        template_fields("Hi {first_name")


def test_save_variant_reports_bad_fields_per_text():
    campaign = CampaignFactory()
    with pytest.raises(ValidationError) as error:
        services.save_variant(
            campaign=campaign, label="a", subject="Hi {nickname}", body="{first_name}"
        )
    assert "subject" in error.value.message_dict
    variant = services.save_variant(
        campaign=campaign, label="a", subject="Hi", body="Dear {first_name}"
    )
    assert variant.label == "A"


def test_preview_fills_fields_from_customer_campaign_and_store():
    store = StoreFactory(code="MI", name="Milano Centro")
    product = ProductFactory(name="Pro laptop")
    campaign = CampaignFactory(
        goal="upsell", offer_product=product, discount_percent=Decimal("15.00")
    )
    OfferCodeFactory(campaign=campaign, code="SPRING15")
    variant = VariantFactory(
        campaign=campaign,
        subject="{first_name}, {discount} off",
        body="{offer_name} with {offer_code} at {store_name}. {{not a field}}",
    )
    customer = CustomerFactory(first_name="Anna", home_store=store)
    message = services.preview_message(variant=variant, customer=customer)
    assert message.subject == "Anna, 15% off"
    assert message.body == "Pro laptop with SPRING15 at Milano Centro. {not a field}"


def test_offer_code_field_without_a_code_blocks_the_launch():
    campaign = CampaignFactory(segment=SegmentFactory(definition=EVERYONE))
    make_customers(3)
    VariantFactory(campaign=campaign, body="Use {offer_code}")
    with pytest.raises(ValidationError, match="offer_code"):
        services.launch_campaign(campaign=campaign)
    assert not AudienceMember.objects.filter(campaign=campaign).exists()


# --- audience and launch --------------------------------------------------------


def test_freeze_splits_exactly_and_reproducibly():
    make_customers(1000)
    campaign = CampaignFactory(
        segment=SegmentFactory(definition=EVERYONE), control_share=Decimal("0.2")
    )
    a = VariantFactory(campaign=campaign, label="A", weight=1)
    b = VariantFactory(campaign=campaign, label="B", weight=3)
    assert services.freeze_audience(campaign=campaign) == 1000
    members = AudienceMember.objects.filter(campaign=campaign)
    assert members.filter(variant__isnull=True).count() == 200
    assert members.filter(variant=a).count() == 200
    assert members.filter(variant=b).count() == 600
    # Freezing again changes nothing; replaying the seed gives the same split.
    assert services.freeze_audience(campaign=campaign) == 1000
    campaign.refresh_from_db()
    ids = sorted(members.values_list("customer_id", flat=True))
    replay = split_audience(
        ids, weights=[1, 3], control_share=0.2, seed=campaign.audience_seed
    )
    stored = dict(members.values_list("customer_id", "variant_id"))
    expected = {
        cid: (None if g == CONTROL else [a.pk, b.pk][g])
        for cid, g in zip(ids, replay, strict=True)
    }
    assert stored == expected


def test_email_audience_excludes_customers_without_email_consent():
    emailable = make_customers(3, consent_channel="email")
    texting = make_customers(2, consent_channel="sms", gender="M")
    make_customers(2, consent_channel=None, gender="X")  # imported, no evidence
    email = CampaignFactory(
        segment=SegmentFactory(definition=EVERYONE), control_share=0
    )
    VariantFactory(campaign=email)
    services.launch_campaign(campaign=email)
    assert set(email.audience.values_list("customer_id", flat=True)) == {
        c.pk for c in emailable
    }
    sms = CampaignFactory(
        segment=SegmentFactory(definition=EVERYONE), channel="sms", control_share=0
    )
    VariantFactory(campaign=sms, subject="")
    services.launch_campaign(campaign=sms)
    assert set(sms.audience.values_list("customer_id", flat=True)) == {
        c.pk for c in texting
    }
    counter = CampaignFactory(
        segment=SegmentFactory(definition=EVERYONE), channel="in_store", control_share=0
    )
    VariantFactory(campaign=counter)
    services.launch_campaign(campaign=counter)
    assert counter.audience.count() == 7


def test_launch_moves_to_sending_or_scheduled():
    make_customers(4)
    now = timezone.now()
    soon = CampaignFactory(segment=SegmentFactory(definition=EVERYONE))
    VariantFactory(campaign=soon)
    later = CampaignFactory(
        segment=SegmentFactory(definition=EVERYONE),
        schedule_at=now + dt.timedelta(days=2),
    )
    VariantFactory(campaign=later)
    assert services.launch_campaign(campaign=soon, now=now).status == "sending"
    launched = services.launch_campaign(campaign=later, now=now)
    assert launched.status == "scheduled" and launched.launched_at == now
    with pytest.raises(ValidationError, match="Only a draft"):
        services.launch_campaign(campaign=soon)


def test_launch_refuses_empty_audience_and_missing_variants():
    campaign = CampaignFactory(
        segment=SegmentFactory(
            definition={"rules": [{"field": "gender", "values": ["M"]}]}
        )
    )
    with pytest.raises(ValidationError, match="variant"):
        services.launch_campaign(campaign=campaign)
    VariantFactory(campaign=campaign)
    make_customers(2)  # women only
    with pytest.raises(ValidationError, match="Nobody"):
        services.launch_campaign(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == "draft" and campaign.audience_frozen_at is None


def test_cancel_and_finish():
    campaign = CampaignFactory(status=Campaign.Status.SENDING)
    assert services.cancel_campaign(campaign=campaign).status == "cancelled"
    with pytest.raises(ValidationError):
        services.cancel_campaign(campaign=campaign)
    other = CampaignFactory(status=Campaign.Status.SENDING)
    assert services.finish_campaign(campaign=other).status == "done"
    assert services.finish_campaign(campaign=other).status == "done"


# --- offer codes ------------------------------------------------------------------


def test_generated_codes_are_unique_and_readable():
    campaign = CampaignFactory()
    codes = services.generate_offer_codes(campaign=campaign, count=200, prefix="spr-")
    values = [c.code for c in codes]
    assert len(values) == len(set(values)) == 200
    assert all(v.startswith("SPR-") and not set(v[4:]) & set("01OIL") for v in values)


def test_partner_code_needs_a_partner_and_a_free_code():
    campaign = CampaignFactory()
    with pytest.raises(ValidationError):
        services.create_partner_code(campaign=campaign, partner_name=" ")
    code = services.create_partner_code(
        campaign=campaign, partner_name="Giulia's blog", code="giulia10"
    )
    assert code.code == "GIULIA10" and code.kind == OfferCode.Kind.PARTNER
    with pytest.raises(ValidationError, match="already in use"):
        services.create_partner_code(
            campaign=campaign, partner_name="x", code="Giulia10"
        )


def test_redeem_is_idempotent_and_one_code_per_order():
    campaign = CampaignFactory(launched_at=timezone.now(), status="sending")
    OfferCodeFactory(campaign=campaign, code="AAAA1")
    OfferCodeFactory(campaign=campaign, code="BBBB2")
    order = OrderFactory()
    first = services.redeem_offer_code(order=order, code="aaaa1")
    assert services.redeem_offer_code(order=order, code="AAAA1").pk == first.pk
    with pytest.raises(ValidationError, match="already has"):
        services.redeem_offer_code(order=order, code="BBBB2")
    with pytest.raises(ValidationError, match="not valid"):
        services.redeem_offer_code(order=OrderFactory(), code="ZZZZ9")


def test_codes_of_a_draft_campaign_are_not_redeemable():
    OfferCodeFactory(campaign=CampaignFactory(), code="EARLY1")
    with pytest.raises(ValidationError):
        services.redeem_offer_code(order=OrderFactory(), code="EARLY1")

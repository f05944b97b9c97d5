"""Writes of the campaigns app: segments, campaigns, variants, audiences, codes.

Every function here is the only way its rows change; views, the API, the
demo and tasks call these. Invalid input raises ``ValidationError`` (a
dict keyed by field where a field is to blame) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import messages
from campaigns.audience import CONTROL, split_audience
from campaigns.models import (
    CAMPAIGN_SETTINGS,
    AudienceMember,
    Campaign,
    CampaignResult,
    OfferCode,
    OfferRedemption,
    Segment,
    Variant,
)
from campaigns.segments import segment_customer_ids, validate_definition
from crm.models import Customer, Order
from crm.selectors import list_marketable_customers
from ladder.models import CustomerLadderPosition, Ladder, Step

#: Channels that reach a customer directly, so marketing consent is required.
CONSENT_CHANNELS = (
    Campaign.Channel.EMAIL,
    Campaign.Channel.SMS,
    Campaign.Channel.PHONE,
)
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,39}$")
# No 0/O, 1/I/L: codes are read aloud at a till and typed from a phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
BULK_BATCH = 5000
ANALYZE_AFTER = 10_000


# --- Segments -----------------------------------------------------------------


def _clean_segment(
    *, name: str, definition: Any, segment_id: int | None
) -> tuple[str, dict]:
    errors: dict[str, list] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the segment a name.")]
    elif Segment.objects.filter(name__iexact=name).exclude(pk=segment_id).exists():
        errors["name"] = [_("A segment with this name already exists.")]
    try:
        definition = validate_definition(definition, segment_id=segment_id)
    except ValidationError as error:
        errors["definition"] = error.messages
    if errors:
        raise ValidationError(errors)
    return name, definition


@transaction.atomic
def create_segment(
    *, name: str, definition: Any, description: str = "", user=None
) -> Segment:
    """Save a new segment after validating its definition."""
    name, definition = _clean_segment(name=name, definition=definition, segment_id=None)
    return Segment.objects.create(
        name=name,
        description=description or "",
        definition=definition,
        created_by=user if user is not None and user.is_authenticated else None,
    )


@transaction.atomic
def update_segment(
    *,
    segment: Segment,
    name: str | None = None,
    description: str | None = None,
    definition: Any = None,
) -> Segment:
    """Change a segment. Audiences already frozen from it do not move."""
    name, definition = _clean_segment(
        name=segment.name if name is None else name,
        definition=segment.definition if definition is None else definition,
        segment_id=segment.pk,
    )
    segment.name = name
    segment.definition = definition
    if description is not None:
        segment.description = description
    segment.save()
    return segment


@transaction.atomic
def delete_segment(*, segment: Segment) -> None:
    """Delete a segment no campaign uses."""
    if segment.campaigns.exists():
        raise ValidationError(
            _("This segment is used by a campaign, so it cannot be deleted.")
        )
    segment.delete()


# --- Campaigns ----------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _clean_campaign(values: dict[str, Any]) -> None:
    """Field checks that give a clear message before the database CHECKs would."""
    errors: dict[str, list] = {}
    if not (values.get("name") or "").strip():
        errors["name"] = [_("Give the campaign a name.")]
    if values.get("goal") not in Campaign.Goal.values:
        errors["goal"] = [_("Choose a goal.")]
    if values.get("channel") not in Campaign.Channel.values:
        errors["channel"] = [_("Choose a channel.")]
    if values.get("segment") is None:
        errors["segment"] = [_("Choose a segment.")]
    product, step = values.get("offer_product"), values.get("offer_step")
    if product is not None and step is not None:
        errors["offer_step"] = [_("Offer a product or a ladder step, not both.")]
    elif (
        values.get("goal") in (Campaign.Goal.UPSELL, Campaign.Goal.CROSS_SELL)
        and product is None
        and step is None
    ):
        errors["offer_product"] = [
            _("An upsell or cross-sell campaign needs an offer: a product or a step.")
        ]
    discount = _decimal(values.get("discount_percent", 0))
    if discount is None or not 0 <= discount <= 100:
        errors["discount_percent"] = [_("The discount is a percentage from 0 to 100.")]
    share = _decimal(values.get("control_share", 0))
    if share is None or not 0 <= share <= Decimal("0.5"):
        errors["control_share"] = [_("The control share is between 0 and 0.5.")]
    window = values.get("attribution_window_days")
    if not isinstance(window, int) or not 1 <= window <= 365:
        errors["attribution_window_days"] = [
            _("The attribution window is from 1 to 365 days.")
        ]
    start, end = values.get("quiet_hours_start"), values.get("quiet_hours_end")
    if (start is None) != (end is None):
        errors["quiet_hours_end"] = [
            _("Give both ends of the quiet hours, or neither.")
        ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_campaign(*, user=None, **fields: Any) -> Campaign:
    """Create a draft campaign (``CAMPAIGN_SETTINGS`` are accepted)."""
    unknown = set(fields) - set(CAMPAIGN_SETTINGS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    values = {
        "discount_percent": Decimal("0"),
        "control_share": Decimal("0.100"),
        "attribution_window_days": 14,
        **fields,
    }
    _clean_campaign(values)
    return Campaign.objects.create(
        created_by=user if user is not None and user.is_authenticated else None,
        **values,
    )


def _require_draft(campaign: Campaign) -> None:
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError(
            _("Only a draft campaign can be changed; this one is %(status)s.")
            % {"status": campaign.get_status_display()}
        )


@transaction.atomic
def update_campaign(*, campaign: Campaign, **fields: Any) -> Campaign:
    """Change a draft campaign; launched ones are frozen."""
    unknown = set(fields) - set(CAMPAIGN_SETTINGS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require_draft(campaign)
    values = {name: getattr(campaign, name) for name in CAMPAIGN_SETTINGS}
    values.update(fields)
    _clean_campaign(values)
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.save()
    return campaign


@transaction.atomic
def delete_campaign(*, campaign: Campaign) -> None:
    """Delete a campaign that was never launched."""
    if campaign.launched_at is not None or campaign.audience.exists():
        raise ValidationError(
            _("A launched campaign is kept for its results; cancel it instead.")
        )
    campaign.delete()


# --- Variants and messages ----------------------------------------------------


@transaction.atomic
def save_variant(
    *,
    campaign: Campaign,
    label: str,
    body: str,
    subject: str = "",
    name: str = "",
    weight: int = 1,
    variant: Variant | None = None,
) -> Variant:
    """Create (or, with ``variant``, change) a message variant of a draft campaign.

    The texts must use known personalisation fields only.
    """
    _require_draft(campaign)
    errors: dict[str, list] = {}
    label = (label or "").strip().upper()
    if not label or len(label) > 8:
        errors["label"] = [_("Give the variant a short label (A, B, ...).")]
    elif (
        campaign.variants.filter(label=label)
        .exclude(pk=variant.pk if variant else None)
        .exists()
    ):
        errors["label"] = [
            _("This campaign already has a variant %(label)s.") % {"label": label}
        ]
    if not (body or "").strip():
        errors["body"] = [_("Write the message.")]
    for field, text in (("subject", subject), ("body", body)):
        try:
            messages.template_fields(text)
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.messages)
    if (
        campaign.channel == Campaign.Channel.EMAIL
        and not (subject or "").strip()
        and "subject" not in errors
    ):
        errors["subject"] = [_("An e-mail needs a subject.")]
    if not isinstance(weight, int) or not 1 <= weight <= 100:
        errors["weight"] = [_("The weight is a whole number from 1 to 100.")]
    if errors:
        raise ValidationError(errors)
    if variant is None:
        variant = Variant(campaign=campaign)
    variant.label = label
    variant.name = name or ""
    variant.subject = subject or ""
    variant.body = body
    variant.weight = weight
    variant.save()
    return variant


@transaction.atomic
def delete_variant(*, variant: Variant) -> None:
    """Remove a variant from a draft campaign."""
    _require_draft(variant.campaign)
    variant.delete()


def _offer_name(campaign: Campaign) -> str:
    if campaign.offer_step_id is not None:
        return campaign.offer_step.name
    if campaign.offer_product_id is not None:
        return campaign.offer_product.name
    return ""


def campaign_message_values(campaign: Campaign) -> dict[str, str]:
    """The campaign-level personalisation values (offer, code, discount, store)."""
    code = (
        campaign.offer_codes.filter(kind=OfferCode.Kind.CAMPAIGN, active=True)
        .order_by("created_at", "pk")
        .values_list("code", flat=True)
        .first()
    )
    return {
        "offer_name": _offer_name(campaign),
        "offer_code": code or "",
        "discount": messages.format_discount(campaign.discount_percent),
        "store_name": campaign.store.name if campaign.store_id else "",
    }


def customer_message_values(
    campaign_values: dict[str, str], customer: Customer
) -> dict[str, str]:
    """Campaign values plus one customer's (home store when the campaign has none).

    Pass a customer loaded with ``select_related("home_store")``.
    """
    values = dict(campaign_values)
    values["first_name"] = customer.first_name
    values["last_name"] = customer.last_name
    if not values.get("store_name") and customer.home_store_id:
        values["store_name"] = customer.home_store.name
    return values


def preview_message(
    *, variant: Variant, customer: Customer
) -> messages.RenderedMessage:
    """The message ``customer`` would get from ``variant`` (ValidationError if it
    cannot be filled, e.g. ``{offer_code}`` without a code)."""
    values = customer_message_values(
        campaign_message_values(variant.campaign), customer
    )
    return messages.render_message(
        subject=variant.subject, body=variant.body, values=values
    )


def check_variants_can_render(campaign: Campaign) -> None:
    """Every variant's fields can be filled for this campaign (store per customer)."""
    values = campaign_message_values(campaign)
    # The store can come from each customer's home store: any non-empty stand-in.
    values = {**values, "store_name": values["store_name"] or "-", "first_name": "-"}
    values["last_name"] = "-"
    problems = []
    for variant in campaign.variants.all():
        try:
            messages.render_message(
                subject=variant.subject, body=variant.body, values=values
            )
        except ValidationError as error:
            problems.extend(f"{variant.label}: {message}" for message in error.messages)
    if problems:
        raise ValidationError(problems)


# --- Audience, launch, cancel -------------------------------------------------


def _snapshot_ladder_id(campaign: Campaign) -> int | None:
    """The ladder whose step is recorded per member (for results by step)."""
    if campaign.offer_step_id is not None:
        return campaign.offer_step.ladder_id
    if campaign.offer_product_id is not None:
        ladder_id = (
            Step.objects.filter(product_id=campaign.offer_product_id)
            .order_by("ladder__name")
            .values_list("ladder_id", flat=True)
            .first()
        )
        if ladder_id is not None:
            return ladder_id
    return (
        Ladder.objects.filter(active=True)
        .order_by("name")
        .values_list("pk", flat=True)
        .first()
    )


def eligible_audience_ids(campaign: Campaign) -> list[int]:
    """Sorted ids of the customers the campaign would reach now.

    The segment, intersected with consent on the campaign's channel for
    channels that reach the customer directly (PRIV-01: e-mail, SMS, phone).
    In-store prompts and checkout offers are shown to a customer who is
    there, so they need no marketing consent.
    """
    ids = segment_customer_ids(campaign.segment.definition)
    if campaign.channel in CONSENT_CHANNELS:
        consenting = set(
            list_marketable_customers(channel=campaign.channel).values_list(
                "pk", flat=True
            )
        )
        ids = [pk for pk in ids if pk in consenting]
    return ids


@transaction.atomic
def freeze_audience(*, campaign: Campaign, now: dt.datetime | None = None) -> int:
    """Resolve the segment once and record who is in which group.

    Variants get the treated share in proportion to their weights; the
    control group (``variant`` null) is ``control_share`` of the audience,
    exact to one customer. The split is random but seeded
    (``campaign.audience_seed``, drawn once and stored), so it can be
    replayed. Idempotent: a frozen audience is never rewritten; its size is
    returned.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.audience_frozen_at is not None:
        return campaign.audience.count()
    variants = list(campaign.variants.order_by("label"))
    if not variants:
        raise ValidationError(_("Write at least one message variant first."))
    now = now or timezone.now()
    ids = eligible_audience_ids(campaign)
    if campaign.audience_seed is None:
        campaign.audience_seed = secrets.randbits(62)
    groups = split_audience(
        ids,
        weights=[variant.weight for variant in variants],
        control_share=float(campaign.control_share),
        seed=campaign.audience_seed,
    )
    ladder_id = _snapshot_ladder_id(campaign)
    steps: dict[int, int] = {}
    if ladder_id is not None:
        steps = dict(
            CustomerLadderPosition.objects.filter(ladder_id=ladder_id).values_list(
                "customer_id", "step_id"
            )
        )
    customer_ids = sorted(ids)
    variant_ids = [
        None if group == CONTROL else variants[group].pk for group in groups.tolist()
    ]
    step_ids = [steps.get(customer_id) for customer_id in customer_ids]
    _insert_members(
        campaign_id=campaign.pk,
        customer_ids=customer_ids,
        variant_ids=variant_ids,
        step_ids=step_ids,
        now=now,
    )
    campaign.audience_frozen_at = now
    campaign.save(update_fields=["audience_seed", "audience_frozen_at", "updated_at"])
    return len(customer_ids)


def _insert_members(
    *,
    campaign_id: int,
    customer_ids: list[int],
    variant_ids: list[int | None],
    step_ids: list[int | None],
    now: dt.datetime,
) -> None:
    """Write the audience rows: one INSERT from arrays on PostgreSQL.

    ``bulk_create`` builds a model instance per member, which costs seconds
    for a 100,000-customer audience; unnesting three arrays costs a fraction.
    """
    if connection.vendor != "postgresql":
        AudienceMember.objects.bulk_create(
            (
                AudienceMember(
                    campaign_id=campaign_id,
                    customer_id=customer_id,
                    variant_id=variant_id,
                    ladder_step_id=step_id,
                    assigned_at=now,
                )
                for customer_id, variant_id, step_id in zip(
                    customer_ids, variant_ids, step_ids, strict=True
                )
            ),
            batch_size=BULK_BATCH,
        )
        return
    table = AudienceMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "
            "(campaign_id, customer_id, variant_id, ladder_step_id, assigned_at) "
            "SELECT %s, t.customer_id, t.variant_id, t.step_id, %s "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) "
            "AS t(customer_id, variant_id, step_id)",
            [campaign_id, now, customer_ids, variant_ids, step_ids],
        )
        if len(customer_ids) >= ANALYZE_AFTER:
            # The results query joins on this table right away; stale
            # statistics would make the planner loop over every member.
            cursor.execute(f"ANALYZE {table}")


def queue_sends(campaign: Campaign) -> None:
    """Hand the frozen audience to the sending pipeline.

    Called by ``launch_campaign`` inside its transaction, after the audience
    is frozen and the status set: writes one pending Send per treated member
    and queues them once the launch commits (see campaigns.sending.services).
    """
    from campaigns.sending.services import queue_sends as write_and_queue

    write_and_queue(campaign)


@transaction.atomic
def launch_campaign(
    *, campaign: Campaign, user=None, now: dt.datetime | None = None
) -> Campaign:
    """Freeze the audience and start the campaign: draft → scheduled or sending.

    Scheduled when ``schedule_at`` is in the future, else sending at once.
    Refused (nothing written) when the campaign is not a draft, has no
    variant, a variant cannot be filled, or the audience is empty.
    """
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError(
            _("Only a draft campaign can be launched; this one is %(status)s.")
            % {"status": campaign.get_status_display()}
        )
    if not campaign.variants.exists():
        raise ValidationError(_("Write at least one message variant first."))
    check_variants_can_render(campaign)
    size = freeze_audience(campaign=campaign, now=now)
    if size == 0:
        raise ValidationError(
            _(
                "Nobody in the segment can be reached on this channel: nothing to launch."
            )
        )
    campaign.refresh_from_db()
    scheduled = campaign.schedule_at is not None and campaign.schedule_at > now
    campaign.status = (
        Campaign.Status.SCHEDULED if scheduled else Campaign.Status.SENDING
    )
    campaign.launched_at = now
    campaign.save(update_fields=["status", "launched_at", "updated_at"])
    queue_sends(campaign)
    return campaign


@transaction.atomic
def cancel_campaign(
    *, campaign: Campaign, user=None, now: dt.datetime | None = None
) -> Campaign:
    """Stop a campaign that is not done: no further message goes out.

    Messages already handed off stay sent; their results still count.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status in (Campaign.Status.DONE, Campaign.Status.CANCELLED):
        raise ValidationError(
            _("This campaign is %(status)s and cannot be cancelled.")
            % {"status": campaign.get_status_display()}
        )
    campaign.status = Campaign.Status.CANCELLED
    campaign.cancelled_at = now or timezone.now()
    campaign.save(update_fields=["status", "cancelled_at", "updated_at"])
    return campaign


@transaction.atomic
def finish_campaign(*, campaign: Campaign, now: dt.datetime | None = None) -> Campaign:
    """Mark a sending campaign done (called when its last send is settled).

    Idempotent: a done or cancelled campaign is returned unchanged.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status in (Campaign.Status.SCHEDULED, Campaign.Status.SENDING):
        campaign.status = Campaign.Status.DONE
        campaign.finished_at = now or timezone.now()
        campaign.save(update_fields=["status", "finished_at", "updated_at"])
    return campaign


# --- Offer codes --------------------------------------------------------------


def normalise_code(code: str) -> str:
    """Upper-case and trimmed; ``ValidationError`` when it is not a usable code."""
    code = (code or "").strip().upper()
    if not CODE_PATTERN.match(code):
        raise ValidationError(
            {
                "code": [
                    _(
                        "A code is 4 to 40 letters, digits or dashes, starting with a letter or digit."
                    )
                ]
            }
        )
    return code


def _clean_code_discount(discount_percent: Any) -> Decimal | None:
    if discount_percent in (None, ""):
        return None
    value = _decimal(discount_percent)
    if value is None or not 0 <= value <= 100:
        raise ValidationError(
            {"discount_percent": [_("The discount is a percentage from 0 to 100.")]}
        )
    return value


def _random_code(prefix: str) -> str:
    return prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@transaction.atomic
def generate_offer_codes(
    *,
    campaign: Campaign,
    count: int = 1,
    prefix: str = "",
    discount_percent: Any = None,
) -> list[OfferCode]:
    """Create ``count`` (1–10,000) new random campaign codes, all unique.

    Codes come from an alphabet without look-alike characters; a rare clash
    with an existing code is simply drawn again.
    """
    if not isinstance(count, int) or not 1 <= count <= 10_000:
        raise ValidationError({"count": [_("Generate from 1 to 10,000 codes.")]})
    prefix = (prefix or "").strip().upper()
    if prefix and not re.fullmatch(r"[A-Z0-9]{1,12}-?", prefix):
        raise ValidationError(
            {
                "prefix": [
                    _(
                        "A prefix is up to 12 letters or digits, optionally ending in a dash."
                    )
                ]
            }
        )
    discount = _clean_code_discount(discount_percent)
    created: list[str] = []
    for _attempt in range(10):
        wanted = count - len(created)
        if wanted == 0:
            break
        candidates = {_random_code(prefix) for _ in range(wanted)}
        taken = set(
            OfferCode.objects.filter(code__in=candidates).values_list("code", flat=True)
        )
        fresh = sorted(candidates - taken)
        OfferCode.objects.bulk_create(
            [
                OfferCode(
                    code=code,
                    campaign=campaign,
                    kind=OfferCode.Kind.CAMPAIGN,
                    discount_percent=discount,
                )
                for code in fresh
            ],
            batch_size=BULK_BATCH,
        )
        created.extend(fresh)
    return list(OfferCode.objects.filter(code__in=created).order_by("code"))


@transaction.atomic
def create_offer_code(
    *,
    campaign: Campaign,
    code: str | None = None,
    kind: str = OfferCode.Kind.CAMPAIGN,
    partner_name: str = "",
    discount_percent: Any = None,
) -> OfferCode:
    """One offer code: given (normalised) or drawn at random.

    A partner code names its partner or influencer; their orders are
    attributed to them in the results.
    """
    if kind not in OfferCode.Kind.values:
        raise ValidationError({"kind": [_("Choose campaign or partner.")]})
    partner_name = (partner_name or "").strip()
    if kind == OfferCode.Kind.PARTNER and not partner_name:
        raise ValidationError({"partner_name": [_("Name the partner or influencer.")]})
    if kind == OfferCode.Kind.CAMPAIGN:
        partner_name = ""
    discount = _clean_code_discount(discount_percent)
    code = normalise_code(code) if code else _random_code("")
    if OfferCode.objects.filter(code=code).exists():
        raise ValidationError({"code": [_("This code is already in use.")]})
    try:
        with transaction.atomic():
            return OfferCode.objects.create(
                code=code,
                campaign=campaign,
                kind=kind,
                partner_name=partner_name[:120],
                discount_percent=discount,
            )
    except IntegrityError as error:
        raise ValidationError({"code": [_("This code is already in use.")]}) from error


def create_partner_code(
    *,
    campaign: Campaign,
    partner_name: str,
    code: str | None = None,
    discount_percent: Any = None,
) -> OfferCode:
    """A code handed to a partner or influencer (see ``create_offer_code``)."""
    return create_offer_code(
        campaign=campaign,
        code=code,
        kind=OfferCode.Kind.PARTNER,
        partner_name=partner_name,
        discount_percent=discount_percent,
    )


@transaction.atomic
def delete_offer_code(*, offer_code: OfferCode) -> None:
    """Delete a code never redeemed (redeemed ones are switched off instead)."""
    if offer_code.redemptions.exists():
        raise ValidationError(
            _("This code has been redeemed; switch it off instead of deleting it.")
        )
    offer_code.delete()


@transaction.atomic
def set_offer_code_active(*, offer_code: OfferCode, active: bool) -> OfferCode:
    """Switch a code on or off (redemptions already made keep counting)."""
    offer_code.active = active
    offer_code.save(update_fields=["active"])
    return offer_code


@transaction.atomic
def redeem_offer_code(
    *, order: Order, code: str, now: dt.datetime | None = None
) -> OfferRedemption:
    """Record that ``code`` was quoted on ``order`` (its sales go to the code's campaign).

    Idempotent for the same code; an order carries at most one code, and
    only an active code of a launched, not cancelled campaign is accepted.
    """
    code = normalise_code(code)
    offer_code = (
        OfferCode.objects.select_related("campaign")
        .filter(code=code, active=True)
        .first()
    )
    if offer_code is None or offer_code.campaign.launched_at is None:
        raise ValidationError({"code": [_("This offer code is not valid.")]})
    if offer_code.campaign.status == Campaign.Status.CANCELLED:
        raise ValidationError({"code": [_("This offer has been withdrawn.")]})
    existing = (
        OfferRedemption.objects.filter(order=order).select_related("offer_code").first()
    )
    if existing is not None:
        if existing.offer_code_id == offer_code.pk:
            return existing
        raise ValidationError({"code": [_("This order already has an offer code.")]})
    return OfferRedemption.objects.create(
        order=order, offer_code=offer_code, redeemed_at=now or order.placed_at
    )


# --- Results ------------------------------------------------------------------


@transaction.atomic
def refresh_campaign_results(
    *, campaign_id: int, now: dt.datetime | None = None
) -> CampaignResult | None:
    """Recompute one campaign's results and store them in its cache row.

    Idempotent (the row is upserted). A campaign never launched, or gone,
    has no results: None.
    """
    from campaigns.queries import compute_campaign_results

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.launched_at is None:
        return None
    now = now or timezone.now()
    payload = compute_campaign_results(campaign=campaign, now=now)
    result, _created = CampaignResult.objects.update_or_create(
        campaign=campaign, defaults={"payload": payload, "computed_at": now}
    )
    return result


def campaigns_to_refresh(*, now: dt.datetime | None = None) -> Iterable[int]:
    """Launched campaigns whose attribution window is open or closed recently.

    A window that closed more than 30 days ago cannot change unless returns
    arrive late, so those campaigns are left alone by the periodic job.
    """
    now = now or timezone.now()
    ids = []
    for pk, launched_at, window in Campaign.objects.filter(
        launched_at__isnull=False
    ).values_list("pk", "launched_at", "attribution_window_days"):
        if launched_at + dt.timedelta(days=window + 30) >= now:
            ids.append(pk)
    return ids

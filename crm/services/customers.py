"""Customer and consent writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm.hooks import app_hooks
from crm.models import (
    Channel,
    ChannelConsent,
    ConsentEvent,
    Customer,
    Interaction,
    Suppression,
)
from crm.models.suppression import contact_for_channel
from crm.validators import (
    normalize_email,
    normalize_phone,
    validate_birth_date,
    validate_coordinates,
)

MARKETING_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE)


def clean_customer_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Normalise contact fields and validate the rest; raises ValidationError.

    Only keys present in ``fields`` are touched, so partial updates work.
    """
    cleaned = dict(fields)
    errors: dict[str, list[str]] = {}
    for key, value in cleaned.items():
        if isinstance(value, str) and "\x00" in value:
            errors[key] = ["Text must not contain NUL characters."]
    for key, normaliser in (("email", normalize_email), ("phone", normalize_phone)):
        if key in cleaned:
            try:
                cleaned[key] = normaliser(cleaned[key] or "")
            except ValidationError as exc:
                errors[key] = exc.messages
    if "birth_date" in cleaned:
        try:
            validate_birth_date(cleaned["birth_date"])
        except ValidationError as exc:
            errors["birth_date"] = exc.messages
    if "latitude" in cleaned or "longitude" in cleaned:
        try:
            validate_coordinates(cleaned.get("latitude"), cleaned.get("longitude"))
        except ValidationError as exc:
            errors["latitude"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def create_customer(
    *, actor: AbstractBaseUser | None = None, **fields: Any
) -> Customer:
    """Create a prospect (or customer) after normalising contact fields."""
    cleaned = clean_customer_fields(fields)
    cleaned.setdefault("acquisition_source", "manual" if actor else "")
    customer = Customer(**cleaned)
    customer.full_clean(validate_unique=True, validate_constraints=True)
    customer.save()
    return customer


@transaction.atomic
def update_customer(*, customer: Customer, **fields: Any) -> Customer:
    """Update the given fields of a customer after normalising them."""
    cleaned = clean_customer_fields(fields)
    for key, value in cleaned.items():
        setattr(customer, key, value)
    customer.full_clean(validate_unique=True, validate_constraints=True)
    customer.save()
    return customer


def mark_first_purchase(*, customer: Customer, placed_at: dt.datetime) -> None:
    """A prospect's first order makes them a customer; earlier dates win."""
    if customer.status == Customer.Status.CUSTOMER and (
        customer.became_customer_at is not None
        and customer.became_customer_at <= placed_at
    ):
        return
    customer.status = Customer.Status.CUSTOMER
    if customer.became_customer_at is None or placed_at < customer.became_customer_at:
        customer.became_customer_at = placed_at
    customer.save(update_fields=["status", "became_customer_at", "updated_at"])


@transaction.atomic
def set_consent(
    *,
    customer: Customer,
    channel: str,
    granted: bool,
    source: str,
    actor: AbstractBaseUser | None = None,
    legal_basis: str = ChannelConsent.LegalBasis.CONSENT,
    wording_version: str = "",
    when: dt.datetime | None = None,
) -> ChannelConsent:
    """Grant or withdraw consent on one channel, appending the evidence.

    Idempotent: repeating the current state writes no new event. The row is
    locked so two concurrent changes serialise and the last one wins.
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": f"Unknown channel “{channel}”."})
    if not source:
        raise ValidationError({"source": "Say where the consent was collected."})
    when = when or timezone.now()
    if not granted and channel in MARKETING_CHANNELS:
        # Every withdrawal — staff, API, unsubscribe link, SMS STOP — puts the
        # contact on the suppression list, which outlives this record
        # (PRIV-03); repeating it refreshes the date.
        Suppression.objects.record(
            channel=channel,
            contact=contact_for_channel(
                email=customer.email, phone=customer.phone, channel=channel
            ),
            reason=Suppression.Reason.OPT_OUT,
        )
    consent = (
        ChannelConsent.objects.select_for_update()
        .filter(customer=customer, channel=channel)
        .first()
    )
    if consent is not None and consent.granted == granted:
        return consent
    if consent is None:
        consent = ChannelConsent(customer=customer, channel=channel)
    consent.granted = granted
    consent.legal_basis = legal_basis
    consent.source = source
    consent.changed_at = when
    consent.save()
    ConsentEvent.objects.create(
        customer=customer,
        channel=channel,
        action=ConsentEvent.Action.GRANTED
        if granted
        else ConsentEvent.Action.WITHDRAWN,
        legal_basis=legal_basis,
        source=source,
        wording_version=wording_version,
        actor=actor,
        occurred_at=when,
    )
    return consent


#: What erasure blanks on a customer kept for their orders' sake.
_ERASED_FIELDS: dict[str, Any] = {
    "external_id": "",
    "first_name": "",
    "last_name": "",
    "email": "",
    "phone": "",
    "birth_date": None,
    "gender": "",
    "postcode": "",
    "latitude": None,
    "longitude": None,
    "loyalty_card": "",
    "preferred_channel": "",
    "preferred_channel_source": "",
}


@transaction.atomic
def erase_customer(*, customer: Customer) -> bool:
    """Forget a person (GDPR Art. 17), but not that they must not be contacted.

    The e-mail and phone go on the suppression list first (PRIV-03), so a
    later import of the same contact is not marketable without new consent
    evidence. A customer with orders is kept as an anonymous record (the
    orders are the shop's accounts): contact and identity fields blanked,
    consents, consent history and staff notes deleted. One without orders is
    deleted. Apps above crm scrub their own free text first (the
    ``customer_erased`` hook). Returns True when the record was deleted.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    for forget in app_hooks("customer_erased"):
        forget(customer.pk)
    for channel in MARKETING_CHANNELS:
        Suppression.objects.record(
            channel=channel,
            contact=contact_for_channel(
                email=customer.email, phone=customer.phone, channel=channel
            ),
            reason=Suppression.Reason.ERASURE,
        )
    if not customer.orders.exists():
        customer.delete()
        return True
    ChannelConsent.objects.filter(customer=customer).delete()
    ConsentEvent.objects.filter(customer=customer).delete()
    Interaction.objects.filter(customer=customer).delete()
    Customer.objects.filter(pk=customer.pk).update(
        **_ERASED_FIELDS, updated_at=timezone.now()
    )
    return False


# The kinds staff log by hand on the customer page, and the channel each uses.
CONTACT_CHANNELS = {
    "call": Channel.PHONE,
    "email": Channel.EMAIL,
    "sms": Channel.SMS,
    "visit": Channel.IN_STORE,
    "note": "",
}


@transaction.atomic
def log_contact(
    *,
    customer: Customer,
    staff: AbstractBaseUser,
    kind: str,
    outcome: str = "",
    notes: str = "",
    occurred_at: dt.datetime | None = None,
    store_id: int | None = None,
):
    """Log a call, e-mail, SMS, visit or note a staff member had with a customer.

    The channel follows from the kind; ``store_id`` is the clerk's store (None
    for staff who act for every store). Raises ValidationError on an unknown
    kind, a future date or text the database cannot hold.
    """
    from crm.models import Interaction, Store
    from crm.services.orders import record_interaction

    if kind not in CONTACT_CHANNELS:
        raise ValidationError({"kind": f"Unknown contact kind “{kind}”."})
    if occurred_at is not None and occurred_at > timezone.now() + dt.timedelta(
        minutes=5
    ):
        raise ValidationError({"occurred_at": "The contact cannot be in the future."})
    cleaned = clean_customer_fields({"notes": notes})  # NUL check
    store = Store.objects.filter(pk=store_id).first() if store_id else None
    return record_interaction(
        customer=customer,
        kind=Interaction.Kind(kind),
        channel=CONTACT_CHANNELS[kind],
        staff=staff,
        store=store,
        outcome=outcome,
        notes=cleaned["notes"],
        occurred_at=occurred_at,
    )

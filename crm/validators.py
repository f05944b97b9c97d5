"""Normalisers and validators for customer contact data (SEC-12).

Pure functions: each returns the normalised value or raises ValidationError
with a message a person can act on. Used by forms, serializers and imports.
"""

from __future__ import annotations

import datetime as dt

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

DEFAULT_PHONE_REGION = "IT"
MAX_AGE_YEARS = 120


def reject_nul(value: str) -> str:
    """Refuse text holding NUL bytes: PostgreSQL cannot store them."""
    if "\x00" in value:
        raise ValidationError(_("Text must not contain NUL characters."), code="nul")
    return value


def normalize_email(value: str) -> str:
    """Trimmed, lower-cased, syntactically valid e-mail, or '' when blank."""
    value = reject_nul(value or "").strip().lower()
    if not value:
        return ""
    validate_email(value)
    return value


def normalize_phone(value: str, *, region: str = DEFAULT_PHONE_REGION) -> str:
    """The phone number in E.164 (+390612345678), or '' when blank.

    Numbers without a country prefix are read in ``region``.
    """
    value = reject_nul(value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("“%(value)s” is not a phone number.") % {"value": value[:40]},
            code="phone",
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(
            _("“%(value)s” is not a possible phone number.") % {"value": value[:40]},
            code="phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_birth_date(value: dt.date | None, *, today: dt.date | None = None) -> None:
    """A birth date must not be in the future nor more than 120 years ago."""
    if value is None:
        return
    today = today or dt.date.today()
    if value > today:
        raise ValidationError(
            _("Birth date cannot be in the future."), code="birth_date"
        )
    if (today.year - value.year) > MAX_AGE_YEARS:
        raise ValidationError(
            _("Birth date is more than %(years)s years ago.")
            % {"years": MAX_AGE_YEARS},
            code="birth_date",
        )


def validate_coordinates(latitude, longitude) -> None:
    """Both or neither coordinate, each within its range."""
    if (latitude is None) != (longitude is None):
        raise ValidationError(_("Give both latitude and longitude, or neither."))
    if latitude is not None and not -90 <= float(latitude) <= 90:
        raise ValidationError(_("Latitude must be between -90 and 90."))
    if longitude is not None and not -180 <= float(longitude) <= 180:
        raise ValidationError(_("Longitude must be between -180 and 180."))

"""Personalised message texts: a whitelist of fields, nothing else.

Templates are written by managers and rendered once per customer, so they
are treated as untrusted: only bare ``{name}`` placeholders from
``FIELDS`` are allowed (no attribute or index access such as
``{first_name.__class__}``, no format specs or conversions), and the values
are plain strings. ``str.format_map`` then cannot reach anything but those
strings. Literal braces are written ``{{`` and ``}}``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

#: Personalisation fields and what they hold.
FIELDS: dict[str, object] = {
    "first_name": gettext_lazy("Customer's first name"),
    "last_name": gettext_lazy("Customer's last name"),
    "offer_name": gettext_lazy("Name of the offered product or ladder step"),
    "offer_code": gettext_lazy("The campaign's offer code"),
    "discount": gettext_lazy("The discount, e.g. 15%"),
    "store_name": gettext_lazy("The campaign's store, or the customer's home store"),
}


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


def template_fields(text: str) -> set[str]:
    """The placeholders a template uses; ``ValidationError`` if it is malformed.

    Every problem is named: unknown fields list the allowed ones.
    """
    used: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text or ""))
    except ValueError as error:
        raise ValidationError(
            _(
                "The message has an unmatched brace (write {{ or }} for a literal brace): %(error)s"
            )
            % {"error": error},
            code="bad_template",
        ) from error
    for _literal, field_name, format_spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name == "" or not field_name.isidentifier():
            raise ValidationError(
                _(
                    "“{%(field)s}” is not a personalisation field. Use one of: %(allowed)s."
                )
                % {"field": field_name, "allowed": _allowed()},
                code="bad_field",
            )
        if format_spec or conversion:
            raise ValidationError(
                _("Write “{%(field)s}” without a format or conversion.")
                % {"field": field_name},
                code="bad_field",
            )
        if field_name not in FIELDS:
            raise ValidationError(
                _(
                    "Unknown personalisation field “{%(field)s}”. Use one of: %(allowed)s."
                )
                % {"field": field_name, "allowed": _allowed()},
                code="unknown_field",
            )
        used.add(field_name)
    return used


def _allowed() -> str:
    return ", ".join("{" + name + "}" for name in FIELDS)


def format_discount(discount_percent: Decimal | float | None) -> str:
    if not discount_percent:
        return ""
    value = Decimal(str(discount_percent)).normalize()
    return f"{value:f}%"


def render_template(text: str, values: Mapping[str, str]) -> str:
    """Fill a validated template from ``values`` (strings for every used field).

    A used field missing from ``values`` raises ``ValidationError`` naming it:
    a campaign without an offer code cannot send ``{offer_code}``.
    """
    used = template_fields(text)
    missing = sorted(name for name in used if values.get(name) in (None, ""))
    # Customers' own names may be blank: the text reads "Dear ," rather than
    # failing the send. Campaign-level values must be there.
    missing = [name for name in missing if name not in ("first_name", "last_name")]
    if missing:
        raise ValidationError(
            _("The message uses %(fields)s, which this campaign cannot fill.")
            % {"fields": ", ".join("{" + name + "}" for name in missing)},
            code="missing_field",
        )
    safe = {name: str(values.get(name) or "") for name in used}
    return (text or "").format_map(safe)


def render_message(
    *, subject: str, body: str, values: Mapping[str, str]
) -> RenderedMessage:
    """Subject and body of one message, filled from ``values``."""
    return RenderedMessage(
        subject=render_template(subject, values), body=render_template(body, values)
    )

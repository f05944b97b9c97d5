"""Small display helpers for crm pages: the user's role, readable evidence."""

from __future__ import annotations

from django import template
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from crm.roles import role_of

register = template.Library()

EVIDENCE_LABELS = {
    "source": _("Source"),
    "strength": _("Strength"),
    "blend_score": _("Blended score"),
    "item_knn": _("Similar products score"),
    "lookalike": _("Look-alike customers score"),
    "rule_confidence": _("Rule confidence"),
    "antecedents": _("Bought together with"),
    "confidence": _("Confidence"),
    "lift": _("Lift"),
    "support": _("Support"),
    "ladder_id": _("Ladder"),
    "from_product_id": _("From product"),
}


@register.simple_tag(takes_context=True)
def user_role(context) -> str:
    """``{% user_role as role %}``: "manager", "sales", "clerk" or ""."""
    request = context.get("request")
    if request is None:
        return ""
    return role_of(request.user) or ""


def _readable(value) -> str:
    if isinstance(value, float):
        return formats.number_format(value, decimal_pos=3, use_l10n=True)
    if isinstance(value, list | tuple):
        return ", ".join(_readable(item) for item in value)
    if value is None:
        return "–"
    return str(value)


@register.filter
def evidence_rows(evidence) -> list[tuple[str, str]]:
    """A suggestion's evidence dict as (label, value) rows for a <dl>."""
    if not isinstance(evidence, dict):
        return []
    return [
        (str(EVIDENCE_LABELS.get(key, key.replace("_", " "))), _readable(value))
        for key, value in evidence.items()
    ]

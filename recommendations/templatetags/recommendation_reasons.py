"""A suggestion's reason in the reader's language, for every page that shows one.

The engine stores an English sentence with a code and parameters
(``engine.reasons``); these are the same templates wrapped in gettext, so a
clerk or salesperson reads them in Italian too. The counter (its view builds
``reason_text`` into the card) and the customer page's offers panel
(``{{ suggestion|suggestion_reason }}``) share this one rendering.
"""

from __future__ import annotations

from collections.abc import Mapping

from django import template
from django.utils.translation import gettext_lazy

register = template.Library()

REASONS = {
    "rule": gettext_lazy(
        "%(confidence_pct)s%% of customers who bought %(antecedent)s also bought "
        "%(product)s."
    ),
    "step_complement": gettext_lazy("%(product)s goes with %(anchor)s."),
    "upsell": gettext_lazy(
        "Next step on the %(ladder)s ladder: %(product)s, after %(current)s."
    ),
    "upsell_entry": gettext_lazy("First step on the %(ladder)s ladder: %(product)s."),
    "also_bought": gettext_lazy(
        "Customers who bought %(anchor)s also bought %(product)s."
    ),
    "lookalike": gettext_lazy(
        "Customers who buy like this one also bought %(product)s."
    ),
    "popular": gettext_lazy("%(product)s is one of the most bought products."),
}


def reason_text(code: str, params: Mapping | None, fallback: str) -> str:
    """The reason in the active language; the stored sentence if it cannot be."""
    template_ = REASONS.get(code)
    if template_ is None:
        return fallback
    try:
        return str(template_) % dict(params or {})
    except (KeyError, TypeError, ValueError):
        return fallback


@register.filter
def suggestion_reason(suggestion) -> str:
    """``{{ suggestion|suggestion_reason }}``: a stored suggestion's reason."""
    return reason_text(
        suggestion.reason_code, suggestion.reason_params, suggestion.reason
    )

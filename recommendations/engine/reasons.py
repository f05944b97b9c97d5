"""Message templates for suggestion and eligibility reasons.

Templates are plain %-format strings keyed by a stable template id, all in this
module, so the Django layer can wrap them in ``gettext`` and translate the same
``(template_id, params)`` pair the engine returns. ``render_reason`` produces the
English sentence.
"""

from __future__ import annotations

from collections.abc import Mapping

#: template id -> %-format English sentence (named placeholders only).
REASON_TEMPLATES: dict[str, str] = {
    "rule": (
        "%(confidence_pct)s %% of customers who bought %(antecedent)s "
        "also bought %(product)s; lift %(lift)s."
    ),
    "step_complement": "%(product)s completes %(anchor)s, which the customer has.",
    "upsell": ("Next step on the %(ladder)s ladder: %(product)s, after %(current)s."),
    "upsell_entry": "First step on the %(ladder)s ladder: %(product)s.",
    "also_bought": "Customers who bought %(anchor)s also bought %(product)s.",
    "lookalike": (
        "Customers who buy like this one also bought %(product)s "
        "(similarity %(similarity_pct)s %%)."
    ),
    "popular": "%(product)s is one of the most bought products (in %(share_pct)s %% "
    "of baskets).",
    "eligible": "Eligible for cross-selling.",
    "no_history": "No purchase history yet: popular products only.",
    "returns_excessive": (
        "Left out: %(return_rate_pct)s %% of units returned (limit %(limit_pct)s %%)."
    ),
    "returns_high": (
        "In person and upsell only: %(return_rate_pct)s %% of units returned "
        "(limit %(limit_pct)s %%)."
    ),
    "cancellations_excessive": (
        "Left out: %(cancellation_rate_pct)s %% of orders cancelled "
        "(limit %(limit_pct)s %%)."
    ),
    "cancellations_high": (
        "In person and upsell only: %(cancellation_rate_pct)s %% of orders "
        "cancelled (limit %(limit_pct)s %%)."
    ),
    "negative_margin": (
        "Left out: returns and cancellations cost more than the customer's "
        "margin (net margin %(net_margin)s)."
    ),
}


def render_reason(template_id: str, *, params: Mapping[str, object]) -> str:
    """Render the English sentence of ``template_id`` with ``params``.

    Raises ``ValueError`` for an unknown template or a missing parameter.
    """
    try:
        template = REASON_TEMPLATES[template_id]
    except KeyError:
        raise ValueError(f"unknown reason template {template_id!r}") from None
    try:
        return template % dict(params)
    except KeyError as missing:
        raise ValueError(
            f"reason template {template_id!r} needs parameter {missing}"
        ) from None


def format_percent(fraction: float) -> str:
    """A fraction as a whole-number percentage string (0.4567 -> "46")."""
    return f"{100.0 * float(fraction):.0f}"


def format_ratio(value: float) -> str:
    """A ratio with one decimal (2.345 -> "2.3"); "inf" stays "inf"."""
    return f"{float(value):.1f}"

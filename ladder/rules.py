"""The rules of a good value ladder, as pure checks over plain step facts.

No Django models, settings or clock here: callers (``ladder.selectors``)
build ``StepFacts`` from the database and pass the thresholds read from
settings, so every rule is testable with literals.

Errors block publishing a ladder; warnings are shown but allow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class StepFacts:
    """What the rules need to know about one step (prices in currency units)."""

    step_id: int
    position: int
    name: str
    price: Decimal | None
    product_active: bool
    product_kind: str
    cross_sell_only: bool = False
    offer_count: int = 0
    inactive_offer_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``level`` is ERROR or WARNING; ``step_id`` may be None."""

    level: str
    code: str
    message: str
    step_id: int | None = None

    @property
    def is_error(self) -> bool:
        return self.level == ERROR


def check_sellable(step: StepFacts) -> list[Violation]:
    """Every step is sellable on its own: an active product with a price."""
    problems = []
    if not step.product_active or step.product_kind == "charge":
        problems.append(
            Violation(
                ERROR,
                "not_sellable",
                _("Step “%(name)s”: its offer is not an active product on sale.")
                % {"name": step.name},
                step.step_id,
            )
        )
    if step.price is None or step.price <= 0:
        problems.append(
            Violation(
                ERROR,
                "no_price",
                _("Step “%(name)s” has no price.") % {"name": step.name},
                step.step_id,
            )
        )
    return problems


def check_price_gap(
    lower: StepFacts, upper: StepFacts, *, min_gap: float, max_ratio: float
) -> list[Violation]:
    """The climb from ``lower`` to ``upper`` must justify its price.

    ``upper`` must cost at least ``(1 + min_gap)`` times ``lower`` unless it
    is a cross-sell-only step (a complementary offer may cost the same or
    less); a climb steeper than ``max_ratio`` times is a warning.
    """
    if not lower.price or not upper.price or lower.price <= 0:
        return []  # check_sellable reports the missing price
    ratio = float(upper.price) / float(lower.price)
    if upper.cross_sell_only:
        return []
    if ratio < 1 + min_gap - 1e-9:
        return [
            Violation(
                ERROR,
                "gap_too_small",
                _(
                    "Step “%(upper)s” costs %(ratio).2f× “%(lower)s”: a climb needs at "
                    "least +%(gap).0f %%, or mark the step cross-sell only."
                )
                % {
                    "upper": upper.name,
                    "lower": lower.name,
                    "ratio": ratio,
                    "gap": min_gap * 100,
                },
                upper.step_id,
            )
        ]
    if ratio > max_ratio + 1e-9:
        return [
            Violation(
                WARNING,
                "climb_too_steep",
                _(
                    "Step “%(upper)s” costs %(ratio).1f× “%(lower)s”, steeper than "
                    "%(max).1f×: customers may not follow."
                )
                % {
                    "upper": upper.name,
                    "lower": lower.name,
                    "ratio": ratio,
                    "max": max_ratio,
                },
                upper.step_id,
            )
        ]
    return []


def next_upsell(steps: Sequence[StepFacts], index: int) -> StepFacts | None:
    """The upsell of ``steps[index]``: the next step that is not cross-sell only.

    ``steps`` must be sorted by position.
    """
    return next((s for s in steps[index + 1 :] if not s.cross_sell_only), None)


def check_ladder(
    steps: Sequence[StepFacts], *, min_gap: float = 0.10, max_ratio: float = 5.0
) -> list[Violation]:
    """All rule violations of one ladder, errors first, then by step position.

    Rules: every step is sellable; the price gap between a step and the
    previous upsell step (cross-sell-only steps excepted) is at least
    ``min_gap`` and at most ``max_ratio`` (warning); every step carries an
    upsell and/or at least one cross-sell; the top step carries cross-sells.
    """
    ordered = sorted(steps, key=lambda s: s.position)
    problems: list[Violation] = []
    if not ordered:
        problems.append(Violation(ERROR, "empty", _("The ladder has no steps."), None))
        return problems
    base: StepFacts | None = None
    for index, step in enumerate(ordered):
        problems += check_sellable(step)
        if base is not None:
            problems += check_price_gap(
                base, step, min_gap=min_gap, max_ratio=max_ratio
            )
        if not step.cross_sell_only:
            base = step
        is_top = index == len(ordered) - 1
        has_upsell = next_upsell(ordered, index) is not None
        if is_top and step.offer_count == 0:
            problems.append(
                Violation(
                    ERROR,
                    "top_without_cross_sells",
                    _(
                        "Top step “%(name)s”: upselling ends here, so it must carry "
                        "cross-sells."
                    )
                    % {"name": step.name},
                    step.step_id,
                )
            )
        elif not has_upsell and step.offer_count == 0:
            problems.append(
                Violation(
                    ERROR,
                    "dead_end",
                    _("Step “%(name)s” carries neither an upsell nor a cross-sell.")
                    % {"name": step.name},
                    step.step_id,
                )
            )
        for offer_name in step.inactive_offer_names:
            problems.append(
                Violation(
                    WARNING,
                    "complement_not_on_sale",
                    _("Step “%(name)s”: complement “%(offer)s” is not on sale.")
                    % {"name": step.name, "offer": offer_name},
                    step.step_id,
                )
            )
    problems.sort(key=lambda v: not v.is_error)
    return problems


def has_errors(violations: Sequence[Violation]) -> bool:
    """True when any violation blocks publishing."""
    return any(v.is_error for v in violations)

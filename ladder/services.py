"""Writes: ladders, steps and offers (rules enforced), and position recomputes.

Invariants kept here:

- Step positions are dense (1..n) and unique per ladder after every change.
- A published (active) ladder never has rule errors: a change that would
  break one is refused with the errors, and nothing is written.
- Positions and reaches are derived data: recomputes are idempotent bulk
  upserts, and rows that no longer hold are deleted.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Product
from ladder import positions as position_maths
from ladder import selectors
from ladder.models import (
    CustomerLadderPosition,
    CustomerStepReach,
    Ladder,
    Step,
    StepOffer,
)
from ladder.rules import has_errors

logger = logging.getLogger(__name__)


# --- Ladders ------------------------------------------------------------------


def _ensure_publishable(ladder: Ladder) -> None:
    """Raise ValidationError with the rule errors when an active ladder has any."""
    if not ladder.active:
        return
    violations = selectors.get_ladder_violations(ladder_id=ladder.pk)
    if has_errors(violations):
        raise ValidationError(
            [violation.message for violation in violations if violation.is_error]
        )


@transaction.atomic
def create_ladder(*, name: str, description: str = "", active: bool = False) -> Ladder:
    """Create a ladder; it can only be created published if it has no errors."""
    ladder = Ladder.objects.create(name=name, description=description, active=active)
    _ensure_publishable(ladder)
    return ladder


@transaction.atomic
def update_ladder(
    *,
    ladder: Ladder,
    name: str | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> Ladder:
    """Change a ladder's name, description or published flag.

    Publishing is refused (ValidationError listing the errors) while the
    ladder breaks a rule; unpublishing is always allowed.
    """
    if name is not None:
        ladder.name = name
    if description is not None:
        ladder.description = description
    if active is not None:
        ladder.active = active
    ladder.save()
    _ensure_publishable(ladder)
    return ladder


@transaction.atomic
def delete_ladder(*, ladder: Ladder) -> None:
    """Delete a ladder with its steps, offers and derived positions."""
    ladder.delete()


# --- Steps -------------------------------------------------------------------


def _lock_ladder(ladder_id: int) -> Ladder:
    """Lock the ladder row so concurrent step edits renumber one at a time."""
    return Ladder.objects.select_for_update().get(pk=ladder_id)


def _renumber(*, ladder_id: int, ordered_ids: Sequence[int]) -> None:
    """Give ``ordered_ids`` positions 1..n without breaking the unique constraint.

    PostgreSQL checks a non-deferrable unique constraint row by row, so the
    rows first move above every current position, then to their final place.
    """
    if not ordered_ids:
        return
    top = Step.objects.filter(ladder_id=ladder_id).aggregate(top=Max("position"))["top"]
    Step.objects.filter(ladder_id=ladder_id).update(
        position=F("position") + (top or 0) + 1
    )
    steps = Step.objects.in_bulk(list(ordered_ids))
    for index, step_id in enumerate(ordered_ids, start=1):
        steps[step_id].position = index
    Step.objects.bulk_update(list(steps.values()), ["position"])


def _validate_offer_product(product: Product, *, field: str) -> None:
    if not product.active or product.kind == Product.Kind.CHARGE:
        raise ValidationError(
            {
                field: _("%(product)s is not an active product on sale.")
                % {"product": product}
            }
        )


@transaction.atomic
def add_step(
    *,
    ladder: Ladder,
    product: Product,
    name: str = "",
    price: Decimal | None = None,
    cross_sell_only: bool = False,
    position: int | None = None,
) -> Step:
    """Insert a step at ``position`` (1-based; at the top when None).

    The price defaults to the product's list price; later steps move up one.
    """
    _validate_offer_product(product, field="product")
    _lock_ladder(ladder.pk)
    ordered = list(
        Step.objects.filter(ladder=ladder)
        .order_by("position")
        .values_list("id", flat=True)
    )
    step = Step.objects.create(
        ladder=ladder,
        product=product,
        name=name or product.name,
        price=product.price if price is None else price,
        cross_sell_only=cross_sell_only,
        position=len(ordered) + 1,
    )
    if position is not None and 1 <= position <= len(ordered):
        ordered.insert(position - 1, step.pk)
        _renumber(ladder_id=ladder.pk, ordered_ids=ordered)
        step.refresh_from_db(fields=["position"])
    _ensure_publishable(ladder)
    return step


@transaction.atomic
def update_step(
    *,
    step: Step,
    name: str | None = None,
    product: Product | None = None,
    price: Decimal | None = None,
    cross_sell_only: bool | None = None,
    also_counts: Sequence[Product] | None = None,
) -> Step:
    """Change a step's offer, name, price or cross-sell-only flag."""
    _lock_ladder(step.ladder_id)
    if product is not None:
        if product.pk != step.product_id:
            _validate_offer_product(product, field="product")
        step.product = product
    if name is not None:
        step.name = name
    if price is not None:
        step.price = price
    if cross_sell_only is not None:
        step.cross_sell_only = cross_sell_only
    step.save()
    if also_counts is not None:
        step.also_counts.set(also_counts)
    _ensure_publishable(step.ladder)
    return step


@transaction.atomic
def move_step(*, step: Step, position: int) -> Step:
    """Move a step to ``position`` (clamped to 1..n); the others close up."""
    _lock_ladder(step.ladder_id)
    ordered = list(
        Step.objects.filter(ladder_id=step.ladder_id)
        .order_by("position")
        .values_list("id", flat=True)
    )
    ordered.remove(step.pk)
    position = max(1, min(position, len(ordered) + 1))
    ordered.insert(position - 1, step.pk)
    _renumber(ladder_id=step.ladder_id, ordered_ids=ordered)
    step.refresh_from_db(fields=["position"])
    _ensure_publishable(step.ladder)
    return step


@transaction.atomic
def reorder_steps(*, ladder: Ladder, step_ids: Sequence[int]) -> None:
    """Put the ladder's steps in the given order (every step id exactly once)."""
    _lock_ladder(ladder.pk)
    current = set(Step.objects.filter(ladder=ladder).values_list("id", flat=True))
    if set(step_ids) != current or len(step_ids) != len(current):
        raise ValidationError(
            {"steps": _("List every step of the ladder exactly once.")}
        )
    _renumber(ladder_id=ladder.pk, ordered_ids=list(step_ids))
    _ensure_publishable(ladder)


@transaction.atomic
def remove_step(*, step: Step) -> None:
    """Delete a step (with its offers and positions); later steps move down."""
    ladder = _lock_ladder(step.ladder_id)
    step.delete()
    ordered = list(
        Step.objects.filter(ladder=ladder)
        .order_by("position")
        .values_list("id", flat=True)
    )
    _renumber(ladder_id=ladder.pk, ordered_ids=ordered)
    _ensure_publishable(ladder)


# --- Offers ------------------------------------------------------------------


@transaction.atomic
def add_step_offer(*, step: Step, product: Product, note: str = "") -> StepOffer:
    """Attach a cross-sell complement to a step (once per product)."""
    _validate_offer_product(product, field="product")
    if product.pk == step.product_id:
        raise ValidationError({"product": _("A step cannot complement itself.")})
    if StepOffer.objects.filter(step=step, product=product).exists():
        raise ValidationError({"product": _("This complement is already attached.")})
    offer = StepOffer.objects.create(step=step, product=product, note=note)
    _ensure_publishable(step.ladder)
    return offer


@transaction.atomic
def update_step_offer(*, offer: StepOffer, note: str) -> StepOffer:
    """Change the note staff read beside a complement."""
    offer.note = note
    offer.save(update_fields=["note"])
    return offer


@transaction.atomic
def remove_step_offer(*, offer: StepOffer) -> None:
    """Detach a complement; refused if a published ladder would break a rule."""
    ladder = offer.step.ladder
    offer.delete()
    _ensure_publishable(ladder)


# --- Positions -------------------------------------------------------------------


@dataclass(frozen=True)
class RecomputeResult:
    """Counts and timing of one recompute."""

    customers: int
    positions: int
    reaches: int
    seconds: float


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _to_datetime(seconds: pd.Series) -> list[dt.datetime]:
    return [dt.datetime.fromtimestamp(int(value), tz=dt.UTC) for value in seconds]


def recompute_positions(
    *, customer_ids: Sequence[int] | None = None, now: dt.datetime | None = None
) -> RecomputeResult:
    """Recompute positions and reaches of some customers (everyone if None).

    Reads the kept purchase lines in one bulk query, computes in pandas
    (``ladder.positions``), and writes with bulk upserts in one transaction:
    rows that no longer hold (a cancelled or returned purchase, an expired
    subscription) are deleted. Idempotent: a second run changes nothing.
    """
    started = time.monotonic()
    now = now or timezone.now()
    now_seconds = _epoch(now)
    step_products = selectors.build_step_products_frame()
    lines = selectors.build_kept_lines_frame(
        product_ids=sorted(set(step_products["product_id"].tolist())),
        customer_ids=customer_ids,
    )
    reaches = position_maths.compute_reaches(lines, step_products, now=now_seconds)
    positions = position_maths.compute_positions(
        reaches,
        step_products,
        now=now_seconds,
        stall_after_seconds=int(selectors.get_stall_after().total_seconds()),
    )
    with transaction.atomic():
        if customer_ids is not None:
            # Lock order: positions of these customers, so two recomputes of
            # the same customer queue behind each other instead of interleaving.
            list(
                CustomerLadderPosition.objects.select_for_update()
                .filter(customer_id__in=customer_ids)
                .values_list("id", flat=True)
            )
        if connection.vendor == "postgresql":
            _write_postgresql(
                positions=positions, reaches=reaches, customer_ids=customer_ids, now=now
            )
        else:
            _write_generic(
                positions=positions, reaches=reaches, customer_ids=customer_ids, now=now
            )
    return RecomputeResult(
        customers=int(positions["customer_id"].nunique()),
        positions=len(positions),
        reaches=len(reaches),
        seconds=round(time.monotonic() - started, 3),
    )


def recompute_customer_positions(*, customer_id: int) -> RecomputeResult:
    """Recompute one customer's positions on every ladder (after their order)."""
    return recompute_positions(customer_ids=[customer_id])


def recompute_all_positions() -> RecomputeResult:
    """Recompute every customer's positions on every ladder (the nightly job)."""
    result = recompute_positions()
    logger.info(
        "ladder positions recomputed: %s customers, %s positions, %s reaches in %ss",
        result.customers,
        result.positions,
        result.reaches,
        result.seconds,
    )
    return result


def _write_generic(
    *,
    positions: pd.DataFrame,
    reaches: pd.DataFrame,
    customer_ids: Sequence[int] | None,
    now: dt.datetime,
) -> None:
    """Portable writer: ``bulk_create(update_conflicts=True)`` then stale deletes."""
    position_objects = [
        CustomerLadderPosition(
            customer_id=int(customer_id),
            ladder_id=int(ladder_id),
            step_id=int(step_id),
            reached_at=reached_at,
            stalled=bool(stalled),
            computed_at=now,
        )
        for customer_id, ladder_id, step_id, reached_at, stalled in zip(
            positions["customer_id"],
            positions["ladder_id"],
            positions["step_id"],
            _to_datetime(positions["reached_at"]),
            positions["stalled"],
            strict=True,
        )
    ]
    CustomerLadderPosition.objects.bulk_create(
        position_objects,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["customer", "ladder"],
        update_fields=["step", "reached_at", "stalled", "computed_at"],
    )
    climbed = reaches["climbed_at"]
    reach_objects = [
        CustomerStepReach(
            customer_id=int(customer_id),
            ladder_id=int(ladder_id),
            step_id=int(step_id),
            reached_at=reached_at,
            climbed_at=(
                None
                if pd.isna(climbed_at)
                else dt.datetime.fromtimestamp(int(climbed_at), tz=dt.UTC)
            ),
            days_to_climb=None if pd.isna(days) else int(days),
            revenue=Decimal(str(round(float(revenue), 2))),
            computed_at=now,
        )
        for (
            customer_id,
            ladder_id,
            step_id,
            reached_at,
            climbed_at,
            days,
            revenue,
        ) in zip(
            reaches["customer_id"],
            reaches["ladder_id"],
            reaches["step_id"],
            _to_datetime(reaches["reached_at"]),
            climbed,
            reaches["days_to_climb"],
            reaches["revenue"],
            strict=True,
        )
    ]
    CustomerStepReach.objects.bulk_create(
        reach_objects,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["customer", "step"],
        update_fields=[
            "ladder",
            "reached_at",
            "climbed_at",
            "days_to_climb",
            "revenue",
            "computed_at",
        ],
    )
    # Rows not written by this run no longer hold.
    stale_positions = CustomerLadderPosition.objects.exclude(computed_at=now)
    stale_reaches = CustomerStepReach.objects.exclude(computed_at=now)
    if customer_ids is not None:
        stale_positions = stale_positions.filter(customer_id__in=customer_ids)
        stale_reaches = stale_reaches.filter(customer_id__in=customer_ids)
    stale_positions.delete()
    stale_reaches.delete()


_POSITION_TEMP = """
CREATE TEMP TABLE ladder_tmp_position (
    customer_id bigint, ladder_id bigint, step_id bigint,
    reached_at bigint, stalled boolean
) ON COMMIT DROP
"""
_REACH_TEMP = """
CREATE TEMP TABLE ladder_tmp_reach (
    customer_id bigint, ladder_id bigint, step_id bigint, reached_at bigint,
    climbed_at bigint, days_to_climb integer, revenue numeric(14, 2)
) ON COMMIT DROP
"""
_POSITION_UPSERT = """
INSERT INTO ladder_customerladderposition
    (customer_id, ladder_id, step_id, reached_at, stalled, computed_at)
SELECT customer_id, ladder_id, step_id, to_timestamp(reached_at), stalled, %s
FROM ladder_tmp_position
ON CONFLICT (customer_id, ladder_id) DO UPDATE SET
    step_id = EXCLUDED.step_id, reached_at = EXCLUDED.reached_at,
    stalled = EXCLUDED.stalled, computed_at = EXCLUDED.computed_at
WHERE ladder_customerladderposition.computed_at < EXCLUDED.computed_at
  AND (ladder_customerladderposition.step_id, ladder_customerladderposition.reached_at,
       ladder_customerladderposition.stalled)
    IS DISTINCT FROM (EXCLUDED.step_id, EXCLUDED.reached_at, EXCLUDED.stalled)
"""
_REACH_UPSERT = """
INSERT INTO ladder_customerstepreach
    (customer_id, ladder_id, step_id, reached_at, climbed_at, days_to_climb,
     revenue, computed_at)
SELECT customer_id, ladder_id, step_id, to_timestamp(reached_at),
       to_timestamp(climbed_at), days_to_climb, revenue, %s
FROM ladder_tmp_reach
ON CONFLICT (customer_id, step_id) DO UPDATE SET
    ladder_id = EXCLUDED.ladder_id, reached_at = EXCLUDED.reached_at,
    climbed_at = EXCLUDED.climbed_at, days_to_climb = EXCLUDED.days_to_climb,
    revenue = EXCLUDED.revenue, computed_at = EXCLUDED.computed_at
WHERE ladder_customerstepreach.computed_at < EXCLUDED.computed_at
  AND (ladder_customerstepreach.reached_at, ladder_customerstepreach.climbed_at,
       ladder_customerstepreach.days_to_climb, ladder_customerstepreach.revenue)
    IS DISTINCT FROM (EXCLUDED.reached_at, EXCLUDED.climbed_at,
                      EXCLUDED.days_to_climb, EXCLUDED.revenue)
"""
_POSITION_STALE = """
DELETE FROM ladder_customerladderposition p
WHERE {scope} p.computed_at < %s AND NOT EXISTS (
    SELECT 1 FROM ladder_tmp_position t
    WHERE t.customer_id = p.customer_id AND t.ladder_id = p.ladder_id)
"""
_REACH_STALE = """
DELETE FROM ladder_customerstepreach r
WHERE {scope} r.computed_at < %s AND NOT EXISTS (
    SELECT 1 FROM ladder_tmp_reach t
    WHERE t.customer_id = r.customer_id AND t.step_id = r.step_id)
"""


def _copy_frame(cursor, table: str, frame: pd.DataFrame) -> None:
    """Stream a frame into a temp table with COPY (CSV, empty field = NULL)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    with cursor.copy(f"COPY {table} FROM STDIN WITH (FORMAT csv)") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def _write_postgresql(
    *,
    positions: pd.DataFrame,
    reaches: pd.DataFrame,
    customer_ids: Sequence[int] | None,
    now: dt.datetime,
) -> None:
    """PostgreSQL writer: COPY into temp tables, then INSERT … ON CONFLICT.

    Unchanged rows are not rewritten (the ``IS DISTINCT FROM`` guard), so a
    second run writes nothing; ``computed_at`` is the time a row last changed.
    Rows written by a run that started later (a customer's recompute after
    their order, while the nightly job runs) are neither overwritten nor
    deleted: the ``computed_at < now`` guards keep the newer figures.
    """
    scope = ""
    if customer_ids is not None:
        ids = ",".join(str(int(pk)) for pk in customer_ids)
        scope = f"customer_id IN ({ids}) AND"
    reach_frame = reaches[
        [
            "customer_id",
            "ladder_id",
            "step_id",
            "reached_at",
            "climbed_at",
            "days_to_climb",
            "revenue",
        ]
    ].assign(revenue=reaches["revenue"].round(2))
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute(_POSITION_TEMP)
        cursor.execute(_REACH_TEMP)
        _copy_frame(
            cursor,
            "ladder_tmp_position",
            positions[["customer_id", "ladder_id", "step_id", "reached_at", "stalled"]],
        )
        _copy_frame(cursor, "ladder_tmp_reach", reach_frame)
        cursor.execute("ANALYZE ladder_tmp_position")
        cursor.execute("ANALYZE ladder_tmp_reach")
        cursor.execute(
            _POSITION_STALE.format(scope=scope.replace("customer_id", "p.customer_id")),
            [now],
        )
        cursor.execute(
            _REACH_STALE.format(scope=scope.replace("customer_id", "r.customer_id")),
            [now],
        )
        cursor.execute(_POSITION_UPSERT, [now])
        cursor.execute(_REACH_UPSERT, [now])
        cursor.execute("DROP TABLE ladder_tmp_position")
        cursor.execute("DROP TABLE ladder_tmp_reach")

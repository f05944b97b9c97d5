"""Reads for ladder pages, the API and the position jobs.

Every page-facing selector costs a fixed number of queries whatever the
number of steps, customers or purchases; the report reads the derived
``CustomerLadderPosition`` and ``CustomerStepReach`` rows, never order lines.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from crm.models import Order, Product
from ladder import positions as position_maths
from ladder.links import customer_page_url
from ladder.models import (
    CustomerLadderPosition,
    CustomerStepReach,
    Ladder,
    Step,
    StepOffer,
)
from ladder.rules import StepFacts, Violation, check_ladder

# --- Settings (read at call time, never at import) ---------------------------


def get_rule_thresholds() -> tuple[float, float]:
    """``(min_gap, max_ratio)`` from LADDER_MIN_PRICE_GAP / LADDER_MAX_PRICE_RATIO."""
    return (
        float(getattr(settings, "LADDER_MIN_PRICE_GAP", 0.10)),
        float(getattr(settings, "LADDER_MAX_PRICE_RATIO", 5.0)),
    )


def get_stall_after() -> dt.timedelta:
    """How long without a climb makes a customer stalled (LADDER_STALL_DAYS, 90)."""
    return dt.timedelta(days=int(getattr(settings, "LADDER_STALL_DAYS", 90)))


# --- Ladders, steps and their rules -------------------------------------------


def ladders_with_steps() -> QuerySet[Ladder]:
    """Ladders with steps, products, "also counts" and offers (4 queries in all)."""
    return Ladder.objects.prefetch_related(
        Prefetch(
            "steps",
            queryset=Step.objects.select_related("product").prefetch_related(
                "also_counts",
                Prefetch(
                    "offers", queryset=StepOffer.objects.select_related("product")
                ),
            ),
        )
    )


def step_facts_from(steps: Iterable[Step]) -> list[StepFacts]:
    """Rule facts from steps whose product and offers (with products) are loaded."""
    facts = []
    for step in steps:
        offers = list(step.offers.all())
        facts.append(
            StepFacts(
                step_id=step.pk,
                position=step.position,
                name=step.name,
                price=step.price,
                product_active=step.product.active,
                product_kind=step.product.kind,
                cross_sell_only=step.cross_sell_only,
                offer_count=len(offers),
                inactive_offer_names=tuple(
                    offer.product.name for offer in offers if not offer.product.active
                ),
            )
        )
    return facts


def get_ladder_violations_for(ladder: Ladder) -> list[Violation]:
    """Rule violations of a ladder loaded by ``ladders_with_steps`` (no query)."""
    min_gap, max_ratio = get_rule_thresholds()
    return check_ladder(
        step_facts_from(ladder.steps.all()), min_gap=min_gap, max_ratio=max_ratio
    )


def get_ladder_violations(*, ladder_id: int) -> list[Violation]:
    """Rule violations of one ladder, read fresh from the database (3 queries)."""
    ladder = ladders_with_steps().get(pk=ladder_id)
    return get_ladder_violations_for(ladder)


def sellable_products() -> QuerySet[Product]:
    """Products a step or an offer may use: active and not a charge line."""
    return Product.objects.filter(active=True).exclude(kind=Product.Kind.CHARGE)


# --- Position job inputs --------------------------------------------------------


def build_step_products_frame(
    *, ladder_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """``positions.STEP_PRODUCT_COLUMNS`` for the given ladders (all if None).

    Two queries: the steps, and their "also counts" products.
    """
    steps = Step.objects.all()
    if ladder_ids is not None:
        steps = steps.filter(ladder_id__in=ladder_ids)
    step_rows = list(
        steps.values_list(
            "id", "ladder_id", "position", "product_id", "cross_sell_only"
        )
    )
    extra = list(
        Step.also_counts.through.objects.filter(
            step_id__in=[row[0] for row in step_rows]
        ).values_list("step_id", "product_id")
    )
    # has_upsell: a higher step that is not cross-sell only exists.
    top_upsell_position: dict[int, int] = {}
    for _step_id, ladder_id, position, _product_id, cross_sell_only in step_rows:
        if not cross_sell_only:
            top_upsell_position[ladder_id] = max(
                position, top_upsell_position.get(ladder_id, 0)
            )
    by_step = {row[0]: row for row in step_rows}
    records = []
    for step_id, ladder_id, position, product_id, _cross in step_rows:
        has_upsell = top_upsell_position.get(ladder_id, 0) > position
        records.append((ladder_id, step_id, position, product_id, has_upsell))
    for step_id, product_id in extra:
        _id, ladder_id, position, own_product_id, _cross = by_step[step_id]
        if product_id != own_product_id:
            has_upsell = top_upsell_position.get(ladder_id, 0) > position
            records.append((ladder_id, step_id, position, product_id, has_upsell))
    frame = pd.DataFrame.from_records(
        records, columns=position_maths.STEP_PRODUCT_COLUMNS
    )
    return frame.astype(
        {
            "ladder_id": "int64",
            "step_id": "int64",
            "position": "int64",
            "product_id": "int64",
            "has_upsell": "bool",
        }
    )


_KEPT_LINES_SQL = """
SELECT o.customer_id, ol.product_id, {epoch} AS placed_at,
       ol.quantity - ol.returned_quantity AS kept_quantity,
       {amount} AS amount,
       CASE WHEN p.kind = 'subscription' THEN COALESCE(p.subscription_months, 1)
            ELSE 0 END AS subscription_months
FROM {order_line} ol
JOIN {order} o ON o.id = ol.order_id
JOIN {product} p ON p.id = ol.product_id
WHERE o.status = '{placed}' AND o.customer_id IS NOT NULL
  AND ol.quantity > ol.returned_quantity
  AND ol.product_id IN ({product_ids}){customer_filter}
"""


def build_kept_lines_frame(
    *, product_ids: Sequence[int], customer_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """``positions.LINE_COLUMNS``: kept lines of placed orders of the products.

    One bulk query. Cancelled orders and fully returned lines are excluded;
    partly returned lines keep their remaining quantity. On PostgreSQL the
    rows stream through ``COPY … TO STDOUT`` into pandas (about 3× faster than
    fetching tuples); elsewhere they are fetched. Ids are integers formatted
    into the statement because COPY takes no parameters.
    """
    if not product_ids or (customer_ids is not None and not customer_ids):
        return position_maths.empty_lines()
    is_postgres = connection.vendor == "postgresql"
    ints = ",".join(str(int(pk)) for pk in product_ids)
    customer_filter = ""
    if customer_ids is not None:
        customer_filter = " AND o.customer_id IN ({})".format(
            ",".join(str(int(pk)) for pk in customer_ids)
        )
    sql = _KEPT_LINES_SQL.format(
        epoch=(
            "EXTRACT(EPOCH FROM o.placed_at)::bigint"
            if is_postgres
            else "CAST(strftime('%s', o.placed_at) AS INTEGER)"
        ),
        amount=(
            "(ol.unit_price * (ol.quantity - ol.returned_quantity))::float8"
            if is_postgres
            else "CAST(ol.unit_price AS REAL) * (ol.quantity - ol.returned_quantity)"
        ),
        order_line="crm_orderline",
        order="crm_order",
        product="crm_product",
        placed=Order.Status.PLACED,
        product_ids=ints,
        customer_filter=customer_filter,
    )
    dtypes = {
        "customer_id": "int64",
        "product_id": "int64",
        "placed_at": "int64",
        "kept_quantity": "int64",
        "amount": "float64",
        "subscription_months": "int64",
    }
    with connection.cursor() as cursor:
        if is_postgres:
            buffer = io.BytesIO()
            with cursor.cursor.copy(
                f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
            ) as copy:
                for chunk in copy:
                    buffer.write(chunk)
            buffer.seek(0)
            if buffer.getbuffer().nbytes == 0:
                return position_maths.empty_lines()
            return pd.read_csv(
                buffer, header=None, names=position_maths.LINE_COLUMNS, dtype=dtypes
            )
        cursor.execute(sql)
        rows = cursor.fetchall()
    if not rows:
        return position_maths.empty_lines()
    return pd.DataFrame.from_records(rows, columns=position_maths.LINE_COLUMNS).astype(
        dtypes
    )


# --- Customer view -------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerLadderView:
    """One customer's place on one ladder, with what to offer them next."""

    ladder: Ladder
    step: Step
    reached_at: dt.datetime
    stalled: bool
    next_step: Step | None
    complements: tuple[StepOffer, ...]


def list_customer_positions(*, customer_id: int) -> list[CustomerLadderView]:
    """Every published ladder the customer stands on, with upsell and cross-sells.

    Three queries: positions (with ladder, step and product), the steps of
    those ladders (for the next step), and the offers of the current steps.
    The next step is the first higher step that is not cross-sell only.
    """
    rows = list(
        CustomerLadderPosition.objects.filter(
            customer_id=customer_id, ladder__active=True
        )
        .select_related("ladder", "step", "step__product")
        .order_by("ladder__name")
    )
    if not rows:
        return []
    steps = Step.objects.filter(
        ladder_id__in=[row.ladder_id for row in rows], cross_sell_only=False
    ).select_related("product")
    upsells: dict[int, list[Step]] = {}
    for step in steps.order_by("ladder_id", "position"):
        upsells.setdefault(step.ladder_id, []).append(step)
    offers: dict[int, list[StepOffer]] = {}
    for offer in StepOffer.objects.filter(
        step_id__in=[row.step_id for row in rows]
    ).select_related("product"):
        offers.setdefault(offer.step_id, []).append(offer)
    result = []
    for row in rows:
        next_step = next(
            (
                s
                for s in upsells.get(row.ladder_id, [])
                if s.position > row.step.position
            ),
            None,
        )
        result.append(
            CustomerLadderView(
                ladder=row.ladder,
                step=row.step,
                reached_at=row.reached_at,
                stalled=row.stalled,
                next_step=next_step,
                complements=tuple(offers.get(row.step_id, [])),
            )
        )
    return result


def positions_visible_to(user) -> QuerySet[CustomerLadderPosition]:
    """Positions of the customers the user may see (a clerk: their store's)."""
    from crm.selectors import customers_visible_to

    return CustomerLadderPosition.objects.filter(
        customer__in=customers_visible_to(user)
    )


# --- Ladder report -------------------------------------------------------------------


@dataclass
class StalledCustomer:
    """A stalled customer on a step, with the link to their page."""

    customer_id: int
    name: str
    reached_at: dt.datetime
    url: str


@dataclass
class StepFigures:
    """The report's figures for one step."""

    step: Step
    customers: int = 0
    stalled: int = 0
    reached: int = 0
    eligible: int = 0
    climbed: int = 0
    median_days_to_climb: float | None = None
    revenue: Decimal = Decimal("0")
    stalled_customers: list[StalledCustomer] = field(default_factory=list)

    @property
    def conversion(self) -> float | None:
        """Share of the customers who could climb in the period and did."""
        return self.climbed / self.eligible if self.eligible else None


@dataclass
class LadderReport:
    """Per-step figures of one ladder for a period ``[start, end)``."""

    ladder: Ladder
    start: dt.datetime
    end: dt.datetime
    steps: list[StepFigures]
    stalled_limit: int

    @property
    def total_customers(self) -> int:
        return sum(figures.customers for figures in self.steps)


def get_ladder_report(
    *,
    ladder: Ladder,
    start: dt.datetime,
    end: dt.datetime,
    stalled_limit: int = 20,
) -> LadderReport:
    """Funnel, conversion, time to climb, revenue and stalled customers per step.

    Five queries whatever the data size: steps; positions per step (funnel and
    stalled counts); reaches per step (reached, could climb in the period,
    climbed in the period, revenue kept, all time); a histogram of whole days
    to climb for climbs in the period (the median is taken from it); and the
    first ``stalled_limit`` stalled customers per step (longest stalled first).

    A customer "could climb" from a step in the period when they reached it
    before ``end`` and had not climbed above it before ``start``; they
    "climbed" when they first reached a higher step inside the period.
    """
    steps = list(ladder.steps.select_related("product").order_by("position"))
    figures = {step.pk: StepFigures(step=step) for step in steps}

    funnel = (
        CustomerLadderPosition.objects.filter(ladder=ladder)
        .values("step_id")
        .annotate(
            customers=Count("step_id"),
            stalled=Count("step_id", filter=Q(stalled=True)),
        )
        .order_by()
    )
    for row in funnel:
        if row["step_id"] in figures:
            figures[row["step_id"]].customers = row["customers"]
            figures[row["step_id"]].stalled = row["stalled"]

    climbed_in_period = Q(climbed_at__gte=start, climbed_at__lt=end)
    eligible = Q(reached_at__lt=end) & (
        Q(climbed_at__isnull=True) | Q(climbed_at__gte=start)
    )
    reaches = (
        CustomerStepReach.objects.filter(ladder=ladder)
        .values("step_id")
        .annotate(
            reached=Count("step_id"),
            eligible=Count("step_id", filter=eligible),
            climbed=Count("step_id", filter=climbed_in_period),
            revenue=Sum("revenue"),
        )
        .order_by()
    )
    for row in reaches:
        if row["step_id"] in figures:
            item = figures[row["step_id"]]
            item.reached = row["reached"]
            item.eligible = row["eligible"]
            item.climbed = row["climbed"]
            item.revenue = row["revenue"] or Decimal("0")

    histogram: dict[int, tuple[list[int], list[int]]] = {}
    days = (
        CustomerStepReach.objects.filter(climbed_in_period, ladder=ladder)
        .values("step_id", "days_to_climb")
        .annotate(n=Count("step_id"))
        .order_by()
    )
    for row in days:
        values, counts = histogram.setdefault(row["step_id"], ([], []))
        values.append(row["days_to_climb"])
        counts.append(row["n"])
    for step_id, (values, counts) in histogram.items():
        if step_id in figures:
            figures[
                step_id
            ].median_days_to_climb = position_maths.median_from_histogram(
                values, counts
            )

    stalled = list_stalled_rows(
        ladder_id=ladder.pk, step_ids=list(figures), limit=stalled_limit
    )
    for row in stalled:
        if row["step_id"] in figures:
            name = f"{row['customer__first_name']} {row['customer__last_name']}".strip()
            figures[row["step_id"]].stalled_customers.append(
                StalledCustomer(
                    customer_id=row["customer_id"],
                    name=name
                    or row["customer__external_id"]
                    or f"#{row['customer_id']}",
                    reached_at=row["reached_at"],
                    url=customer_page_url(row["customer_id"]),
                )
            )
    return LadderReport(
        ladder=ladder,
        start=start,
        end=end,
        steps=[figures[step.pk] for step in steps],
        stalled_limit=stalled_limit,
    )


STALLED_COLUMNS = (
    "step_id",
    "customer_id",
    "reached_at",
    "customer__first_name",
    "customer__last_name",
    "customer__external_id",
)


def list_stalled_rows(
    *, ladder_id: int, step_ids: Sequence[int], limit: int
) -> list[dict]:
    """The ``limit`` longest-stalled customers of each step, in one query.

    On PostgreSQL: a UNION ALL of one ``LIMIT`` per step, each an index range
    scan on ``ladder_position_stalled_idx`` (milliseconds for 100,000
    positions). Databases that cannot slice inside a compound query get a
    ROW_NUMBER() window instead, which reads every stalled row of the ladder.
    Rows are sorted by step, then longest stalled first.
    """
    base = CustomerLadderPosition.objects.filter(ladder_id=ladder_id, stalled=True)
    if not step_ids:
        return []
    if connection.features.supports_slicing_ordering_in_compound:
        parts = [
            base.filter(step_id=step_id)
            .order_by("reached_at", "customer_id")
            .values(*STALLED_COLUMNS)[:limit]
            for step_id in step_ids
        ]
        rows = (
            list(parts[0].union(*parts[1:], all=True))
            if len(parts) > 1
            else list(parts[0])
        )
    else:
        rows = list(
            base.annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("step_id")],
                    order_by=[F("reached_at").asc(), F("customer_id").asc()],
                )
            )
            .filter(rank__lte=limit)
            .values(*STALLED_COLUMNS)
        )
    rows.sort(key=lambda row: (row["step_id"], row["reached_at"], row["customer_id"]))
    return rows

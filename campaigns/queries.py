"""Reads of the campaigns domain: frames for the results, and small lookups.

(The pages' own reads live in ``campaigns.selectors``.) Each loader is one
query that returns a DataFrame with the column contract of
``campaigns.results``; Decimals are cast to floats in SQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    Max,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from campaigns import results
from campaigns.models import AudienceMember, Campaign, CampaignResult, OfferRedemption
from crm.models import Order, OrderLine, Product, Store
from ladder.models import Step


def get_return_cost_per_unit() -> float:
    """Handling cost of one returned unit (CAMPAIGN_RETURN_COST_PER_UNIT, 5.0)."""
    return float(getattr(settings, "CAMPAIGN_RETURN_COST_PER_UNIT", 5.0))


def campaign_start(campaign: Campaign) -> dt.datetime | None:
    """When the campaign's messages start: the schedule if later than the launch."""
    if campaign.launched_at is None:
        return None
    if campaign.schedule_at is not None and campaign.schedule_at > campaign.launched_at:
        return campaign.schedule_at
    return campaign.launched_at


def offered_product_ids(campaign: Campaign) -> list[int] | None:
    """Products whose purchase is a conversion, or None for any merchandise.

    Upsell and cross-sell campaigns count their offer only (a step counts
    its product and the products that "also count" for it); the other goals
    count any purchase.
    """
    if campaign.goal not in (Campaign.Goal.UPSELL, Campaign.Goal.CROSS_SELL):
        return None
    if campaign.offer_step_id is not None:
        step = Step.objects.filter(pk=campaign.offer_step_id)
        ids = set(step.values_list("product_id", flat=True))
        ids |= set(step.values_list("also_counts__pk", flat=True)) - {None}
        return sorted(ids)
    if campaign.offer_product_id is not None:
        return [campaign.offer_product_id]
    return None


def _send_times(campaign: Campaign) -> dict[int, dt.datetime]:
    """customer id → when their message went out, if the sending app records it."""
    try:
        send = apps.get_model("campaigns", "Send")
    except LookupError:
        return {}
    names = {field.name for field in send._meta.get_fields()}
    if not {"campaign", "customer", "sent_at"} <= names:
        return {}
    return dict(
        send.objects.filter(campaign=campaign, sent_at__isnull=False).values_list(
            "customer_id", "sent_at"
        )
    )


def load_members(campaign: Campaign) -> pd.DataFrame:
    """The frozen audience as ``results.MEMBER_COLUMNS`` (two queries at most)."""
    start = campaign_start(campaign)
    rows = AudienceMember.objects.filter(campaign=campaign).values_list(
        "customer_id", "variant__label", "customer__home_store_id", "ladder_step_id"
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["customer_id", "group", "store_id", "ladder_step_id"]
    )
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["group"] = frame["group"].fillna(results.CONTROL).astype(str)
    frame["store_id"] = frame["store_id"].astype("float64")
    frame["ladder_step_id"] = frame["ladder_step_id"].astype("float64")
    frame["start"] = pd.Timestamp(start)
    sent = _send_times(campaign)
    if sent:
        treated = frame["group"] != results.CONTROL
        sent_at = pd.to_datetime(frame["customer_id"].map(sent), utc=True)
        frame.loc[treated & sent_at.notna(), "start"] = sent_at[
            treated & sent_at.notna()
        ]
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    return frame[list(results.MEMBER_COLUMNS)]


class EpochSeconds(Func):
    """Seconds since 1970 (UTC) as a float: far cheaper to load than timestamps."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores SQLite datetimes as UTC text, which julianday() parses.
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra_context,
        )


def _money_aggregates() -> dict[str, Any]:
    kept = F("quantity") - F("returned_quantity")
    return {
        "kept": Cast(Sum(kept), FloatField()),
        "returned": Cast(Sum("returned_quantity"), FloatField()),
        "revenue": Sum(Cast(kept * F("unit_price"), FloatField())),
        "cost": Sum(
            Cast(kept * Coalesce(F("product__unit_cost"), Value(0)), FloatField())
        ),
        "returned_value": Sum(
            Cast(F("returned_quantity") * F("unit_price"), FloatField())
        ),
        "cost_unknown": Max(
            Case(When(product__unit_cost__isnull=True, then=1), default=0)
        ),
    }


def _fetch_frame(queryset: QuerySet, columns: list[str]) -> pd.DataFrame:
    """Run ``values_list(*columns)`` straight on the cursor.

    Django's per-row conversions cost more than the query at a million
    lines; every column is already a plain number or text in SQL.
    """
    sql, params = queryset.values_list(*columns).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _order_frame(rows, columns)


def _order_frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """Per-order rows as a frame: ``placed_epoch`` made ``placed_at`` (UTC),
    the money columns (``results.MONEY_COLUMNS``) typed."""
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame["placed_at"] = pd.to_datetime(
        frame.pop("placed_epoch").astype("float64"), unit="s", utc=True
    )
    for column in results.MONEY_COLUMNS:
        frame[column] = frame[column].astype(
            bool if column == "cost_unknown" else "float64"
        )
    return frame


_LINES_SQL = """
SELECT o.customer_id, o.id, {epoch} AS placed_epoch, l.qualifying, l.kept, l.returned,
       l.revenue, l.cost, l.returned_value, l.cost_unknown
FROM (
    SELECT ol.order_id, {qualifying} AS qualifying,
        SUM(ol.quantity - ol.returned_quantity) AS kept,
        SUM(ol.returned_quantity) AS returned,
        SUM((ol.quantity - ol.returned_quantity)
            * CAST(ol.unit_price AS DOUBLE PRECISION)) AS revenue,
        SUM((ol.quantity - ol.returned_quantity)
            * CAST(COALESCE(p.unit_cost, 0) AS DOUBLE PRECISION)) AS cost,
        SUM(ol.returned_quantity * CAST(ol.unit_price AS DOUBLE PRECISION))
            AS returned_value,
        MAX(CASE WHEN p.unit_cost IS NULL THEN 1 ELSE 0 END) AS cost_unknown
    FROM {line} ol
    JOIN {product} p ON p.id = ol.product_id AND p.kind <> %s
    WHERE ol.order_id IN (
        SELECT o2.id FROM {order} o2
        WHERE o2.status = %s AND o2.placed_at >= %s AND o2.placed_at < %s
          AND o2.customer_id IN (
              SELECT m.customer_id FROM {member} m WHERE m.campaign_id = %s
          )
    )
    GROUP BY ol.order_id, {qualifying}
) l
JOIN {order} o ON o.id = l.order_id
"""


def load_lines(campaign: Campaign, *, until: dt.datetime) -> pd.DataFrame:
    """Members' purchases from the campaign start to the last window's end.

    ``results.LINE_COLUMNS``: one row per order and "qualifies" flag, summed
    in SQL; charge lines (postage, fees) never count.

    Hand-written SQL: lines are summed per order first and joined to their
    order afterwards, so the half million lines of a large campaign are
    aggregated on two integer keys with no per-line casts; the ORM's GROUP
    BY over the order's columns cost twice as much (see bench_campaigns).
    """
    start = campaign_start(campaign)
    offered = offered_product_ids(campaign)
    if offered is None:
        qualifying = "1"
    elif offered:
        qualifying = (
            "CASE WHEN ol.product_id IN ("
            + ", ".join(str(int(pk)) for pk in offered)
            + ") THEN 1 ELSE 0 END"
        )
    else:
        qualifying = "0"
    if connection.vendor == "sqlite":
        epoch = "((julianday(o.placed_at) - 2440587.5) * 86400.0)"
    else:
        epoch = "EXTRACT(EPOCH FROM o.placed_at)"
    sql = _LINES_SQL.format(
        epoch=epoch,
        qualifying=qualifying,
        line=OrderLine._meta.db_table,
        product=Product._meta.db_table,
        order=Order._meta.db_table,
        member=AudienceMember._meta.db_table,
    )
    params = [
        Product.Kind.CHARGE.value,
        Order.Status.PLACED.value,
        start,
        until,
        campaign.pk,
    ]
    columns = [
        "customer_id",
        "order_id",
        "placed_epoch",
        "qualifying",
        *results.MONEY_COLUMNS,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # Enough memory to hash the orders instead of sorting on disk.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    frame = _order_frame(rows, columns)
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["order_id"] = frame["order_id"].astype("int64")
    frame["qualifies"] = frame.pop("qualifying").astype(bool)
    return frame[list(results.LINE_COLUMNS)]


def load_code_lines(campaign: Campaign) -> pd.DataFrame:
    """Orders that carried one of the campaign's offer codes, summed per order."""
    redeemed = OfferRedemption.objects.filter(offer_code__campaign=campaign).values(
        "order_id"
    )
    lines = OrderLine.objects.filter(
        order_id__in=redeemed, order__status=Order.Status.PLACED
    ).exclude(product__kind=Product.Kind.CHARGE)
    grouped = (
        lines.order_by()
        .values(
            "order_id",
            customer=F("order__customer_id"),
            placed_epoch=EpochSeconds("order__placed_at"),
            code=F("order__offer_redemption__offer_code__code"),
            kind=F("order__offer_redemption__offer_code__kind"),
            partner_name=F("order__offer_redemption__offer_code__partner_name"),
        )
        .annotate(**_money_aggregates())
    )
    columns = [
        "order_id",
        "customer",
        "placed_epoch",
        "code",
        "kind",
        "partner_name",
        *results.MONEY_COLUMNS,
    ]
    frame = _fetch_frame(grouped, columns).rename(columns={"customer": "customer_id"})
    frame["order_id"] = frame["order_id"].astype("int64")
    frame["customer_id"] = frame["customer_id"].astype("float64")
    for column in ("code", "kind", "partner_name"):
        frame[column] = frame[column].astype(str)
    return frame[list(results.CODE_LINE_COLUMNS)]


def compute_campaign_results(*, campaign: Campaign, now: dt.datetime) -> dict[str, Any]:
    """Results payload of a launched campaign (about eight queries)."""
    start = campaign_start(campaign)
    members = load_members(campaign)
    latest_start = members["start"].max() if not members.empty else pd.Timestamp(start)
    until = min(
        latest_start.to_pydatetime()
        + dt.timedelta(days=campaign.attribution_window_days),
        now,
    )
    lines = load_lines(campaign, until=until)
    code_lines = load_code_lines(campaign)
    code_lines = code_lines[code_lines["placed_at"] < pd.Timestamp(now)]
    labels = list(campaign.variants.order_by("label").values_list("label", flat=True))
    store_ids = {int(x) for x in members["store_id"].dropna()}
    step_ids = {int(x) for x in members["ladder_step_id"].dropna()}
    payload = results.compute_results(
        members,
        lines,
        code_lines,
        window_days=campaign.attribution_window_days,
        discount_percent=float(campaign.discount_percent),
        start=pd.Timestamp(start),
        now=pd.Timestamp(now),
        variant_labels=labels,
        store_names=dict(
            Store.objects.filter(pk__in=store_ids).values_list("pk", "name")
        ),
        step_names=dict(Step.objects.filter(pk__in=step_ids).values_list("pk", "name")),
        return_cost_per_unit=get_return_cost_per_unit(),
        tz=str(timezone.get_current_timezone()),
    )
    payload["campaign_id"] = campaign.pk
    payload["computed_at"] = now.isoformat()
    return payload


def get_campaign_result(*, campaign_id: int) -> CampaignResult | None:
    """The cached results row of a campaign, or None before the first refresh."""
    return CampaignResult.objects.filter(campaign_id=campaign_id).first()


def campaigns_with_results() -> QuerySet[Campaign]:
    """Launched campaigns with their cached result (one query), newest first."""
    return (
        Campaign.objects.filter(launched_at__isnull=False)
        .select_related("result", "segment")
        .order_by("-launched_at", "-pk")
    )


def audience_summary(*, campaign: Campaign) -> dict[str, int]:
    """Frozen audience size per group ("control" and each variant label)."""
    rows = (
        AudienceMember.objects.filter(campaign=campaign)
        .values("variant__label")
        .order_by()
        .annotate(n=Count("pk"))
    )
    return {row["variant__label"] or results.CONTROL: row["n"] for row in rows}

"""Per-customer return, cancellation and margin scores, and cross-sell eligibility.

A customer whose returns or cancellations make cross-selling lose money is
"excluded" (no suggestions) or "downgraded" (upsell only, in person only), with a
reason code and an English reason (templates in ``reasons``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommendations.engine._validation import require_frame, require_no_nulls
from recommendations.engine.baskets import validate_order_lines
from recommendations.engine.reasons import format_percent, render_reason

#: Product frame (catalogue). dtypes: product_id int64, sku str, name str,
#: category_id int64, kind str, price float64, unit_cost float64 (NaN: unknown),
#: season str ("all_year" | "spring_summer" | "autumn_winter"),
#: is_consumable bool, active bool.
PRODUCT_COLUMNS: tuple[str, ...] = (
    "product_id",
    "sku",
    "name",
    "category_id",
    "kind",
    "price",
    "unit_cost",
    "season",
    "is_consumable",
    "active",
)

#: Customer score frame. dtypes: customer_id int64, orders int64,
#: cancelled_orders int64, units int64, returned_units int64, return_rate float64,
#: cancellation_rate float64, value float64 (kept units x unit price),
#: net_margin float64, eligibility str ("eligible" | "downgraded" | "excluded"),
#: reason_code str, reason_params object (dict), reason str (English).
CUSTOMER_SCORE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "orders",
    "cancelled_orders",
    "units",
    "returned_units",
    "return_rate",
    "cancellation_rate",
    "value",
    "net_margin",
    "eligibility",
    "reason_code",
    "reason_params",
    "reason",
)

ELIGIBILITIES: tuple[str, ...] = ("eligible", "downgraded", "excluded")


@dataclass(frozen=True)
class ScoreThresholds:
    """Limits for cross-sell eligibility (rates are fractions in [0, 1]).

    Rates are only judged from ``min_orders`` orders on, so one returned parcel
    does not brand a new customer. ``return_cost`` is charged per returned unit
    and ``cancellation_cost`` per cancelled order when computing net margin.
    """

    return_rate_downgrade: float = 0.25
    return_rate_exclude: float = 0.5
    cancellation_rate_downgrade: float = 0.3
    cancellation_rate_exclude: float = 0.6
    min_orders: int = 3
    return_cost: float = 5.0
    cancellation_cost: float = 3.0
    default_margin_rate: float = 0.3


def unit_margins(products: pd.DataFrame, *, default_margin_rate: float) -> pd.Series:
    """Margin per unit indexed by product_id: price - unit_cost, else price x rate."""
    require_frame(
        products, name="products", columns=("product_id", "price", "unit_cost")
    )
    require_no_nulls(products, name="products", columns=("product_id", "price"))
    known = products["price"] - products["unit_cost"]
    fallback = products["price"] * default_margin_rate
    return pd.Series(
        np.where(products["unit_cost"].notna(), known, fallback),
        index=products["product_id"].to_numpy(),
    )


def score_customers(
    order_lines: pd.DataFrame,
    *,
    products: pd.DataFrame,
    thresholds: ScoreThresholds,
    customer_ids: np.ndarray | None = None,
) -> pd.DataFrame:
    """Score customers (``CUSTOMER_SCORE_COLUMNS``), one row per customer.

    ``customer_ids`` adds customers with no orders (reason "no_history", still
    eligible for popular products). Lines without a customer are ignored. Net
    margin = margin of kept units (sale price minus unit cost, or the default
    margin rate of the sale price when the cost is unknown) minus return and
    cancellation costs. Checks, first match wins: negative net margin with
    returns or cancellations, then excessive, then high return and cancellation
    rates.
    """
    validate_order_lines(order_lines)
    require_frame(
        products, name="products", columns=("product_id", "price", "unit_cost")
    )
    require_no_nulls(products, name="products", columns=("product_id", "price"))
    lines = order_lines[order_lines["customer_id"].notna()]
    cancelled = lines["order_status"] == "cancelled"
    quantity = lines["quantity"].astype("int64")
    returned = lines["returned_quantity"].fillna(0).astype("int64").clip(0, None)
    returned = returned.where(~cancelled, 0)
    kept = (quantity - returned).clip(0, None).where(~cancelled, 0)
    cost_known = products.set_index("product_id")["unit_cost"]
    line_cost = lines["product_id"].map(cost_known)
    line_margin = np.where(
        line_cost.notna(),
        lines["unit_price"] - line_cost,
        lines["unit_price"] * thresholds.default_margin_rate,
    )
    frame = pd.DataFrame(
        {
            "customer_id": lines["customer_id"].astype("int64"),
            "order_id": lines["order_id"],
            "cancelled": cancelled,
            "units": quantity.where(~cancelled, 0),
            "returned_units": returned,
            "value": kept * lines["unit_price"],
            "margin": kept * line_margin,
        }
    )
    orders = frame.drop_duplicates(["customer_id", "order_id"])
    per_order = orders.groupby("customer_id").agg(
        orders=("order_id", "size"), cancelled_orders=("cancelled", "sum")
    )
    per_line = frame.groupby("customer_id").agg(
        units=("units", "sum"),
        returned_units=("returned_units", "sum"),
        value=("value", "sum"),
        margin=("margin", "sum"),
    )
    scores = per_order.join(per_line, how="outer")
    if customer_ids is not None:
        extra = pd.Index(np.asarray(customer_ids, dtype="int64")).difference(
            scores.index
        )
        scores = scores.reindex(scores.index.append(extra))
    scores = scores.fillna(0)
    scores.index.name = "customer_id"
    scores = scores.reset_index().sort_values("customer_id", kind="stable")
    for column in ("orders", "cancelled_orders", "units", "returned_units"):
        scores[column] = scores[column].astype("int64")
    scores["return_rate"] = np.divide(
        scores["returned_units"],
        scores["units"],
        out=np.zeros(len(scores)),
        where=scores["units"].to_numpy() > 0,
    )
    scores["cancellation_rate"] = np.divide(
        scores["cancelled_orders"],
        scores["orders"],
        out=np.zeros(len(scores)),
        where=scores["orders"].to_numpy() > 0,
    )
    scores["net_margin"] = (
        scores["margin"]
        - thresholds.return_cost * scores["returned_units"]
        - thresholds.cancellation_cost * scores["cancelled_orders"]
    ).astype("float64")
    scores["value"] = scores["value"].astype("float64")
    decisions = [
        _decide(row, thresholds=thresholds) for row in scores.itertuples(index=False)
    ]
    # itertuples: a handful of ordered rules with early exit per customer reads
    # far clearer than nested np.select, and runs once per scoring batch.
    scores["eligibility"] = [decision[0] for decision in decisions]
    scores["reason_code"] = [decision[1] for decision in decisions]
    scores["reason_params"] = [decision[2] for decision in decisions]
    scores["reason"] = [
        render_reason(code, params=params)
        for code, params in zip(
            scores["reason_code"], scores["reason_params"], strict=True
        )
    ]
    return scores[list(CUSTOMER_SCORE_COLUMNS)].reset_index(drop=True)


def _decide(row: Any, *, thresholds: ScoreThresholds) -> tuple[str, str, dict]:
    if row.orders == 0:
        return "eligible", "no_history", {}
    troubled = row.returned_units > 0 or row.cancelled_orders > 0
    if troubled and row.net_margin < 0:
        return "excluded", "negative_margin", {"net_margin": f"{row.net_margin:.2f}"}
    judged = row.orders >= thresholds.min_orders
    checks = (
        (
            "return_rate",
            thresholds.return_rate_exclude,
            "excluded",
            "returns_excessive",
        ),
        (
            "cancellation_rate",
            thresholds.cancellation_rate_exclude,
            "excluded",
            "cancellations_excessive",
        ),
        ("return_rate", thresholds.return_rate_downgrade, "downgraded", "returns_high"),
        (
            "cancellation_rate",
            thresholds.cancellation_rate_downgrade,
            "downgraded",
            "cancellations_high",
        ),
    )
    if judged:
        for attribute, limit, eligibility, code in checks:
            rate = getattr(row, attribute)
            if rate > limit:
                return (
                    eligibility,
                    code,
                    {
                        f"{attribute}_pct": format_percent(rate),
                        "limit_pct": format_percent(limit),
                    },
                )
    return "eligible", "eligible", {}

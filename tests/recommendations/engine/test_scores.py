"""Customer scores and cross-sell eligibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommendations.engine.baskets import ORDER_LINE_COLUMNS
from recommendations.engine.scores import (
    CUSTOMER_SCORE_COLUMNS,
    ScoreThresholds,
    score_customers,
    unit_margins,
)

PRODUCTS = pd.DataFrame(
    {"product_id": [1, 2], "price": [10.0, 50.0], "unit_cost": [6.0, np.nan]}
)


def order_lines(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(ORDER_LINE_COLUMNS))
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    frame["placed_at"] = pd.to_datetime(frame["placed_at"], utc=True)
    return frame


def line(
    order: int,
    customer: int | None,
    product: int,
    quantity: int = 1,
    returned: int = 0,
    price: float = 10.0,
    status: str = "placed",
) -> tuple:
    return (order, customer, product, quantity, returned, price, "2026-01-01", status)


def test_a_good_customer_is_eligible_with_hand_checked_figures() -> None:
    lines = order_lines([line(1, 7, 1, quantity=2), line(2, 7, 2, price=50.0)])
    scores = score_customers(lines, products=PRODUCTS, thresholds=ScoreThresholds())
    expected = pd.DataFrame(
        {
            "customer_id": [7],
            "orders": [2],
            "cancelled_orders": [0],
            "units": [3],
            "returned_units": [0],
            "return_rate": [0.0],
            "cancellation_rate": [0.0],
            "value": [70.0],
            # 2 x (10 - 6) + 1 x 50 x 0.3 default margin rate
            "net_margin": [23.0],
            "eligibility": ["eligible"],
            "reason_code": ["eligible"],
            "reason_params": [{}],
            "reason": ["Eligible for cross-selling."],
        }
    )
    pd.testing.assert_frame_equal(scores, expected)


def test_a_customer_with_many_returns_is_left_out_with_the_reason() -> None:
    rows = [line(order, 8, 2, returned=1, price=50.0) for order in range(1, 5)]
    rows.append(line(5, 8, 1))
    scores = score_customers(
        order_lines(rows),
        products=PRODUCTS,
        thresholds=ScoreThresholds(return_cost=0.0),
    ).iloc[0]
    # Margin is positive (4 from the kept unit) once return costs are ignored,
    # so the rate rule decides: 4 of 5 units returned.
    assert scores["return_rate"] == pytest.approx(0.8)
    assert scores["eligibility"] == "excluded"
    assert scores["reason_code"] == "returns_excessive"
    assert scores["reason"] == "Left out: 80 % of units returned (limit 50 %)."


def test_returns_that_cost_more_than_the_margin_exclude_the_customer() -> None:
    rows = [line(order, 8, 1, returned=1) for order in range(1, 3)]
    scores = score_customers(
        order_lines(rows), products=PRODUCTS, thresholds=ScoreThresholds()
    ).iloc[0]
    assert scores["net_margin"] == pytest.approx(-10.0)
    assert scores["reason_code"] == "negative_margin"


def test_some_cancellations_downgrade_the_customer() -> None:
    rows = [line(order, 9, 1) for order in range(1, 4)]
    rows.append(line(4, 9, 1, status="cancelled"))
    scores = score_customers(
        order_lines(rows), products=PRODUCTS, thresholds=ScoreThresholds()
    ).iloc[0]
    assert scores["cancellation_rate"] == pytest.approx(0.25)
    assert scores["eligibility"] == "eligible"
    rows.append(line(5, 9, 1, status="cancelled"))
    scores = score_customers(
        order_lines(rows), products=PRODUCTS, thresholds=ScoreThresholds()
    ).iloc[0]
    assert scores["cancellation_rate"] == pytest.approx(0.4)
    assert scores["eligibility"] == "downgraded"
    assert scores["reason_code"] == "cancellations_high"
    assert scores["reason"].startswith("In person and upsell only")


def test_rates_are_not_judged_before_min_orders() -> None:
    rows = [line(1, 5, 1, quantity=2, returned=1)]
    scores = score_customers(
        order_lines(rows),
        products=PRODUCTS,
        thresholds=ScoreThresholds(return_cost=0.0),
    ).iloc[0]
    assert scores["return_rate"] == pytest.approx(0.5)
    assert scores["eligibility"] == "eligible"


def test_customers_without_orders_are_listed_as_no_history() -> None:
    scores = score_customers(
        order_lines([line(1, 7, 1)]),
        products=PRODUCTS,
        thresholds=ScoreThresholds(),
        customer_ids=np.array([7, 99]),
    )
    assert list(scores.columns) == list(CUSTOMER_SCORE_COLUMNS)
    newcomer = scores.set_index("customer_id").loc[99]
    assert newcomer["reason_code"] == "no_history"
    assert newcomer["eligibility"] == "eligible"


def test_unit_margins_fall_back_to_the_default_rate() -> None:
    margins = unit_margins(PRODUCTS, default_margin_rate=0.3)
    pd.testing.assert_series_equal(
        margins, pd.Series([4.0, 15.0], index=pd.Index([1, 2]))
    )


def test_malformed_inputs_are_rejected() -> None:
    lines = order_lines([line(1, 7, 1)])
    with pytest.raises(ValueError, match="products is missing column"):
        score_customers(
            lines,
            products=PRODUCTS.drop(columns="unit_cost"),
            thresholds=ScoreThresholds(),
        )
    with pytest.raises(ValueError, match="order_lines is missing column"):
        score_customers(
            lines.drop(columns="quantity"),
            products=PRODUCTS,
            thresholds=ScoreThresholds(),
        )
    with pytest.raises(ValueError, match="products.product_id has 1 missing"):
        score_customers(
            lines,
            products=PRODUCTS.assign(product_id=[1, None]),
            thresholds=ScoreThresholds(),
        )

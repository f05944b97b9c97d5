"""Order lines to the basket x product matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommendations.engine.baskets import (
    ORDER_LINE_COLUMNS,
    build_basket_matrix,
    kept_order_lines,
)


def lines(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(ORDER_LINE_COLUMNS))
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    frame["placed_at"] = pd.to_datetime(frame["placed_at"], utc=True)
    return frame


ROWS = [
    (1, 10, 100, 1, 0, 5.0, "2026-01-01 09:00", "placed"),
    (1, 10, 101, 2, 0, 3.0, "2026-01-01 09:00", "placed"),
    (1, 10, 101, 1, 0, 3.0, "2026-01-01 09:00", "placed"),  # repeated product
    (2, 10, 102, 1, 0, 9.0, "2026-01-01 17:00", "placed"),  # same customer-day
    (3, 11, 100, 1, 1, 5.0, "2026-01-02 10:00", "placed"),  # fully returned
    (3, 11, 103, 3, 1, 2.0, "2026-01-02 10:00", "placed"),  # partly returned
    (4, 11, 104, 1, 0, 2.0, "2026-01-02 11:00", "cancelled"),
    (5, None, 100, 1, 0, 5.0, "2026-01-03 10:00", "placed"),  # anonymous
]


def test_orders_become_baskets_without_cancelled_or_returned_lines() -> None:
    baskets = build_basket_matrix(lines(ROWS), basket="order")
    np.testing.assert_array_equal(baskets.basket_ids, [1, 2, 3, 5])
    np.testing.assert_array_equal(baskets.item_ids, [100, 101, 102, 103])
    assert baskets.matrix.dtype == bool
    np.testing.assert_array_equal(
        baskets.matrix.toarray(),
        [[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]],
    )


def test_customer_days_merge_orders_and_skip_anonymous_lines() -> None:
    baskets = build_basket_matrix(lines(ROWS), basket="customer_day")
    np.testing.assert_array_equal(
        baskets.basket_ids, ["10:2026-01-01", "11:2026-01-02"]
    )
    np.testing.assert_array_equal(
        baskets.matrix.toarray(), [[1, 1, 1, 0], [0, 0, 0, 1]]
    )


def test_kept_lines_carry_the_kept_quantity() -> None:
    kept = kept_order_lines(lines(ROWS))
    expected = pd.Series(
        [1, 2, 1, 1, 2, 1], name="kept_quantity", index=[0, 1, 2, 3, 5, 7]
    )
    pd.testing.assert_series_equal(kept["kept_quantity"], expected)


def test_input_is_not_mutated() -> None:
    frame = lines(ROWS)
    before = frame.copy()
    build_basket_matrix(frame, basket="customer_day")
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="order_status"), "missing column"),
        (lambda f: f.assign(product_id=[None, *f["product_id"][1:]]), "missing value"),
        (lambda f: f.assign(order_status="shipped"), "unknown value"),
        (lambda f: f.to_dict(), "must be a pandas DataFrame"),
    ],
)
def test_malformed_order_lines_are_rejected(change, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_basket_matrix(change(lines(ROWS)))


def test_unknown_basket_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="basket must be"):
        build_basket_matrix(lines(ROWS), basket="week")

"""Order lines to a sparse basket x product matrix.

A basket is an order, or everything one customer bought on one (UTC) day. Lines of
cancelled orders and fully returned lines are left out; a partly returned line
still counts (the customer kept some of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommendations.engine._validation import require_frame, require_no_nulls

#: Order-line input frame. dtypes: order_id int64, customer_id Int64 (nullable),
#: product_id int64, quantity int64, returned_quantity int64, unit_price float64,
#: placed_at datetime64[ns|us, UTC], order_status str ("placed" | "cancelled").
ORDER_LINE_COLUMNS: tuple[str, ...] = (
    "order_id",
    "customer_id",
    "product_id",
    "quantity",
    "returned_quantity",
    "unit_price",
    "placed_at",
    "order_status",
)
ORDER_STATUSES: frozenset[str] = frozenset({"placed", "cancelled"})

BasketKind = Literal["order", "customer_day"]


@dataclass(frozen=True)
class BasketMatrix:
    """A basket x item incidence matrix with its row and column labels.

    ``matrix`` is a ``scipy.sparse.csr_matrix`` of dtype bool, shape
    ``(len(basket_ids), len(item_ids))``; entry (b, i) is True when basket b holds
    item i (an item repeated in a basket counts once). ``basket_ids`` and
    ``item_ids`` are 1-d numpy arrays, ``item_ids`` sorted ascending.
    """

    matrix: sp.csr_matrix
    basket_ids: np.ndarray
    item_ids: np.ndarray

    @property
    def n_baskets(self) -> int:
        """Number of baskets (rows)."""
        return int(self.matrix.shape[0])


def validate_order_lines(order_lines: pd.DataFrame) -> pd.DataFrame:
    """Check an order-line frame against ``ORDER_LINE_COLUMNS``; return it unchanged.

    Raises ``ValueError`` on a missing column, a missing order/product id,
    a missing placed_at or an unknown order_status.
    """
    require_frame(order_lines, name="order_lines", columns=ORDER_LINE_COLUMNS)
    require_no_nulls(
        order_lines,
        name="order_lines",
        columns=("order_id", "product_id", "quantity", "placed_at", "order_status"),
    )
    unknown = set(order_lines["order_status"].unique()) - ORDER_STATUSES
    if unknown:
        raise ValueError(
            f"order_lines.order_status has unknown value(s) {sorted(map(str, unknown))}"
        )
    return order_lines


def kept_order_lines(order_lines: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of the lines that count as purchases.

    Drops lines of cancelled orders and lines whose whole quantity was returned;
    adds ``kept_quantity`` = quantity - returned_quantity (int64, > 0).
    """
    validate_order_lines(order_lines)
    returned = order_lines["returned_quantity"].fillna(0).astype("int64")
    kept_quantity = order_lines["quantity"].astype("int64") - returned
    keep = (order_lines["order_status"] != "cancelled") & (kept_quantity > 0)
    kept = order_lines.loc[keep].copy()
    kept["kept_quantity"] = kept_quantity[keep]
    return kept


def basket_matrix_from_items(
    frame: pd.DataFrame, *, basket_column: str, item_column: str
) -> BasketMatrix:
    """Build a ``BasketMatrix`` from a long frame of (basket, item) rows.

    Repeated (basket, item) rows count once. Baskets keep their order of first
    appearance; items are sorted. Raises ``ValueError`` on missing columns or ids.
    """
    require_frame(frame, name="frame", columns=(basket_column, item_column))
    require_no_nulls(frame, name="frame", columns=(basket_column, item_column))
    basket_codes, basket_ids = pd.factorize(frame[basket_column], sort=False)
    item_codes, item_ids = pd.factorize(frame[item_column], sort=True)
    matrix = sp.csr_matrix(
        (
            np.ones(len(frame), dtype=bool),
            (basket_codes.astype(np.int64), item_codes.astype(np.int64)),
        ),
        shape=(len(basket_ids), len(item_ids)),
        dtype=bool,
    )
    matrix.sum_duplicates()
    matrix.sort_indices()
    return BasketMatrix(
        matrix=matrix,
        basket_ids=np.asarray(basket_ids),
        item_ids=np.asarray(item_ids),
    )


def build_basket_matrix(
    order_lines: pd.DataFrame, *, basket: BasketKind = "order"
) -> BasketMatrix:
    """Turn order lines into a basket x product matrix.

    ``basket="order"``: one basket per order_id (``basket_ids`` holds order ids).
    ``basket="customer_day"``: one basket per customer and UTC calendar day;
    ``basket_ids`` holds strings ``"<customer_id>:<YYYY-MM-DD>"``, and lines with no
    customer are left out (they cannot be grouped by customer). Cancelled and fully
    returned lines are removed first. ``item_ids`` are product ids (int64).
    """
    if basket not in ("order", "customer_day"):
        raise ValueError(f"basket must be 'order' or 'customer_day', got {basket!r}")
    kept = kept_order_lines(order_lines)
    if basket == "order":
        long = pd.DataFrame(
            {"basket": kept["order_id"].to_numpy(), "item": kept["product_id"]}
        )
    else:
        kept = kept[kept["customer_id"].notna()]
        day = pd.to_datetime(kept["placed_at"], utc=True).dt.strftime("%Y-%m-%d")
        key = kept["customer_id"].astype("int64").astype(str) + ":" + day
        long = pd.DataFrame({"basket": key.to_numpy(), "item": kept["product_id"]})
    long["item"] = long["item"].astype("int64")
    return basket_matrix_from_items(long, basket_column="basket", item_column="item")

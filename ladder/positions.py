"""Customers' positions on value ladders: pure pandas over purchase lines.

No Django here. ``ladder.selectors`` builds the frames from one bulk query,
``ladder.services`` writes the results with bulk upserts. Times are integer
UNIX seconds (UTC) so the frames stay numeric and cheap.

Input columns:

- ``LINE_COLUMNS``: kept purchase lines only (placed orders, known customer,
  quantity minus returns > 0). ``customer_id``/``product_id`` int64,
  ``placed_at`` int64 seconds, ``kept_quantity`` int64, ``amount`` float64
  (unit price × kept quantity), ``subscription_months`` int64 (0 when the
  product is not a subscription).
- ``STEP_PRODUCT_COLUMNS``: one row per product that places a customer on a
  step (the offer and its "also counts" products). ``ladder_id``, ``step_id``,
  ``position``, ``product_id`` int64, ``has_upsell`` bool (a higher step that
  is not cross-sell only exists).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LINE_COLUMNS = [
    "customer_id",
    "product_id",
    "placed_at",
    "kept_quantity",
    "amount",
    "subscription_months",
]
STEP_PRODUCT_COLUMNS = ["ladder_id", "step_id", "position", "product_id", "has_upsell"]
REACH_COLUMNS = [
    "customer_id",
    "ladder_id",
    "step_id",
    "position",
    "reached_at",
    "climbed_at",
    "days_to_climb",
    "revenue",
]
POSITION_COLUMNS = ["customer_id", "ladder_id", "step_id", "reached_at", "stalled"]

SECONDS_PER_DAY = 86_400
# A subscription month, on average (365.25 / 12 days), in seconds.
SECONDS_PER_MONTH = int(30.4375 * SECONDS_PER_DAY)


def empty_lines() -> pd.DataFrame:
    """An empty frame with ``LINE_COLUMNS`` and their dtypes."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="int64"),
            "product_id": pd.Series(dtype="int64"),
            "placed_at": pd.Series(dtype="int64"),
            "kept_quantity": pd.Series(dtype="int64"),
            "amount": pd.Series(dtype="float64"),
            "subscription_months": pd.Series(dtype="int64"),
        }
    )


def compute_reaches(
    lines: pd.DataFrame, step_products: pd.DataFrame, *, now: int
) -> pd.DataFrame:
    """One row per customer and step reached, with the climb above it.

    ``reached_at`` is the first kept purchase of the step; ``climbed_at`` is
    the first time a higher step was reached (not earlier than
    ``reached_at``: a customer who bought the higher step first climbed at
    once), null if never; ``days_to_climb`` whole days between the two
    (nullable Int64); ``revenue`` the kept amount of the step's products.
    The extra boolean column ``counts`` tells whether the step counts today
    (a subscription counts only while it runs). Returns ``REACH_COLUMNS`` +
    ``counts``, sorted by customer, ladder and position.
    """
    merged = lines.merge(step_products, on="product_id", how="inner")
    if merged.empty:
        frame = pd.DataFrame(columns=[*REACH_COLUMNS, "counts"])
        return frame.astype(
            {
                "customer_id": "int64",
                "ladder_id": "int64",
                "step_id": "int64",
                "position": "int64",
                "reached_at": "int64",
                "climbed_at": "Int64",
                "days_to_climb": "Int64",
                "revenue": "float64",
                "counts": "bool",
            }
        )
    running_until = merged["placed_at"] + (
        merged["subscription_months"] * merged["kept_quantity"] * SECONDS_PER_MONTH
    )
    merged["counts"] = (merged["subscription_months"] <= 0) | (running_until > now)
    keys = ["customer_id", "ladder_id", "step_id", "position"]
    reaches = (
        merged.groupby(keys, sort=False)
        .agg(
            reached_at=("placed_at", "min"),
            revenue=("amount", "sum"),
            counts=("counts", "any"),
        )
        .reset_index()
        .sort_values(
            ["customer_id", "ladder_id", "position"], ascending=[True, True, False]
        )
    )
    group = reaches.groupby(["customer_id", "ladder_id"], sort=False)
    earliest_from_here_up = group["reached_at"].cummin()
    higher = earliest_from_here_up.groupby(
        [reaches["customer_id"], reaches["ladder_id"]], sort=False
    ).shift(1)
    climbed = np.maximum(higher.to_numpy(dtype="float64"), reaches["reached_at"])
    reaches["climbed_at"] = pd.array(
        np.where(np.isnan(climbed), np.nan, climbed), dtype="Float64"
    ).astype("Int64")
    reaches["days_to_climb"] = (
        (reaches["climbed_at"] - reaches["reached_at"]) // SECONDS_PER_DAY
    ).astype("Int64")
    reaches = reaches.sort_values(["customer_id", "ladder_id", "position"])
    return reaches[[*REACH_COLUMNS, "counts"]].reset_index(drop=True)


def compute_positions(
    reaches: pd.DataFrame,
    step_products: pd.DataFrame,
    *,
    now: int,
    stall_after_seconds: int,
) -> pd.DataFrame:
    """Each customer's position per ladder: the highest step that counts today.

    ``reaches`` comes from ``compute_reaches``. A customer is stalled when a
    higher upsell step exists and they reached their step more than
    ``stall_after_seconds`` before ``now``. Returns ``POSITION_COLUMNS``.
    """
    counting = reaches[reaches["counts"]]
    if counting.empty:
        return pd.DataFrame(
            {
                "customer_id": pd.Series(dtype="int64"),
                "ladder_id": pd.Series(dtype="int64"),
                "step_id": pd.Series(dtype="int64"),
                "reached_at": pd.Series(dtype="int64"),
                "stalled": pd.Series(dtype="bool"),
            }
        )
    top = counting.sort_values("position").drop_duplicates(
        ["customer_id", "ladder_id"], keep="last"
    )
    upsell = step_products.drop_duplicates("step_id").set_index("step_id")["has_upsell"]
    has_upsell = top["step_id"].map(upsell).fillna(False).astype(bool)
    stalled = has_upsell & ((now - top["reached_at"]) > stall_after_seconds)
    positions = top.assign(stalled=stalled.to_numpy())
    positions = positions.sort_values(["customer_id", "ladder_id"])
    return positions[POSITION_COLUMNS].reset_index(drop=True)


def median_from_histogram(values: list[int], counts: list[int]) -> float | None:
    """The median of a distribution given as (value, count) pairs; None if empty.

    Used for the median time to climb, read as a histogram of whole days so
    the report never loads one row per customer.
    """
    pairs = sorted(zip(values, counts, strict=True))
    total = sum(count for _, count in pairs)
    if total == 0:
        return None
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    seen = 0
    lower = upper = None
    for value, count in pairs:
        if lower is None and seen + count > lower_rank:
            lower = value
        if seen + count > upper_rank:
            upper = value
            break
        seen += count
    return (lower + upper) / 2

"""Candidate suggestions per customer, before filtering and ranking.

Sources: the next ladder step (upsell), complements of the customer's current
step and rule consequents of recent purchases (cross-sell), purchases of
look-alike customers (``similarity.blend_cross_sell_scores``), and popular
products for customers with no history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommendations.engine._validation import (
    require_frame,
    require_id_array,
    require_no_nulls,
    require_unique,
)
from recommendations.engine.basket import RuleIndex, suggest_for_basket

#: Ladder steps. dtypes: ladder_id int64, step_id int64, position int64 (1 = entry),
#: product_id int64, price float64, cross_sell_only bool.
STEP_COLUMNS: tuple[str, ...] = (
    "ladder_id",
    "step_id",
    "position",
    "product_id",
    "price",
    "cross_sell_only",
)
#: Step offers (complements sold with a step). dtypes: step_id int64, product_id int64.
STEP_OFFER_COLUMNS: tuple[str, ...] = ("step_id", "product_id")
#: Customer positions. dtypes: customer_id int64, ladder_id int64, step_id int64.
POSITION_COLUMNS: tuple[str, ...] = ("customer_id", "ladder_id", "step_id")
#: Owned products. dtypes: customer_id int64, product_id int64,
#: last_purchased_at datetime64[UTC].
OWNED_COLUMNS: tuple[str, ...] = ("customer_id", "product_id", "last_purchased_at")

#: Candidate frame. dtypes: customer_id int64, product_id int64, step_id Int64,
#: kind str ("upsell" | "cross_sell"), source str ("upsell" | "upsell_entry" |
#: "rule" | "step_complement" | "lookalike" | "popular"), anchor_product_id Int64,
#: ladder_id Int64, antecedents object (tuple), confidence float64 (NaN: none),
#: lift float64, support float64, strength float64 in [0, 1].
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "product_id",
    "step_id",
    "kind",
    "source",
    "anchor_product_id",
    "ladder_id",
    "antecedents",
    "confidence",
    "lift",
    "support",
    "strength",
)

SOURCE_PRIORITY: dict[str, int] = {
    "upsell": 0,
    "upsell_entry": 1,
    "rule": 2,
    "step_complement": 3,
    "lookalike": 4,
    "popular": 5,
}


def validate_steps(steps: pd.DataFrame) -> pd.DataFrame:
    """Check a ladder-step frame (``STEP_COLUMNS``); return it unchanged."""
    require_frame(steps, name="steps", columns=STEP_COLUMNS)
    require_no_nulls(
        steps, name="steps", columns=("ladder_id", "step_id", "position", "product_id")
    )
    require_unique(steps, name="steps", columns=("step_id",))
    require_unique(steps, name="steps", columns=("ladder_id", "position"))
    return steps


def derive_positions(owned: pd.DataFrame, *, steps: pd.DataFrame) -> pd.DataFrame:
    """Each customer's step on each ladder: the highest step whose product they own.

    Steps marked ``cross_sell_only`` do not count as a position. Returns
    ``POSITION_COLUMNS``.
    """
    require_frame(owned, name="owned", columns=OWNED_COLUMNS)
    require_no_nulls(owned, name="owned", columns=("customer_id", "product_id"))
    validate_steps(steps)
    ladder_steps = steps.loc[~steps["cross_sell_only"].astype(bool)]
    reached = owned[["customer_id", "product_id"]].merge(ladder_steps, on="product_id")
    reached = reached.sort_values(["customer_id", "ladder_id", "position"])
    top = reached.drop_duplicates(["customer_id", "ladder_id"], keep="last")
    return top[list(POSITION_COLUMNS)].astype("int64").reset_index(drop=True)


def _frame(rows: dict[str, object], *, length: int) -> pd.DataFrame:
    frame = pd.DataFrame(rows, index=pd.RangeIndex(length))
    for column in CANDIDATE_COLUMNS:
        if column not in frame:
            frame[column] = (
                pd.Series([()] * length, dtype=object)
                if column == "antecedents"
                else np.nan
            )
    return frame[list(CANDIDATE_COLUMNS)]


def upsell_candidates(positions: pd.DataFrame, *, steps: pd.DataFrame) -> pd.DataFrame:
    """The next step of every ladder a customer is on (source "upsell")."""
    require_frame(positions, name="positions", columns=POSITION_COLUMNS)
    require_no_nulls(positions, name="positions", columns=POSITION_COLUMNS)
    validate_steps(steps)
    current = positions.merge(
        steps[["step_id", "position", "product_id"]], on="step_id", how="inner"
    )
    ladder = steps.loc[~steps["cross_sell_only"].astype(bool)]
    following = current.merge(
        ladder[["ladder_id", "position", "step_id", "product_id"]].rename(
            columns={
                "position": "next_position",
                "step_id": "next_step_id",
                "product_id": "next_product_id",
            }
        ),
        on="ladder_id",
    )
    following = following[following["next_position"] > following["position"]]
    following = following.sort_values("next_position").drop_duplicates(
        ["customer_id", "ladder_id"]
    )
    return _frame(
        {
            "customer_id": following["customer_id"].to_numpy(),
            "product_id": following["next_product_id"].to_numpy(),
            "step_id": following["next_step_id"].to_numpy(),
            "kind": "upsell",
            "source": "upsell",
            "anchor_product_id": following["product_id"].to_numpy(),
            "ladder_id": following["ladder_id"].to_numpy(),
            "strength": 1.0,
        },
        length=len(following),
    )


def step_complement_candidates(
    positions: pd.DataFrame, *, steps: pd.DataFrame, step_offers: pd.DataFrame
) -> pd.DataFrame:
    """Complements offered with each current step (source "step_complement")."""
    require_frame(positions, name="positions", columns=POSITION_COLUMNS)
    require_no_nulls(positions, name="positions", columns=POSITION_COLUMNS)
    require_frame(step_offers, name="step_offers", columns=STEP_OFFER_COLUMNS)
    require_no_nulls(step_offers, name="step_offers", columns=STEP_OFFER_COLUMNS)
    validate_steps(steps)
    offers = positions.merge(
        steps[["step_id", "product_id"]].rename(columns={"product_id": "anchor"}),
        on="step_id",
    ).merge(step_offers, on="step_id")
    return _frame(
        {
            "customer_id": offers["customer_id"].to_numpy(),
            "product_id": offers["product_id"].to_numpy(),
            "kind": "cross_sell",
            "source": "step_complement",
            "anchor_product_id": offers["anchor"].to_numpy(),
            "ladder_id": offers["ladder_id"].to_numpy(),
            "strength": 0.5,
        },
        length=len(offers),
    )


def rule_candidates(
    owned: pd.DataFrame,
    *,
    index: RuleIndex,
    now: pd.Timestamp,
    recent_days: int = 365,
    per_customer: int = 10,
) -> pd.DataFrame:
    """Rule consequents of each customer's purchases of the last ``recent_days``.

    Uses the basket index (longest matching antecedent first); the anchor is the
    first antecedent item.
    """
    require_frame(owned, name="owned", columns=OWNED_COLUMNS)
    require_no_nulls(owned, name="owned", columns=OWNED_COLUMNS)
    since = now - pd.Timedelta(days=recent_days)
    recent = owned[pd.to_datetime(owned["last_purchased_at"], utc=True) >= since]
    all_owned = owned.groupby("customer_id")["product_id"].agg(frozenset)
    rows: list[dict[str, object]] = []
    # One in-memory index lookup per customer (sub-millisecond each).
    for customer_id, items in recent.groupby("customer_id")["product_id"]:
        found = suggest_for_basket(
            index,
            basket=items.tolist(),
            k=per_customer,
            exclude=all_owned.get(customer_id, frozenset()),
        )
        for suggestion in found:
            rows.append(
                {
                    "customer_id": customer_id,
                    "product_id": suggestion.product_id,
                    "anchor_product_id": suggestion.antecedents[0],
                    "antecedents": suggestion.antecedents,
                    "confidence": suggestion.confidence,
                    "lift": suggestion.lift,
                    "support": suggestion.support,
                    "strength": suggestion.confidence,
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return _frame({}, length=0)
    frame["kind"] = "cross_sell"
    frame["source"] = "rule"
    return _frame(
        {column: frame[column].to_numpy() for column in frame}, length=len(frame)
    )


def lookalike_candidates(
    scored: pd.DataFrame, *, per_customer: int = 10
) -> pd.DataFrame:
    """Wrap ``blend_cross_sell_scores`` output as candidates (source "lookalike")."""
    require_frame(scored, name="scored", columns=("customer_id", "product_id", "score"))
    require_no_nulls(scored, name="scored", columns=("customer_id", "product_id"))
    top = scored.sort_values(["customer_id", "score"], ascending=[True, False])
    top = top.groupby("customer_id").head(per_customer)
    best = top.groupby("customer_id")["score"].transform("max")
    strength = np.divide(
        top["score"].to_numpy(),
        best.to_numpy(),
        out=np.zeros(len(top)),
        where=best.to_numpy() > 0,
    )
    return _frame(
        {
            "customer_id": top["customer_id"].to_numpy(),
            "product_id": top["product_id"].to_numpy(),
            "kind": "cross_sell",
            "source": "lookalike",
            "strength": np.clip(strength, 0.0, 1.0),
        },
        length=len(top),
    )


def popular_candidates(
    customer_ids: np.ndarray, *, popularity: pd.DataFrame, per_customer: int = 10
) -> pd.DataFrame:
    """The most popular products for each customer (source "popular").

    Products never bought (share 0) are not popular and are left out.

    ``popularity`` has columns product_id, share (float64: share of baskets).
    """
    require_frame(popularity, name="popularity", columns=("product_id", "share"))
    require_no_nulls(popularity, name="popularity", columns=("product_id", "share"))
    require_id_array(customer_ids, name="customer_ids")
    top = popularity[popularity["share"] > 0]
    top = top.sort_values(["share", "product_id"], ascending=[False, True])
    top = top.head(per_customer)
    customers = np.repeat(np.asarray(customer_ids, dtype="int64"), len(top))
    return _frame(
        {
            "customer_id": customers,
            "product_id": np.tile(top["product_id"].to_numpy(), len(customer_ids)),
            "kind": "cross_sell",
            "source": "popular",
            "support": np.tile(top["share"].to_numpy(), len(customer_ids)),
            "strength": np.tile(top["share"].to_numpy(), len(customer_ids)),
        },
        length=len(customers),
    )


def entry_step_candidates(
    customer_ids: np.ndarray, *, steps: pd.DataFrame
) -> pd.DataFrame:
    """The entry step (lowest position) of every ladder (source "upsell_entry")."""
    require_id_array(customer_ids, name="customer_ids")
    validate_steps(steps)
    ladder = steps.loc[~steps["cross_sell_only"].astype(bool)]
    entry = ladder.sort_values("position").drop_duplicates("ladder_id")
    n = len(entry)
    return _frame(
        {
            "customer_id": np.repeat(np.asarray(customer_ids, dtype="int64"), n),
            "product_id": np.tile(entry["product_id"].to_numpy(), len(customer_ids)),
            "step_id": np.tile(entry["step_id"].to_numpy(), len(customer_ids)),
            "ladder_id": np.tile(entry["ladder_id"].to_numpy(), len(customer_ids)),
            "kind": "upsell",
            "source": "upsell_entry",
            "strength": 0.5,
        },
        length=n * len(customer_ids),
    )


def combine_candidates(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate candidate frames; keep one row per (customer, product).

    The row kept is the one of the strongest source (``SOURCE_PRIORITY``), then the
    highest strength.
    """
    for position, frame in enumerate(frames):
        require_frame(frame, name=f"frames[{position}]", columns=CANDIDATE_COLUMNS)
        require_no_nulls(
            frame,
            name=f"frames[{position}]",
            columns=("customer_id", "product_id", "kind", "source"),
        )
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return _frame({}, length=0).astype(
            {"customer_id": "int64", "product_id": "int64", "step_id": "Int64"}
        )
    combined = pd.concat(frames, ignore_index=True)
    combined["_priority"] = combined["source"].map(SOURCE_PRIORITY)
    combined = combined.sort_values(
        ["customer_id", "_priority", "strength", "product_id"],
        ascending=[True, True, False, True],
        kind="stable",
    ).drop_duplicates(["customer_id", "product_id"])
    result = combined.drop(columns="_priority").reset_index(drop=True)
    for column in ("step_id", "anchor_product_id", "ladder_id"):
        result[column] = pd.array(result[column], dtype="Int64")
    result["customer_id"] = result["customer_id"].astype("int64")
    result["product_id"] = result["product_id"].astype("int64")
    for column in ("confidence", "lift", "support", "strength"):
        result[column] = result[column].astype("float64")
    return result[list(CANDIDATE_COLUMNS)]

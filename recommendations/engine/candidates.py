"""Candidate suggestions per customer, before filtering and ranking.

Sources: the next ladder step (upsell), complements of the customer's current
step and rule consequents of recent purchases (cross-sell), purchases of
look-alike customers (``similarity.blend_cross_sell_scores``), and popular
products for customers with no history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommendations.engine._validation import (
    require_frame,
    require_id_array,
    require_no_nulls,
    require_unique,
)
from recommendations.engine.basket import RuleIndex

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


def _plain(item: object) -> object:
    return item.item() if isinstance(item, np.generic) else item


def _rule_table(index: RuleIndex) -> dict[str, object]:
    """The index's rules as flat arrays (one entry per (antecedent key, rule)).

    ``key``: the antecedent key number; ``key_rank``: the order in which
    ``suggest_for_basket`` meets keys of one length (combinations of the basket
    items sorted by ``repr``, i.e. keys compared as tuples of their items' reprs);
    ``position``: the rule's place in its key's list (best first).
    """
    keys = list(index.by_antecedent)
    key_items = [sorted((_plain(item) for item in key), key=repr) for key in keys]
    order = sorted(
        range(len(keys)), key=lambda i: tuple(repr(item) for item in key_items[i])
    )
    key_rank = np.empty(len(keys), dtype=np.int64)
    key_rank[order] = np.arange(len(keys))
    consequents: list[object] = []
    antecedents: list[tuple] = []
    numbers: list[tuple[float, float, float]] = []
    key_of: list[int] = []
    position: list[int] = []
    for number, key in enumerate(keys):
        for place, entry in enumerate(index.by_antecedent[key]):
            consequent, confidence, lift, support, antecedent = entry
            consequents.append(_plain(consequent))
            antecedents.append(antecedent)
            numbers.append((confidence, lift, support))
            key_of.append(number)
            position.append(place)
    values = np.asarray(numbers, dtype="float64").reshape(-1, 3)
    antecedent_array = np.empty(len(antecedents), dtype=object)
    antecedent_array[:] = antecedents
    return {
        "key_items": key_items,
        "key_rank": key_rank,
        "key": np.asarray(key_of, dtype=np.int64),
        "position": np.asarray(position, dtype=np.int64),
        "consequent": consequents,
        "antecedents": antecedent_array,
        "confidence": values[:, 0],
        "lift": values[:, 1],
        "support": values[:, 2],
    }


def rule_candidates(
    owned: pd.DataFrame,
    *,
    index: RuleIndex,
    now: pd.Timestamp,
    recent_days: int = 365,
    per_customer: int = 10,
    chunk_size: int = 4096,
) -> pd.DataFrame:
    """Rule consequents of each customer's purchases of the last ``recent_days``.

    The same choice as ``basket.suggest_for_basket`` with the recent purchases as
    the basket and every owned product excluded: rules whose whole antecedent was
    bought recently, longest antecedent first, then confidence, lift (ties: the
    antecedent met first among the basket's combinations, then the index order);
    one row per consequent, at most ``per_customer`` per customer. The anchor is
    the first antecedent item. Vectorised over all customers: antecedent keys are
    matched with a sparse (customers x products) @ (products x keys) product,
    ``chunk_size`` customers at a time to bound memory.
    """
    require_frame(owned, name="owned", columns=OWNED_COLUMNS)
    require_no_nulls(owned, name="owned", columns=OWNED_COLUMNS)
    if per_customer < 1:
        raise ValueError(f"per_customer must be >= 1, got {per_customer!r}")
    since = now - pd.Timedelta(days=recent_days)
    recent = owned[pd.to_datetime(owned["last_purchased_at"], utc=True) >= since]
    if recent.empty or not index.by_antecedent:
        return _frame({}, length=0)
    table = _rule_table(index)
    if len(table["key"]) == 0:
        return _frame({}, length=0)
    catalogue = pd.Index(
        pd.unique(
            np.concatenate(
                [
                    owned["product_id"].to_numpy(dtype=object),
                    np.asarray(table["consequent"], dtype=object),
                    np.asarray(
                        [item for items in table["key_items"] for item in items],
                        dtype=object,
                    ),
                ]
            )
        )
    )
    n_products = len(catalogue)
    key_items = table["key_items"]
    key_length = np.asarray([len(items) for items in key_items], dtype=np.int64)
    key_matrix = sp.csr_matrix(
        (
            np.ones(int(key_length.sum()), dtype=np.int32),
            catalogue.get_indexer(
                np.asarray(
                    [item for items in key_items for item in items], dtype=object
                )
            ),
            np.concatenate([[0], np.cumsum(key_length)]),
        ),
        shape=(len(key_items), n_products),
    )
    keys_by_product = key_matrix.T.tocsr()
    # Rules of key j are table rows starts[j]:starts[j] + counts[j] (key order).
    rule_order = np.lexsort((table["position"], table["key"]))
    rule_counts = np.bincount(table["key"], minlength=len(key_items))
    rule_starts = np.concatenate([[0], np.cumsum(rule_counts)[:-1]])
    consequent_code = catalogue.get_indexer(
        np.asarray(table["consequent"], dtype=object)
    )

    customers, customer_row = np.unique(
        recent["customer_id"].to_numpy(dtype=np.int64), return_inverse=True
    )
    recent_code = catalogue.get_indexer(recent["product_id"].to_numpy(dtype=object))
    owned_in = owned[owned["customer_id"].isin(customers)]
    owned_pairs = np.unique(
        np.searchsorted(customers, owned_in["customer_id"].to_numpy(dtype=np.int64))
        * n_products
        + catalogue.get_indexer(owned_in["product_id"].to_numpy(dtype=object))
    )
    basket = sp.csr_matrix(
        (np.ones(len(recent_code), dtype=np.int32), (customer_row, recent_code)),
        shape=(len(customers), n_products),
    )
    basket.sum_duplicates()
    basket.data[:] = 1
    picked: list[np.ndarray] = []
    for start in range(0, len(customers), chunk_size):
        counts = (basket[start : start + chunk_size] @ keys_by_product).tocoo()
        full = counts.data == key_length[counts.col]
        rows = counts.row[full].astype(np.int64) + start
        keys = counts.col[full].astype(np.int64)
        n_rules = rule_counts[keys]
        total = int(n_rules.sum())
        if total == 0:
            continue
        first = np.cumsum(n_rules) - n_rules
        offsets = np.arange(total) - np.repeat(first, n_rules)
        rule = rule_order[np.repeat(rule_starts[keys], n_rules) + offsets]
        row = np.repeat(rows, n_rules)
        pair = row * n_products + consequent_code[rule]
        keep = ~np.isin(pair, owned_pairs)
        rule, row, pair = rule[keep], row[keep], pair[keep]
        # suggest_for_basket order: longest antecedent, confidence, lift, then the
        # key's place among the basket's combinations and the rule's in its key.
        order = np.lexsort(
            (
                table["position"][rule],
                table["key_rank"][table["key"][rule]],
                -table["lift"][rule],
                -table["confidence"][rule],
                -key_length[table["key"][rule]],
                row,
            )
        )
        rule, row, pair = rule[order], row[order], pair[order]
        _, first_seen = np.unique(pair, return_index=True)
        first_seen = np.sort(first_seen)
        rule, row = rule[first_seen], row[first_seen]
        group_start = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        rank = np.arange(len(row)) - np.repeat(
            group_start, np.diff(np.r_[group_start, len(row)])
        )
        within = rank < per_customer
        picked.append(np.column_stack([row[within], rule[within]]))
    if not picked:
        return _frame({}, length=0)
    chosen = np.concatenate(picked)
    row, rule = chosen[:, 0], chosen[:, 1]
    antecedents = table["antecedents"][rule]
    confidence = table["confidence"][rule]
    return _frame(
        {
            "customer_id": customers[row],
            "product_id": np.asarray(table["consequent"], dtype=object)[rule].tolist(),
            "kind": "cross_sell",
            "source": "rule",
            "anchor_product_id": [items[0] for items in antecedents],
            "antecedents": pd.Series(antecedents, dtype=object).to_numpy(),
            "confidence": confidence,
            "lift": table["lift"][rule],
            "support": table["support"][rule],
            "strength": confidence,
        },
        length=len(row),
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

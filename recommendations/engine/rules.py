"""Association rules with a single-item consequent.

Frequent itemsets (``itemsets``): an itemset is frequent when ``count / n_baskets
>= min_support``; pairs from sparse co-occurrence, longer itemsets by Eclat on
bitsets.

Metrics are computed with the same floating-point expressions as
``mlxtend.frequent_patterns.association_rules`` (0.24), so on the same input and
thresholds they agree bit for bit:

- support = count(A u {c}) / n, antecedent_support = count(A) / n,
  consequent_support = count({c}) / n
- confidence = (support * n) / (antecedent_support * n)
- lift = confidence / consequent_support
- leverage = support - antecedent_support * consequent_support
- conviction = (1 - consequent_support) / (1 - confidence), and ``inf`` when
  confidence == 1 (as mlxtend returns).

``max_len`` limits the size of the whole itemset (antecedent plus consequent), as
mlxtend's ``fpgrowth(max_len=...)`` does: ``max_len=2`` gives one-item antecedents,
``None`` means no limit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommendations.engine._validation import require_fraction
from recommendations.engine.baskets import BasketMatrix
from recommendations.engine.itemsets import (
    CooccurrenceCounts,
    check_matrix,
    count_cooccurrence,
    count_itemsets,
    frequent_itemset_indices,
    merge_cooccurrence,
    minimum_count,
)

__all__ = [
    "ITEMSET_COLUMNS",
    "RULE_COLUMNS",
    "CooccurrenceCounts",
    "count_cooccurrence",
    "count_itemsets",
    "find_frequent_itemsets",
    "merge_cooccurrence",
    "mine_rules",
    "minimum_count",
    "pair_rules_from_counts",
]

#: Rule frame. dtypes: antecedents object (tuple of item ids, sorted ascending),
#: consequent object|int64 (one item id), antecedent_support, consequent_support,
#: support, confidence, lift, leverage, conviction float64 (conviction may be inf),
#: count int64 (baskets holding antecedent and consequent), antecedent_len int64.
RULE_COLUMNS: tuple[str, ...] = (
    "antecedents",
    "consequent",
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "count",
    "antecedent_len",
)

#: Frequent-itemset frame. dtypes: itemset object (tuple of item ids, sorted),
#: count int64, support float64, length int64.
ITEMSET_COLUMNS: tuple[str, ...] = ("itemset", "count", "support", "length")


def _lookup_counts(
    keys_table: np.ndarray, *, counts_table: np.ndarray, wanted: np.ndarray
) -> np.ndarray:
    """Counts of the rows of ``wanted`` in (sorted-row) ``keys_table``."""
    n_cols = keys_table.shape[1]
    radix = int(max(keys_table.max(initial=0), wanted.max(initial=0))) + 1
    if radix**n_cols < 2**62:
        weights = radix ** np.arange(n_cols - 1, -1, -1, dtype=np.int64)
        table_keys = keys_table.astype(np.int64) @ weights
        wanted_keys = wanted.astype(np.int64) @ weights
        order = np.argsort(table_keys)
        position = np.searchsorted(table_keys[order], wanted_keys)
        return counts_table[order[position]]
    lookup = dict(
        zip(map(tuple, keys_table.tolist()), counts_table.tolist(), strict=True)
    )
    return np.array([lookup[tuple(row)] for row in wanted.tolist()], dtype=np.int64)


def _empty_rules(item_dtype: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "antecedents": pd.Series([], dtype=object),
            "consequent": pd.Series([], dtype=item_dtype),
            **{column: pd.Series([], dtype="float64") for column in RULE_COLUMNS[2:9]},
            "count": pd.Series([], dtype="int64"),
            "antecedent_len": pd.Series([], dtype="int64"),
        }
    )


def _rules_from_itemsets(
    *,
    n_baskets: int,
    item_counts: np.ndarray,
    by_length: dict[int, tuple[np.ndarray, np.ndarray]],
    item_ids: np.ndarray,
    min_confidence: float,
    min_lift: float,
) -> pd.DataFrame:
    """All one-consequent rules of the frequent itemsets, thresholded and sorted."""
    n = float(n_baskets)
    antecedent_parts: list[np.ndarray] = []
    frames: list[dict[str, np.ndarray]] = []
    for length in sorted(k for k in by_length if k >= 2):
        itemsets, counts = by_length[length]
        for position in range(length):
            consequent = itemsets[:, position]
            antecedent = np.delete(itemsets, position, axis=1)
            if length == 2:
                antecedent_counts = item_counts[antecedent[:, 0]]
            else:
                table, table_counts = by_length[length - 1]
                antecedent_counts = _lookup_counts(
                    table, counts_table=table_counts, wanted=antecedent
                )
            support = counts / n
            antecedent_support = antecedent_counts / n
            consequent_support = item_counts[consequent] / n
            # Same expressions as mlxtend, so thresholds tie-break identically.
            confidence = (support * n) / (antecedent_support * n)
            lift = confidence / consequent_support
            keep = (confidence >= min_confidence) & (lift >= min_lift)
            if not keep.any():
                continue
            confidence = confidence[keep]
            conviction = np.full(confidence.shape, np.inf)
            below = confidence < 1.0
            conviction[below] = (1.0 - consequent_support[keep][below]) / (
                1.0 - confidence[below]
            )
            antecedent_parts.append(antecedent[keep])
            frames.append(
                {
                    "consequent_index": consequent[keep],
                    "antecedent_support": antecedent_support[keep],
                    "consequent_support": consequent_support[keep],
                    "support": support[keep],
                    "confidence": confidence,
                    "lift": lift[keep],
                    "leverage": support[keep]
                    - antecedent_support[keep] * consequent_support[keep],
                    "conviction": conviction,
                    "count": counts[keep].astype(np.int64),
                    "antecedent_len": np.full(int(keep.sum()), length - 1),
                }
            )
    if not frames:
        return _empty_rules(item_ids.dtype)
    columns = {
        key: np.concatenate([frame[key] for frame in frames]) for key in frames[0]
    }
    antecedents: list[tuple] = []
    for part in antecedent_parts:
        antecedents.extend(map(tuple, item_ids[part].tolist()))
    order = np.lexsort(
        (
            np.arange(len(antecedents)),
            -columns["lift"],
            -columns["support"],
            -columns["confidence"],
        )
    )
    antecedent_series = pd.Series(antecedents, dtype=object)
    result = pd.DataFrame(
        {
            "antecedents": antecedent_series.to_numpy()[order],
            "consequent": item_ids[columns["consequent_index"]][order],
            **{key: columns[key][order] for key in RULE_COLUMNS[2:]},
        }
    )
    result["count"] = result["count"].astype("int64")
    result["antecedent_len"] = result["antecedent_len"].astype("int64")
    return result


def _check_thresholds(
    *,
    min_support: float,
    min_confidence: float,
    min_lift: float,
    max_len: int | None,
) -> tuple[float, float, float]:
    support = require_fraction(min_support, name="min_support", allow_zero=False)
    confidence = require_fraction(min_confidence, name="min_confidence")
    try:
        lift = float(min_lift)
    except (TypeError, ValueError):
        raise ValueError(f"min_lift must be a number, got {min_lift!r}") from None
    if not lift >= 0.0:
        raise ValueError(f"min_lift must be >= 0, got {min_lift!r}")
    if max_len is not None and (
        isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1
    ):
        raise ValueError(f"max_len must be a positive int or None, got {max_len!r}")
    return support, confidence, lift


def find_frequent_itemsets(
    baskets: BasketMatrix,
    *,
    min_support: float,
    max_len: int | None = None,
    n_threads: int = 2,
) -> pd.DataFrame:
    """Frequent itemsets (``ITEMSET_COLUMNS``) of ``baskets``, up to ``max_len`` items.

    Frequent means ``count / n_baskets >= min_support``; ``min_support`` in (0, 1].
    """
    support, _, _ = _check_thresholds(
        min_support=min_support, min_confidence=0.0, min_lift=0.0, max_len=max_len
    )
    n_baskets = baskets.n_baskets
    if n_baskets == 0:
        raise ValueError("baskets holds no basket")
    min_count = minimum_count(min_support=support, n_baskets=n_baskets)
    _, by_length = frequent_itemset_indices(
        check_matrix(baskets.matrix),
        min_count=min_count,
        max_len=max_len,
        n_threads=n_threads,
    )
    itemsets: list[tuple] = []
    counts: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for length in sorted(by_length):
        sets, set_counts = by_length[length]
        itemsets.extend(map(tuple, baskets.item_ids[sets].tolist()))
        counts.append(set_counts)
        lengths.append(np.full(len(set_counts), length, dtype=np.int64))
    count_array = np.concatenate(counts).astype(np.int64)
    return pd.DataFrame(
        {
            "itemset": pd.Series(itemsets, dtype=object),
            "count": count_array,
            "support": count_array / float(n_baskets),
            "length": np.concatenate(lengths),
        }
    )


def mine_rules(
    baskets: BasketMatrix,
    *,
    min_support: float,
    min_confidence: float = 0.0,
    min_lift: float = 0.0,
    max_len: int | None = None,
    n_threads: int = 2,
) -> pd.DataFrame:
    """Mine association rules ``antecedents -> consequent`` (``RULE_COLUMNS``).

    Rules come from every frequent itemset of 2..``max_len`` items (``None``: no
    limit), with each of its items in turn as the consequent; kept when
    confidence >= ``min_confidence`` and lift >= ``min_lift``. Sorted by
    confidence, support, lift (all descending). The input is not modified.
    """
    support, confidence, lift = _check_thresholds(
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
        max_len=max_len,
    )
    matrix = check_matrix(baskets.matrix)
    if matrix.shape[1] != len(baskets.item_ids):
        raise ValueError("baskets.item_ids does not match the matrix columns")
    n_baskets = baskets.n_baskets
    if n_baskets == 0:
        return _empty_rules(baskets.item_ids.dtype)
    min_count = minimum_count(min_support=support, n_baskets=n_baskets)
    item_counts, by_length = frequent_itemset_indices(
        matrix, min_count=min_count, max_len=max_len, n_threads=n_threads
    )
    return _rules_from_itemsets(
        n_baskets=n_baskets,
        item_counts=item_counts,
        by_length=by_length,
        item_ids=np.asarray(baskets.item_ids),
        min_confidence=confidence,
        min_lift=lift,
    )


def pair_rules_from_counts(
    counts: CooccurrenceCounts,
    *,
    item_ids: np.ndarray,
    min_support: float,
    min_confidence: float = 0.0,
    min_lift: float = 0.0,
) -> pd.DataFrame:
    """One-item-antecedent rules from (merged) co-occurrence counts.

    Equals ``mine_rules(..., max_len=2)`` on the baskets the counts came from.
    """
    support, confidence, lift = _check_thresholds(
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
        max_len=2,
    )
    item_ids = np.asarray(item_ids)
    if len(item_ids) != len(counts.item_counts):
        raise ValueError("item_ids does not match the counted items")
    if counts.n_baskets == 0:
        return _empty_rules(item_ids.dtype)
    min_count = minimum_count(min_support=support, n_baskets=counts.n_baskets)
    pairs = sp.coo_matrix(counts.pair_counts)
    keep = (pairs.data >= min_count) & (pairs.row < pairs.col)
    rows, cols, data = pairs.row[keep], pairs.col[keep], pairs.data[keep]
    order = np.lexsort((cols, rows))
    by_length = {
        2: (
            np.column_stack([rows[order], cols[order]]).astype(np.int64),
            data[order].astype(np.int64),
        )
    }
    return _rules_from_itemsets(
        n_baskets=counts.n_baskets,
        item_counts=np.asarray(counts.item_counts, dtype=np.int64),
        by_length=by_length,
        item_ids=item_ids,
        min_confidence=confidence,
        min_lift=lift,
    )

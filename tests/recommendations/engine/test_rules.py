"""Association rules: hand-checked cases, mlxtend equality, brute force, shards."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from mlxtend.frequent_patterns import association_rules, fpgrowth

from recommendations.engine.baskets import BasketMatrix, basket_matrix_from_items
from recommendations.engine.rules import (
    RULE_COLUMNS,
    count_cooccurrence,
    count_itemsets,
    find_frequent_itemsets,
    merge_cooccurrence,
    mine_rules,
    minimum_count,
    pair_rules_from_counts,
)

METRICS = ["support", "confidence", "lift", "leverage", "conviction"]


def baskets_of(rows: list[list[object]]) -> BasketMatrix:
    long = pd.DataFrame(
        [(basket, item) for basket, items in enumerate(rows) for item in items],
        columns=["basket", "item"],
    )
    return basket_matrix_from_items(long, basket_column="basket", item_column="item")


def matrix_baskets(dense: np.ndarray) -> BasketMatrix:
    return BasketMatrix(
        matrix=sp.csr_matrix(dense.astype(bool)),
        basket_ids=np.arange(dense.shape[0]),
        item_ids=np.arange(dense.shape[1]),
    )


def as_dict(rules: pd.DataFrame) -> dict[tuple[frozenset, object], np.ndarray]:
    return {
        (frozenset(antecedents), consequent): np.asarray(values, dtype=float)
        for antecedents, consequent, values in zip(
            rules["antecedents"],
            rules["consequent"],
            rules[METRICS].to_numpy(),
            strict=True,
        )
    }


def mlxtend_rules(
    dense: np.ndarray,
    *,
    min_support: float,
    min_confidence: float,
    min_lift: float,
    max_len: int | None,
) -> dict[tuple[frozenset, object], np.ndarray]:
    frame = pd.DataFrame(dense.astype(bool), columns=list(range(dense.shape[1])))
    itemsets = fpgrowth(
        frame, min_support=min_support, use_colnames=True, max_len=max_len
    )
    if itemsets.empty:
        return {}
    with np.errstate(divide="ignore", invalid="ignore"):
        # mlxtend's "certainty" metric divides 0 by 0 when an item is in every
        # basket; that column is not compared.
        rules = association_rules(
            itemsets, num_itemsets=len(frame), metric="confidence", min_threshold=0.0
        )
    rules = rules[rules["consequents"].map(len) == 1]
    rules = rules[(rules["confidence"] >= min_confidence) & (rules["lift"] >= min_lift)]
    return {
        (frozenset(a), next(iter(c))): np.asarray(values, dtype=float)
        for a, c, values in zip(
            rules["antecedents"],
            rules["consequents"],
            rules[METRICS].to_numpy(),
            strict=True,
        )
    }


def assert_same_rules(ours: dict, theirs: dict) -> None:
    assert set(ours) == set(theirs)
    for key, values in ours.items():
        np.testing.assert_allclose(values, theirs[key], rtol=1e-9, atol=1e-9)


# --- hand-checked -----------------------------------------------------------------

HAND_BASKETS = [
    ["bread", "milk"],
    ["bread", "butter", "milk"],
    ["butter", "milk"],
    ["bread", "butter", "milk"],
    ["jam"],
]


def test_pair_metrics_match_a_hand_count() -> None:
    rules = mine_rules(baskets_of(HAND_BASKETS), min_support=0.4, max_len=2)
    rule = rules[
        (rules["antecedents"] == ("bread",)) & (rules["consequent"] == "butter")
    ].iloc[0]
    # bread 3/5, butter 3/5, bread+butter 2/5.
    assert rule["support"] == pytest.approx(0.4)
    assert rule["antecedent_support"] == pytest.approx(0.6)
    assert rule["confidence"] == pytest.approx(2 / 3)
    assert rule["lift"] == pytest.approx((2 / 3) / 0.6)
    assert rule["leverage"] == pytest.approx(0.4 - 0.6 * 0.6)
    assert rule["conviction"] == pytest.approx((1 - 0.6) / (1 - 2 / 3))
    assert rule["count"] == 2


def test_confidence_one_gives_infinite_conviction_like_mlxtend() -> None:
    rules = mine_rules(baskets_of(HAND_BASKETS), min_support=0.4, max_len=2)
    rule = rules[(rules["antecedents"] == ("bread",)) & (rules["consequent"] == "milk")]
    assert rule["confidence"].iloc[0] == 1.0
    assert math.isinf(rule["conviction"].iloc[0])


def test_hand_made_case_equals_mlxtend_with_triples() -> None:
    baskets = baskets_of(HAND_BASKETS)
    dense = baskets.matrix.toarray()
    ours = mine_rules(baskets, min_support=0.4, min_confidence=0.5)
    names = dict(enumerate(baskets.item_ids))
    theirs = {
        (frozenset(names[i] for i in a), names[c]): v
        for (a, c), v in mlxtend_rules(
            dense, min_support=0.4, min_confidence=0.5, min_lift=0.0, max_len=None
        ).items()
    }
    assert_same_rules(as_dict(ours), theirs)
    assert (("bread", "butter"), "milk") in set(
        zip(ours["antecedents"], ours["consequent"], strict=True)
    )


def test_rule_frame_columns_and_dtypes() -> None:
    rules = mine_rules(baskets_of(HAND_BASKETS), min_support=0.4)
    assert list(rules.columns) == list(RULE_COLUMNS)
    assert rules["count"].dtype == np.int64
    assert rules["confidence"].is_monotonic_decreasing


def test_max_len_limits_the_whole_itemset() -> None:
    baskets = baskets_of(HAND_BASKETS)
    assert mine_rules(baskets, min_support=0.4, max_len=2)["antecedent_len"].max() == 1
    assert mine_rules(baskets, min_support=0.4, max_len=3)["antecedent_len"].max() == 2
    assert mine_rules(baskets, min_support=0.4, max_len=1).empty


def test_thresholds_filter_rules() -> None:
    baskets = baskets_of(HAND_BASKETS)
    strict = mine_rules(baskets, min_support=0.4, min_confidence=0.9, min_lift=1.1)
    assert (strict["confidence"] >= 0.9).all() and (strict["lift"] >= 1.1).all()
    assert mine_rules(baskets, min_support=0.9).empty


def test_an_itemset_is_frequent_at_exactly_min_support() -> None:
    # bread+butter is in exactly 2 of 5 baskets = 0.4.
    itemsets = find_frequent_itemsets(baskets_of(HAND_BASKETS), min_support=0.4)
    assert ("bread", "butter") in set(itemsets["itemset"])
    assert minimum_count(min_support=0.4, n_baskets=5) == 2
    assert minimum_count(min_support=0.3, n_baskets=10) == 3


def test_inputs_are_not_mutated() -> None:
    baskets = baskets_of(HAND_BASKETS)
    before = baskets.matrix.copy()
    mine_rules(baskets, min_support=0.2)
    assert (baskets.matrix != before).nnz == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_support": 0}, "min_support"),
        ({"min_support": 1.5}, "min_support"),
        ({"min_support": float("nan")}, "min_support"),
        ({"min_support": 0.1, "min_confidence": 2}, "min_confidence"),
        ({"min_support": 0.1, "min_lift": -1}, "min_lift"),
        ({"min_support": 0.1, "max_len": 0}, "max_len"),
        ({"min_support": 0.1, "max_len": 2.5}, "max_len"),
    ],
)
def test_bad_thresholds_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mine_rules(baskets_of(HAND_BASKETS), **kwargs)


def test_a_dense_array_is_rejected() -> None:
    bad = BasketMatrix(
        matrix=np.ones((2, 2)), basket_ids=np.arange(2), item_ids=np.arange(2)
    )
    with pytest.raises(ValueError, match="scipy.sparse"):
        mine_rules(bad, min_support=0.5)


def test_basket_frame_with_nan_ids_is_rejected() -> None:
    frame = pd.DataFrame({"basket": [1, None], "item": ["a", "b"]})
    with pytest.raises(ValueError, match="missing value"):
        basket_matrix_from_items(frame, basket_column="basket", item_column="item")


# --- random data: mlxtend and brute force -------------------------------------------

dense_baskets = st.integers(min_value=4, max_value=40).flatmap(
    lambda n: st.integers(min_value=2, max_value=7).flatmap(
        lambda m: st.lists(
            st.lists(st.booleans(), min_size=m, max_size=m), min_size=n, max_size=n
        )
    )
)


def support_between_counts(n: int, min_count: int) -> float:
    """A min_support that both sides read as "count >= min_count".

    mlxtend prunes its tree with ceil(min_support * n), which can round up past
    an exact ratio (0.3 * 10 = 3.0000000000000004); half a basket below avoids it.
    """
    return (min_count - 0.5) / n


@settings(max_examples=60, deadline=None)
@given(
    rows=dense_baskets,
    min_count=st.integers(min_value=1, max_value=4),
    confidence_step=st.integers(min_value=0, max_value=9),
    lift_step=st.integers(min_value=0, max_value=3),
    max_len=st.sampled_from([None, 2, 3]),
)
def test_rules_equal_mlxtend_on_random_baskets(
    rows: list[list[bool]],
    min_count: int,
    confidence_step: int,
    lift_step: int,
    max_len: int | None,
) -> None:
    dense = np.array(rows, dtype=bool)
    min_support = support_between_counts(len(dense), min_count)
    # Thresholds off any small-denominator ratio, so no boundary ties.
    min_confidence = confidence_step / 10 + 0.0123
    min_lift = lift_step / 2 + 0.0123 if lift_step else 0.0
    ours = mine_rules(
        matrix_baskets(dense),
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
        max_len=max_len,
    )
    theirs = mlxtend_rules(
        dense,
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
        max_len=max_len,
    )
    assert_same_rules(as_dict(ours), theirs)


def brute_force_rules(dense: np.ndarray, *, min_count: int) -> dict:
    n, m = dense.shape
    count = {}
    for size in range(1, m + 1):
        for itemset in combinations(range(m), size):
            hits = int(dense[:, list(itemset)].all(axis=1).sum())
            if hits >= min_count:
                count[frozenset(itemset)] = hits
    rules = {}
    for itemset, hits in count.items():
        if len(itemset) < 2:
            continue
        for consequent in itemset:
            antecedent = itemset - {consequent}
            support = hits / n
            antecedent_support = count[antecedent] / n
            consequent_support = count[frozenset([consequent])] / n
            confidence = hits / count[antecedent]
            conviction = (
                math.inf
                if hits == count[antecedent]
                else (1 - consequent_support) / (1 - confidence)
            )
            rules[(antecedent, consequent)] = np.array(
                [
                    support,
                    confidence,
                    confidence / consequent_support,
                    support - antecedent_support * consequent_support,
                    conviction,
                ]
            )
    return rules


@settings(max_examples=80, deadline=None)
@given(rows=dense_baskets, min_count=st.integers(min_value=1, max_value=5))
def test_rule_metrics_equal_a_brute_force_count(
    rows: list[list[bool]], min_count: int
) -> None:
    dense = np.array(rows, dtype=bool)
    min_count = min(min_count, len(dense))
    ours = mine_rules(matrix_baskets(dense), min_support=min_count / len(dense))
    assert_same_rules(as_dict(ours), brute_force_rules(dense, min_count=min_count))


# --- shards -----------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(rows=dense_baskets, cut=st.integers(min_value=0, max_value=40))
def test_shard_counts_add_up_to_the_whole(rows: list[list[bool]], cut: int) -> None:
    dense = np.array(rows, dtype=bool)
    cut = min(cut, len(dense))
    whole = count_cooccurrence(sp.csr_matrix(dense))
    merged = merge_cooccurrence(
        [
            count_cooccurrence(sp.csr_matrix(dense[:cut])),
            count_cooccurrence(sp.csr_matrix(dense[cut:])),
        ]
    )
    assert merged.n_baskets == whole.n_baskets == len(dense)
    np.testing.assert_array_equal(merged.item_counts, whole.item_counts)
    np.testing.assert_array_equal(
        merged.pair_counts.toarray(), whole.pair_counts.toarray()
    )
    for size in (2, 3):
        itemsets = np.array(list(combinations(range(dense.shape[1]), size)))
        if not len(itemsets):
            continue
        whole_counts = count_itemsets(sp.csr_matrix(dense), itemsets=itemsets)
        np.testing.assert_array_equal(
            count_itemsets(sp.csr_matrix(dense[:cut]), itemsets=itemsets)
            + count_itemsets(sp.csr_matrix(dense[cut:]), itemsets=itemsets),
            whole_counts,
        )
        np.testing.assert_array_equal(
            whole_counts, [dense[:, list(row)].all(axis=1).sum() for row in itemsets]
        )


def test_pair_rules_from_merged_shards_equal_mined_pairs() -> None:
    rng = np.random.default_rng(7)
    dense = rng.random((300, 12)) < 0.25
    shards = [
        count_cooccurrence(sp.csr_matrix(part)) for part in np.array_split(dense, 4)
    ]
    from_counts = pair_rules_from_counts(
        merge_cooccurrence(shards), item_ids=np.arange(12), min_support=0.05
    )
    mined = mine_rules(matrix_baskets(dense), min_support=0.05, max_len=2)
    pd.testing.assert_frame_equal(from_counts, mined)


def test_merge_rejects_mismatched_shards() -> None:
    a = count_cooccurrence(sp.csr_matrix(np.ones((2, 2), dtype=bool)))
    b = count_cooccurrence(sp.csr_matrix(np.ones((2, 3), dtype=bool)))
    with pytest.raises(ValueError, match="different item counts"):
        merge_cooccurrence([a, b])
    with pytest.raises(ValueError, match="at least one"):
        merge_cooccurrence([])


def test_eclat_matches_mlxtend_on_a_larger_random_set() -> None:
    rng = np.random.default_rng(3)
    # Correlated items so that long itemsets exist.
    base = rng.random((400, 1)) < 0.4
    dense = (rng.random((400, 15)) < 0.15) | (base & (rng.random((400, 15)) < 0.6))
    min_support = support_between_counts(400, 20)
    ours = mine_rules(matrix_baskets(dense), min_support=min_support, n_threads=2)
    assert ours["antecedent_len"].max() >= 3
    theirs = mlxtend_rules(
        dense, min_support=min_support, min_confidence=0.0, min_lift=0.0, max_len=None
    )
    assert_same_rules(as_dict(ours), theirs)


def test_duplicate_entries_and_explicit_zeros_count_once() -> None:
    # Row 0 lists item 0 twice, row 1 holds an explicit zero for item 1.
    matrix = sp.csr_matrix(
        (
            np.array([1, 1, 1, 1, 0, 1], dtype=np.uint8),
            np.array([0, 0, 1, 0, 1, 1]),
            np.array([0, 3, 5, 6]),
        ),
        shape=(3, 2),
    )
    before = (matrix.data.copy(), matrix.indices.copy(), matrix.indptr.copy())
    baskets = BasketMatrix(
        matrix=matrix, basket_ids=np.arange(3), item_ids=np.arange(2)
    )
    rules = mine_rules(baskets, min_support=0.3)
    # item 0 in rows {0, 1}, item 1 in rows {0, 2}, both in row 0 only.
    expected = mine_rules(
        matrix_baskets(np.array([[1, 1], [1, 0], [0, 1]])), min_support=0.3
    )
    assert_same_rules(as_dict(rules), as_dict(expected))
    assert rules["count"].tolist() == [1, 1]
    np.testing.assert_array_equal(matrix.data, before[0])
    np.testing.assert_array_equal(matrix.indices, before[1])
    np.testing.assert_array_equal(matrix.indptr, before[2])

"""Candidate generation: ladders, rules, look-alikes, popularity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recommendations.engine.basket import build_rule_index, suggest_for_basket
from recommendations.engine.candidates import (
    combine_candidates,
    derive_positions,
    entry_step_candidates,
    popular_candidates,
    rule_candidates,
    step_complement_candidates,
    upsell_candidates,
)
from recommendations.engine.similarity import (
    BlendWeights,
    blend_cross_sell_scores,
    build_purchase_profile,
    item_similarity,
    strongest_anchors,
)

NOW = pd.Timestamp("2026-06-01", tz="UTC")
STEPS = pd.DataFrame(
    {
        "ladder_id": [1, 1, 1, 2],
        "step_id": [11, 12, 13, 21],
        "position": [1, 2, 3, 1],
        "product_id": [100, 101, 102, 200],
        "price": [10.0, 20.0, 40.0, 15.0],
        "cross_sell_only": [False, False, False, False],
    }
)


def owned(rows: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [row[0] for row in rows],
            "product_id": [row[1] for row in rows],
            "last_purchased_at": NOW - pd.Timedelta(days=10),
        }
    )


def test_positions_are_the_highest_step_owned() -> None:
    positions = derive_positions(
        owned([(1, 100), (1, 101), (2, 200), (3, 999)]), steps=STEPS
    )
    expected = pd.DataFrame(
        {"customer_id": [1, 2], "ladder_id": [1, 2], "step_id": [12, 21]}
    )
    pd.testing.assert_frame_equal(positions, expected)


def test_upsell_is_the_next_step() -> None:
    positions = pd.DataFrame(
        {"customer_id": [1, 2], "ladder_id": [1, 2], "step_id": [12, 21]}
    )
    upsell = upsell_candidates(positions, steps=STEPS)
    assert upsell[["customer_id", "product_id", "step_id"]].values.tolist() == [
        [1, 102, 13]
    ]
    assert upsell["kind"].tolist() == ["upsell"]
    assert upsell["anchor_product_id"].tolist() == [101]


def test_step_complements_come_from_the_current_step() -> None:
    positions = pd.DataFrame({"customer_id": [1], "ladder_id": [1], "step_id": [12]})
    offers = pd.DataFrame({"step_id": [12, 13], "product_id": [500, 501]})
    found = step_complement_candidates(positions, steps=STEPS, step_offers=offers)
    assert found[["product_id", "anchor_product_id"]].values.tolist() == [[500, 101]]


def test_rule_candidates_skip_owned_products() -> None:
    rules = pd.DataFrame(
        {
            "antecedents": pd.Series([(100,), (100,), (100, 101)], dtype=object),
            "consequent": [101, 300, 301],
            "support": [0.1, 0.1, 0.05],
            "confidence": [0.9, 0.5, 0.7],
            "lift": [2.0, 1.5, 3.0],
        }
    )
    found = rule_candidates(
        owned([(1, 100), (1, 101)]), index=build_rule_index(rules), now=NOW
    )
    assert found["product_id"].tolist() == [301, 300]
    assert found["antecedents"].tolist() == [(100, 101), (100,)]
    assert found["confidence"].tolist() == [0.7, 0.5]


@pytest.mark.parametrize("seed", range(8))
def test_rule_candidates_match_suggest_for_basket_per_customer(seed: int) -> None:
    # The vectorised lookup picks what suggest_for_basket picks for each customer
    # (recent purchases as the basket, owned products excluded), ties included:
    # few distinct confidences / lifts and ids above 9 (repr order "10" < "9").
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(150):
        size = int(rng.integers(1, 4))
        items = rng.choice(np.arange(1, 16), size + 1, replace=False)
        rows.append(
            {
                "antecedents": tuple(int(item) for item in items[:size]),
                "consequent": int(items[size]),
                "support": float(rng.choice([0.1, 0.2])),
                "confidence": float(rng.choice([0.3, 0.5, 0.7])),
                "lift": float(rng.choice([1.0, 2.0])),
            }
        )
    rules = pd.DataFrame(rows).drop_duplicates(["antecedents", "consequent"])
    index = build_rule_index(rules)
    purchases = [
        (customer, int(product), NOW - pd.Timedelta(days=int(days)))
        for customer in range(1, 30)
        for product, days in zip(
            rng.choice(np.arange(1, 16), int(rng.integers(1, 9)), replace=False),
            rng.integers(1, 600, 9),
            strict=False,
        )
    ]
    frame = pd.DataFrame(
        purchases, columns=["customer_id", "product_id", "last_purchased_at"]
    )
    found = rule_candidates(frame, index=index, now=NOW, per_customer=3, chunk_size=7)
    recent = frame[frame["last_purchased_at"] >= NOW - pd.Timedelta(days=365)]
    expected = []
    for customer, items in recent.groupby("customer_id")["product_id"]:
        for suggestion in suggest_for_basket(
            index,
            basket=items.tolist(),
            k=3,
            exclude=set(frame.loc[frame["customer_id"] == customer, "product_id"]),
        ):
            expected.append((customer, suggestion.product_id, suggestion.antecedents))
    got = list(
        zip(
            found["customer_id"].tolist(),
            found["product_id"].tolist(),
            found["antecedents"].tolist(),
            strict=True,
        )
    )
    assert sorted(got) == sorted(expected)


def test_popular_and_entry_steps_serve_customers_without_history() -> None:
    popularity = pd.DataFrame({"product_id": [5, 6, 7], "share": [0.2, 0.5, 0.0]})
    popular = popular_candidates(np.array([9]), popularity=popularity, per_customer=5)
    assert popular["product_id"].tolist() == [6, 5]
    entry = entry_step_candidates(np.array([9]), steps=STEPS)
    assert sorted(entry["product_id"].tolist()) == [100, 200]


def test_combine_keeps_the_strongest_source_per_product() -> None:
    popularity = pd.DataFrame({"product_id": [100], "share": [0.5]})
    combined = combine_candidates(
        [
            popular_candidates(np.array([9]), popularity=popularity),
            entry_step_candidates(np.array([9]), steps=STEPS),
        ]
    )
    row = combined[combined["product_id"] == 100].iloc[0]
    assert row["source"] == "upsell_entry"
    assert len(combined) == 2


def test_malformed_steps_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        upsell_candidates(
            pd.DataFrame({"customer_id": [1], "ladder_id": [1], "step_id": [11]}),
            steps=pd.concat([STEPS, STEPS.head(1)]),
        )
    with pytest.raises(ValueError, match="missing column"):
        derive_positions(owned([(1, 100)]), steps=STEPS.drop(columns="position"))


def purchases(rows: list[tuple[int, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [row[0] for row in rows],
            "product_id": [row[1] for row in rows],
            "purchased_at": NOW - pd.Timedelta(days=5),
            "basket_id": [row[2] for row in rows],
        }
    )


def test_item_similarity_is_cosine() -> None:
    profile = build_purchase_profile(
        purchases([(1, "a", 1), (1, "b", 1), (2, "a", 2), (3, "b", 3)]), now=NOW
    )
    similarity = item_similarity(profile.owned).toarray()
    # a: customers {1,2}; b: {1,3} -> cosine 1 / (sqrt2 * sqrt2)
    np.testing.assert_allclose(similarity, [[0.0, 0.5], [0.5, 0.0]])


def test_blend_suggests_what_look_alikes_bought() -> None:
    rows = [(c, item, c) for c in range(1, 6) for item in ("tent", "mat", "stove")]
    rows += [(9, "tent", 90), (9, "mat", 90)]
    rows += [(10, "dress", 100), (11, "dress", 110), (11, "hat", 110)]
    scored = blend_cross_sell_scores(
        build_purchase_profile(purchases(rows), now=NOW),
        weights=BlendWeights(neighbours=3, min_pair_count=1),
        n_candidates=2,
    )
    top = scored[scored["customer_id"] == 9].iloc[0]
    assert top["product_id"] == "stove"
    assert top["rule_confidence"] > 0 and top["lookalike"] > 0
    owned_by_9 = {"tent", "mat"}
    assert not owned_by_9 & set(scored.loc[scored["customer_id"] == 9, "product_id"])


def test_profile_rejects_nan_ids() -> None:
    frame = purchases([(1, "a", 1)])
    frame.loc[0, "product_id"] = None
    with pytest.raises(ValueError, match="missing value"):
        build_purchase_profile(frame, now=NOW)


def test_max_rule_confidence_takes_the_best_owned_antecedent() -> None:
    from scipy import sparse

    from recommendations.engine.similarity import max_rule_confidence

    confidence = sparse.csr_matrix(
        np.array([[0.0, 0.2, 0.9], [0.5, 0.0, 0.4], [0.0, 0.0, 0.0]], dtype=np.float32)
    )
    owned_matrix = sparse.csr_matrix(np.array([[1, 1, 0], [0, 0, 1], [0, 1, 0]], bool))
    result = max_rule_confidence(owned_matrix, confidence=confidence)
    np.testing.assert_allclose(
        result, [[0.5, 0.2, 0.9], [0.0, 0.0, 0.0], [0.5, 0.0, 0.4]]
    )


def test_a_capped_neighbour_pool_still_finds_the_look_alikes() -> None:
    rows = [(c, item, c) for c in range(1, 6) for item in ("tent", "mat", "stove")]
    rows += [(9, "tent", 90), (9, "mat", 90), (10, "dress", 100)]
    profile = build_purchase_profile(purchases(rows), now=NOW)
    capped = blend_cross_sell_scores(
        profile,
        weights=BlendWeights(neighbours=3, min_pair_count=1, max_neighbour_pool=5),
        n_candidates=1,
    )
    assert capped.set_index("customer_id").loc[9, "product_id"] == "stove"
    assert capped.set_index("customer_id").loc[9, "lookalike"] == 1.0


def test_strongest_anchor_is_the_owned_product_most_linked_to_the_suggestion() -> None:
    purchases = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3],
            "product_id": [10, 11, 10, 12, 11],
            "purchased_at": pd.Timestamp("2020-01-01"),
            "basket_id": [1, 1, 2, 2, 3],
        }
    )
    profile = build_purchase_profile(purchases, now=pd.Timestamp("2020-01-02"))
    links = item_similarity(profile.owned)
    # cos(10, 12) = 1/sqrt(2) > cos(11, 12) = 0; cos(11, 10) = 1/2.
    found = strongest_anchors(
        profile,
        links=links,
        customer_ids=np.array([1, 3, 9, 3, 3]),
        product_ids=np.array([12, 10, 10, 99, 12]),
    )
    # Unknown customer 9, unknown product 99, and no owned product of customer 3
    # linked to 12: -1.
    assert found.tolist() == [0, 1, -1, -1, -1]
    assert profile.product_ids[found[:2]].tolist() == [10, 11]


def _anchors_by_sparse_argmax(profile, links, customer_ids, product_ids):
    """The definition, the slow way: argmax of recency x link column per pair."""
    found = []
    for customer, product in zip(customer_ids, product_ids, strict=True):
        if customer not in profile.customer_ids or product not in profile.product_ids:
            found.append(-1)
            continue
        row = int(np.searchsorted(profile.customer_ids, customer))
        column = int(np.searchsorted(profile.product_ids, product))
        strength = (
            profile.recency[row].multiply(sp.csr_matrix(links)[:, column].T).tocsr()
        )
        strength.eliminate_zeros()
        found.append(int(strength.argmax()) if strength.nnz else -1)
    return found


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_strongest_anchor_matches_the_sparse_argmax_ties_included(seed) -> None:
    rng = np.random.default_rng(seed)
    n_customers, n_products = 40, 25
    purchases = pd.DataFrame(
        {
            "customer_id": rng.integers(1, n_customers, 300),
            "product_id": rng.integers(100, 100 + n_products, 300),
            # few distinct days: equal recency weights, so ties happen
            "purchased_at": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 3, 300), unit="D"),
        }
    )
    purchases["basket_id"] = purchases["customer_id"]
    profile = build_purchase_profile(purchases, now=pd.Timestamp("2020-02-01"))
    # Links rounded to tenths: many equal strengths between owned products.
    links = sp.csr_matrix(np.round(item_similarity(profile.owned).toarray(), 1))
    customer_ids = rng.integers(0, n_customers + 3, 400)
    product_ids = rng.integers(99, 101 + n_products, 400)
    found = strongest_anchors(
        profile, links=links, customer_ids=customer_ids, product_ids=product_ids
    )
    expected = _anchors_by_sparse_argmax(profile, links, customer_ids, product_ids)
    assert found.tolist() == expected
    assert (found >= 0).sum() > 100 and (found == -1).sum() > 10

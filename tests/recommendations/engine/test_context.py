"""A precomputed EngineContext gives the same suggestions as computing from scratch.

A run builds the history-wide structures once (``build_engine_context``); each
shard or one-customer recompute then passes only its own customers' lines. The
result must not depend on that shortcut.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from recommendations.engine.pipeline import (
    EngineInputs,
    EngineParams,
    build_engine_context,
    compute_suggestions,
)
from recommendations.engine.similarity import BlendWeights
from tests.recommendations.engine.test_pipeline import (
    NOW,
    PARAMS,
    make_inputs,
)


def _shop(seed: int = 5, customers: int = 120, products: int = 60) -> EngineInputs:
    """A random shop with planted pairs, big enough for a capped neighbour pool."""
    rng = np.random.default_rng(seed)
    rows = []
    order_id = 0
    for customer in range(1, customers + 1):
        for _ in range(int(rng.integers(1, 5))):
            order_id += 1
            items = set(rng.integers(1, products + 1, int(rng.integers(1, 5))))
            items |= {item + 30 for item in items if item <= 10 and rng.random() < 0.7}
            status = "cancelled" if rng.random() < 0.05 else "placed"
            for item in sorted(i for i in items if i <= products):
                rows.append(
                    {
                        "order_id": order_id,
                        "customer_id": customer,
                        "product_id": item,
                        "quantity": 1,
                        "returned_quantity": int(rng.random() < 0.03),
                        "unit_price": 10.0 + item,
                        "placed_at": NOW - pd.Timedelta(days=int(rng.integers(1, 400))),
                        "order_status": status,
                    }
                )
    lines = pd.DataFrame(rows)
    lines["customer_id"] = lines["customer_id"].astype("Int64")
    ids = list(range(1, customers + 3))  # the last two have no history
    product_ids = np.arange(1, products + 1)
    catalogue = pd.DataFrame(
        {
            "product_id": product_ids,
            "sku": [f"S{i}" for i in product_ids],
            "name": [f"Product {i}" for i in product_ids],
            "category_id": product_ids % 12,
            "kind": "article",
            "price": 10.0 + product_ids,
            "unit_cost": 4.0 + product_ids / 2,
            "season": "all_year",
            "is_consumable": False,
            "active": True,
        }
    )
    people = pd.DataFrame(
        {
            "customer_id": ids,
            "birth_date": pd.to_datetime(
                rng.choice(["1960-05-01", "1985-01-01", "2001-09-09"], len(ids)),
                utc=True,
            ),
            "gender": rng.choice(["f", "m", ""], len(ids)),
            "latitude": rng.uniform(40, 55, len(ids)),
            "longitude": rng.uniform(-5, 10, len(ids)),
            "preferred_channel": "email",
            "home_store_id": pd.array([1] * len(ids), dtype="Int64"),
        }
    )
    return EngineInputs(
        order_lines=lines,
        products=catalogue,
        customers=people,
        consents=pd.DataFrame(
            {"customer_id": ids, "channel": "email", "granted": True}
        ),
    )


RANDOM_PARAMS = EngineParams(
    min_support=0.01,
    min_confidence=0.2,
    blend=BlendWeights(min_pair_count=3, max_neighbour_pool=40, neighbours=10),
)


def _one_by_one(inputs: EngineInputs, *, params: EngineParams) -> pd.DataFrame:
    """Each customer alone: their own lines, customer row and consents + the context."""
    context = build_engine_context(
        inputs.order_lines, customers=inputs.customers, params=params, now=NOW
    )
    frames = []
    for customer_id in inputs.customers["customer_id"]:
        own = inputs.order_lines["customer_id"] == customer_id
        frames.append(
            compute_suggestions(
                EngineInputs(
                    order_lines=inputs.order_lines[own.fillna(False).to_numpy(bool)],
                    products=inputs.products,
                    customers=inputs.customers[
                        inputs.customers["customer_id"] == customer_id
                    ],
                    consents=inputs.consents[
                        inputs.consents["customer_id"] == customer_id
                    ],
                    steps=inputs.steps,
                    step_offers=inputs.step_offers,
                    outcomes=inputs.outcomes,
                    context=context,
                ),
                params=params,
                now=NOW,
            )
        )
    return pd.concat(frames, ignore_index=True)


def _sorted(result: pd.DataFrame) -> pd.DataFrame:
    return result.sort_values(["customer_id", "rank"]).reset_index(drop=True)


@pytest.mark.parametrize(
    ("make", "params"),
    [(make_inputs, PARAMS), (_shop, RANDOM_PARAMS)],
    ids=["hand-built shop", "random shop, capped neighbour pool"],
)
def test_one_customer_with_the_context_equals_the_whole_computation(
    make, params
) -> None:
    inputs = make()
    whole = compute_suggestions(inputs, params=params, now=NOW)
    alone = _one_by_one(inputs, params=params)
    assert len(whole) > 0
    assert set(whole["source"]) >= {"lookalike"}
    # (dtypes may differ where pd.concat meets empty per-customer frames)
    assert_frame_equal(_sorted(alone), _sorted(whole), check_dtype=False)


def test_the_context_carries_the_history_not_the_callers_lines() -> None:
    # A customer's recompute with the context sees look-alikes and rules learnt
    # from everyone, although only their own lines are passed.
    inputs = _shop()
    context = build_engine_context(
        inputs.order_lines, customers=inputs.customers, params=RANDOM_PARAMS, now=NOW
    )
    assert context.rules is not None and len(context.rules) > 0
    assert context.cross_sell is not None
    assert len(context.cross_sell.pool_customer_ids) == 40
    first = inputs.order_lines[inputs.order_lines["customer_id"] == 1]
    only_own = EngineInputs(
        order_lines=first,
        products=inputs.products,
        customers=inputs.customers[inputs.customers["customer_id"] == 1],
        consents=inputs.consents,
    )
    with_context = compute_suggestions(
        EngineInputs(**{**only_own.__dict__, "context": context}),
        params=RANDOM_PARAMS,
        now=NOW,
    )
    without = compute_suggestions(only_own, params=RANDOM_PARAMS, now=NOW)
    assert "lookalike" in set(with_context["source"])
    # Alone, one customer has no neighbours: popular items are all there is.
    assert "lookalike" not in set(without["source"])


def test_best_rule_confidence_is_the_same_from_a_dense_matrix() -> None:
    import scipy.sparse as sp

    from recommendations.engine.similarity import max_rule_confidence

    rng = np.random.default_rng(3)
    confidence = sp.random(40, 40, density=0.2, random_state=4, dtype=np.float32)
    confidence = sp.csr_matrix(confidence)
    owned = sp.csr_matrix(rng.random((25, 40)) < 0.15)
    sparse = max_rule_confidence(owned, confidence=confidence)
    dense = max_rule_confidence(owned, confidence=confidence.toarray())
    assert sparse.max() > 0
    np.testing.assert_array_equal(dense, sparse)


def test_large_catalogues_score_the_same_with_sparse_matrices(monkeypatch) -> None:
    # Dense product matrices are a speed-up for small catalogues only; the
    # sparse path (large catalogues) must rank the same.
    from recommendations.engine import similarity
    from recommendations.engine.baskets import kept_order_lines
    from recommendations.engine.pipeline import _purchases

    inputs = _shop()
    profile = similarity.build_purchase_profile(
        _purchases(kept_order_lines(inputs.order_lines)), now=NOW
    )
    weights = RANDOM_PARAMS.blend
    dense = similarity.blend_cross_sell_scores(profile, weights=weights)
    monkeypatch.setattr(similarity, "DENSE_CONFIDENCE_MAX_PRODUCTS", 0)
    monkeypatch.setattr(similarity, "DENSE_POOL_MAX_ENTRIES", 0)
    model = similarity.build_cross_sell_model(profile, weights=weights)
    assert model.dense_similarity is None and model.dense_pool_owned is None
    sparse = similarity.blend_cross_sell_scores(profile, weights=weights)
    assert len(dense) > 0
    assert_frame_equal(
        sparse[["customer_id", "product_id"]], dense[["customer_id", "product_id"]]
    )
    np.testing.assert_allclose(sparse["score"], dense["score"], rtol=1e-5)

"""End-to-end engine scenarios: compute_suggestions on a tiny hand-built shop."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recommendations.engine.candidates import CANDIDATE_COLUMNS
from recommendations.engine.pipeline import (
    RESULT_COLUMNS,
    EngineInputs,
    EngineParams,
    _attach_blend,
    compute_suggestions,
)
from recommendations.engine.reasons import render_reason
from recommendations.engine.rules import RULE_COLUMNS
from recommendations.engine.similarity import BlendWeights

NOW = pd.Timestamp("2026-06-01", tz="UTC")
SWIMSUIT, SUNGLASSES, COAT, TOWEL, SCARF, SUNSCREEN = 1, 2, 3, 4, 5, 6
SHOES, PREMIUM_SHOES, SOCKS = 7, 8, 9
SWIMSUIT_BUYER, RETURNER, NEWCOMER, RUNNER = 100, 200, 300, 400


def make_products() -> pd.DataFrame:
    rows = [
        (SWIMSUIT, "SW", "Swimsuit", 10, "spring_summer", 40.0, 15.0, False),
        (SUNGLASSES, "SG", "Sunglasses", 11, "spring_summer", 25.0, 8.0, False),
        (COAT, "WC", "Winter coat", 12, "autumn_winter", 120.0, 50.0, False),
        (TOWEL, "BT", "Beach towel", 13, "all_year", 20.0, np.nan, False),
        (SCARF, "WS", "Wool scarf", 11, "autumn_winter", 30.0, 10.0, False),
        (SUNSCREEN, "SS", "Sunscreen", 14, "all_year", 10.0, 4.0, True),
        (SHOES, "RS", "Running shoes", 20, "all_year", 80.0, 40.0, False),
        (
            PREMIUM_SHOES,
            "PRS",
            "Premium running shoes",
            20,
            "all_year",
            150.0,
            70.0,
            False,
        ),
        (SOCKS, "SO", "Running socks", 21, "all_year", 12.0, 4.0, False),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "product_id",
            "sku",
            "name",
            "category_id",
            "season",
            "price",
            "unit_cost",
            "is_consumable",
        ],
    )
    frame["kind"] = "article"
    frame["active"] = True
    return frame


def make_order_lines() -> pd.DataFrame:
    baskets: list[tuple[int, list[int], str, bool]] = []
    for customer in range(1, 7):
        baskets.append(
            (customer, [SWIMSUIT, SUNGLASSES, COAT, SUNSCREEN], "placed", False)
        )
    for customer in range(7, 10):
        baskets.append((customer, [SWIMSUIT, TOWEL, SUNSCREEN], "placed", False))
    for customer in range(10, 13):
        baskets.append((customer, [SHOES, SOCKS], "placed", False))
    baskets.append((SWIMSUIT_BUYER, [SWIMSUIT], "placed", False))
    for _ in range(4):
        baskets.append((RETURNER, [SUNGLASSES], "placed", True))
    baskets.append((RETURNER, [TOWEL], "cancelled", False))
    baskets.append((RUNNER, [SHOES], "placed", False))
    rows = []
    for order_id, (customer, products, status, returned) in enumerate(baskets, 1):
        for product in products:
            rows.append(
                {
                    "order_id": order_id,
                    "customer_id": customer,
                    "product_id": product,
                    "quantity": 1,
                    "returned_quantity": 1 if returned else 0,
                    "unit_price": 20.0,
                    "placed_at": NOW - pd.Timedelta(days=30 + order_id),
                    "order_status": status,
                }
            )
    frame = pd.DataFrame(rows)
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    return frame


def make_customers(ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ids,
            "birth_date": pd.to_datetime(["1990-01-01"] * len(ids), utc=True),
            "gender": ["f", "m"] * (len(ids) // 2) + ["f"] * (len(ids) % 2),
            "latitude": 48.0,
            "longitude": 2.0,
            "preferred_channel": "email",
            "home_store_id": pd.array([1] * len(ids), dtype="Int64"),
        }
    )


def make_inputs(**overrides: object) -> EngineInputs:
    customer_ids = [*range(1, 13), SWIMSUIT_BUYER, RETURNER, NEWCOMER, RUNNER]
    consents = pd.DataFrame(
        {"customer_id": customer_ids, "channel": "email", "granted": True}
    )
    steps = pd.DataFrame(
        {
            "ladder_id": [1, 1],
            "step_id": [11, 12],
            "position": [1, 2],
            "product_id": [SHOES, PREMIUM_SHOES],
            "price": [80.0, 150.0],
            "cross_sell_only": [False, False],
        }
    )
    values = {
        "order_lines": make_order_lines(),
        "products": make_products(),
        "customers": make_customers(customer_ids),
        "consents": consents,
        "steps": steps,
        "step_offers": pd.DataFrame({"step_id": [11], "product_id": [SOCKS]}),
        "outcomes": pd.DataFrame(
            {
                "kind": ["cross_sell", "upsell"],
                "channel": ["email", "email"],
                "accepted": [10, 3],
                "shown": [100, 20],
            }
        ),
    }
    values.update(overrides)
    return EngineInputs(**values)


PARAMS = EngineParams(min_support=0.05, min_confidence=0.3, min_lift=0.0)


def suggestions_for(result: pd.DataFrame, customer: int) -> pd.DataFrame:
    return result[result["customer_id"] == customer]


def test_result_has_the_documented_columns_and_ranks() -> None:
    result = compute_suggestions(make_inputs(), params=PARAMS, now=NOW)
    assert list(result.columns) == list(RESULT_COLUMNS)
    assert result.groupby("customer_id")["rank"].max().max() <= PARAMS.k
    assert (result["probability"].between(0, 1)).all()
    assert np.allclose(
        result["expected_value"], result["probability"] * result["margin"]
    )
    for code, params, text in zip(
        result["reason_code"], result["reason_params"], result["reason"], strict=True
    ):
        assert render_reason(code, params=params) == text
    # Params and evidence go to JSON fields as they are.
    json.dumps(result["reason_params"].tolist())
    json.dumps(result["evidence"].tolist(), allow_nan=False)


def test_the_swimsuit_buyer_gets_no_winter_coat() -> None:
    result = compute_suggestions(make_inputs(), params=PARAMS, now=NOW)
    mine = suggestions_for(result, SWIMSUIT_BUYER)
    assert len(mine) > 0
    assert COAT not in set(mine["product_id"])
    assert SCARF not in set(mine["product_id"])
    assert SUNGLASSES in set(mine["product_id"])


def test_without_the_season_filter_the_coat_would_have_been_offered() -> None:
    products = make_products()
    products.loc[products["product_id"] == COAT, "season"] = "all_year"
    result = compute_suggestions(make_inputs(products=products), params=PARAMS, now=NOW)
    assert COAT in set(suggestions_for(result, SWIMSUIT_BUYER)["product_id"])


def test_a_customer_with_many_returns_is_left_out_with_the_reason() -> None:
    from recommendations.engine.scores import ScoreThresholds, score_customers

    inputs = make_inputs()
    result = compute_suggestions(inputs, params=PARAMS, now=NOW)
    assert suggestions_for(result, RETURNER).empty
    scores = score_customers(
        inputs.order_lines, products=inputs.products, thresholds=ScoreThresholds()
    ).set_index("customer_id")
    assert scores.loc[RETURNER, "eligibility"] == "excluded"
    assert scores.loc[RETURNER, "reason_code"] == "negative_margin"
    assert "Left out" in scores.loc[RETURNER, "reason"]


def test_a_customer_with_no_history_still_gets_sensible_offers() -> None:
    result = compute_suggestions(make_inputs(), params=PARAMS, now=NOW)
    mine = suggestions_for(result, NEWCOMER)
    assert len(mine) == PARAMS.k
    assert set(mine["source"]) <= {"popular", "upsell_entry"}
    # The most bought products and the entry step of the running ladder.
    assert set(mine["product_id"]) & {SWIMSUIT, SUNSCREEN, SHOES}


def test_the_runner_is_offered_the_next_step_and_its_complement() -> None:
    result = compute_suggestions(make_inputs(), params=PARAMS, now=NOW)
    mine = suggestions_for(result, RUNNER).set_index("product_id")
    assert mine.loc[PREMIUM_SHOES, "kind"] == "upsell"
    assert mine.loc[PREMIUM_SHOES, "step_id"] == 12
    assert SOCKS in mine.index
    assert SHOES not in mine.index


def test_no_consent_and_no_store_means_no_suggestion() -> None:
    inputs = make_inputs()
    consents = inputs.consents[inputs.consents["customer_id"] != SWIMSUIT_BUYER]
    customers = inputs.customers.copy()
    customers.loc[customers["customer_id"] == SWIMSUIT_BUYER, "home_store_id"] = pd.NA
    result = compute_suggestions(
        make_inputs(consents=consents, customers=customers), params=PARAMS, now=NOW
    )
    assert suggestions_for(result, SWIMSUIT_BUYER).empty


def test_recently_declined_products_wait_for_the_quiet_period() -> None:
    declined = pd.DataFrame(
        {
            "customer_id": [SWIMSUIT_BUYER],
            "product_id": [SUNGLASSES],
            "declined_at": [NOW - pd.Timedelta(days=10)],
        }
    )
    result = compute_suggestions(make_inputs(declined=declined), params=PARAMS, now=NOW)
    assert SUNGLASSES not in set(suggestions_for(result, SWIMSUIT_BUYER)["product_id"])
    old = declined.assign(declined_at=NOW - pd.Timedelta(days=400))
    result = compute_suggestions(make_inputs(declined=old), params=PARAMS, now=NOW)
    assert SUNGLASSES in set(suggestions_for(result, SWIMSUIT_BUYER)["product_id"])


def test_inputs_are_not_mutated() -> None:
    inputs = make_inputs()
    copies = {
        name: getattr(inputs, name).copy() for name in ("order_lines", "products")
    }
    compute_suggestions(inputs, params=PARAMS, now=NOW)
    for name, before in copies.items():
        pd.testing.assert_frame_equal(getattr(inputs, name), before)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_suggestions(
            make_inputs(), params=PARAMS, now=pd.Timestamp("2026-01-01")
        )


def test_missing_product_columns_are_rejected() -> None:
    with pytest.raises(ValueError, match="products is missing column"):
        compute_suggestions(
            make_inputs(products=make_products().drop(columns="season")),
            params=PARAMS,
            now=NOW,
        )


def test_blended_candidates_name_their_strongest_evidence() -> None:
    # Without rules the swimsuit buyer's cross-sells come from the blend; item-kNN
    # is (one of) the strongest parts, so the reason names the owned swimsuit.
    no_rules = pd.DataFrame({column: [] for column in RULE_COLUMNS})
    result = compute_suggestions(make_inputs(rules=no_rules), params=PARAMS, now=NOW)
    mine = suggestions_for(result, SWIMSUIT_BUYER).set_index("product_id")
    assert set(mine["source"]) == {"lookalike"}
    assert set(mine["reason_code"]) == {"also_bought"}
    assert mine.loc[SUNSCREEN, "reason"] == (
        "Customers who bought Swimsuit also bought Sunscreen."
    )
    evidence = mine.loc[SUNSCREEN, "evidence"]
    assert evidence["strongest"] == "item_knn"
    assert evidence["anchor_product_id"] == SWIMSUIT
    assert evidence["item_knn"] == pytest.approx(1.0)
    # The best blended candidate gets the observed cross-sell rate (11 / 120),
    # the others less, by their blend score gap.
    assert mine["probability"].max() == pytest.approx(11 / 120)
    assert mine.loc[SUNSCREEN, "rank"] == 1


def test_rules_count_through_the_blend_score() -> None:
    candidates = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1],
            "product_id": [2, 3, 4, 5],
            "step_id": pd.array([pd.NA] * 4, dtype="Int64"),
            "kind": ["cross_sell", "cross_sell", "cross_sell", "upsell"],
            "source": ["rule", "rule", "lookalike", "upsell"],
            "anchor_product_id": pd.array([1, 1, pd.NA, 1], dtype="Int64"),
            "ladder_id": pd.array([pd.NA] * 4, dtype="Int64"),
            "antecedents": [(1,), (1,), (), ()],
            "confidence": [0.9, 0.8, np.nan, np.nan],
            "lift": [2.0, 3.0, np.nan, np.nan],
            "support": [0.1, 0.1, np.nan, np.nan],
            "strength": [0.9, 0.8, 1.0, 1.0],
        }
    )[list(CANDIDATE_COLUMNS)]
    scored = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "product_id": [2, 4],
            "score": [1.2, 1.9],
            "item_knn": [0.5, 1.0],
            "lookalike": [0.2, 0.9],
            "rule_confidence": [0.9, 0.0],
            "popularity": [0.5, 0.5],
        }
    )
    weights = BlendWeights(item_knn=1.0, lookalike=1.0, rules=0.5, popularity=0.02)
    result = _attach_blend(candidates, scored=scored, weights=weights)
    # Product 2: the scorer's values; rule part = 1.2 - 0.5 - 0.2 - 0.01.
    assert result.loc[0, "blend_score"] == pytest.approx(1.2)
    assert result.loc[0, "rule_part"] == pytest.approx(0.49)
    # Product 3: a rule the scorer did not return -> rules weight x confidence.
    assert result.loc[1, "blend_score"] == pytest.approx(0.4)
    assert result.loc[1, "rule_part"] == pytest.approx(0.4)
    assert result.loc[2, "knn_part"] == pytest.approx(1.0)
    assert result.loc[2, "lookalike_part"] == pytest.approx(0.9)
    # The upsell is not blended.
    assert np.isnan(result.loc[3, "blend_score"])

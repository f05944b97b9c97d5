"""Filters, channels, probability calibration, ranking and reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommendations.engine.candidates import CANDIDATE_COLUMNS, combine_candidates
from recommendations.engine.filters import apply_filters, choose_channels
from recommendations.engine.ranking import (
    CalibrationParams,
    acceptance_rates,
    calibrate_probabilities,
    candidate_margins,
    rank_top_k,
)
from recommendations.engine.reasons import REASON_TEMPLATES, render_reason

NOW = pd.Timestamp("2026-06-01", tz="UTC")

PRODUCTS = pd.DataFrame(
    {
        "product_id": [1, 2, 3, 4, 5, 6],
        "category_id": [10, 11, 12, 13, 14, 15],
        "season": [
            "spring_summer",
            "spring_summer",
            "autumn_winter",
            "all_year",
            "all_year",
            "all_year",
        ],
        "is_consumable": [False, False, False, False, True, False],
        "active": [True, True, True, True, True, False],
        "price": [40.0, 25.0, 120.0, 20.0, 10.0, 5.0],
        "unit_cost": [15.0, 8.0, 50.0, np.nan, 4.0, 1.0],
    }
)


def candidates(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in CANDIDATE_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    frame["kind"] = frame["kind"].astype(object).fillna("cross_sell")
    frame["source"] = frame["source"].astype(object).fillna("lookalike")
    frame["antecedents"] = [()] * len(frame)
    return combine_candidates([frame[list(CANDIDATE_COLUMNS)]])


OWNED = pd.DataFrame(
    {
        "customer_id": [1, 1],
        "product_id": [1, 5],
        "last_purchased_at": pd.to_datetime(["2026-05-01", "2026-04-01"], utc=True),
    }
)
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": [1, 2],
        "birth_date": pd.NaT,
        "gender": None,
        "latitude": np.nan,
        "longitude": np.nan,
        "preferred_channel": ["sms", None],
        "home_store_id": pd.array([None, 3], dtype="Int64"),
    }
)
CONSENTS = pd.DataFrame(
    {"customer_id": [1, 1], "channel": ["email", "sms"], "granted": [True, False]}
)
NO_DECLINES = pd.DataFrame(
    {"customer_id": [], "product_id": [], "declined_at": pd.to_datetime([], utc=True)}
)
NO_EXCLUSIONS = pd.DataFrame({"category_id_a": [], "category_id_b": []})
SCORES = pd.DataFrame(
    {"customer_id": [1, 2], "eligibility": ["eligible", "downgraded"]}
)


def filtered(
    frame: pd.DataFrame,
    *,
    declined: pd.DataFrame = NO_DECLINES,
    exclusions: pd.DataFrame = NO_EXCLUSIONS,
) -> pd.Series:
    result = apply_filters(
        frame,
        products=PRODUCTS,
        owned=OWNED,
        customer_scores=SCORES,
        customers=CUSTOMERS,
        consents=CONSENTS,
        declined=declined,
        category_exclusions=exclusions,
        now=NOW,
        quiet_period=pd.Timedelta(days=30),
    )
    return result.set_index("product_id")["dropped_by"]


def test_each_filter_drops_with_its_code() -> None:
    frame = candidates(
        [
            {"customer_id": 1, "product_id": product, "strength": 0.5}
            for product in (1, 2, 3, 4, 5, 6, 99)
        ]
    )
    dropped = filtered(frame)
    assert dropped.to_dict() == {
        1: "already_owned",
        2: None,
        3: "season_conflict",  # winter coat on the swimsuit buyer
        4: None,
        5: None,  # consumable: may be bought again
        6: "inactive_product",
        99: "unknown_product",
    }


def test_category_exclusions_and_declines() -> None:
    frame = candidates(
        [
            {"customer_id": 1, "product_id": 2, "strength": 0.5},
            {"customer_id": 1, "product_id": 4, "strength": 0.5},
        ]
    )
    exclusions = pd.DataFrame({"category_id_a": [13], "category_id_b": [10]})
    declined = pd.DataFrame(
        {
            "customer_id": [1],
            "product_id": [2],
            "declined_at": [NOW - pd.Timedelta(days=5)],
        }
    )
    dropped = filtered(frame, declined=declined, exclusions=exclusions)
    assert dropped.to_dict() == {2: "recently_declined", 4: "category_exclusion"}


def test_downgraded_customers_get_upsells_in_person_only() -> None:
    frame = candidates(
        [
            {"customer_id": 2, "product_id": 2, "strength": 0.5},
            {
                "customer_id": 2,
                "product_id": 4,
                "strength": 0.5,
                "kind": "upsell",
                "source": "upsell",
            },
        ]
    )
    result = apply_filters(
        frame,
        products=PRODUCTS,
        owned=OWNED,
        customer_scores=SCORES,
        customers=CUSTOMERS,
        consents=CONSENTS,
        declined=NO_DECLINES,
        category_exclusions=NO_EXCLUSIONS,
        now=NOW,
        quiet_period=pd.Timedelta(days=30),
    ).set_index("product_id")
    assert result.loc[2, "dropped_by"] == "customer_downgraded"
    assert result.loc[4, "dropped_by"] is None
    assert result.loc[4, "channel"] == "in_person"


def test_channel_falls_back_from_an_unconsented_preference() -> None:
    channels = choose_channels(
        pd.Series([1, 2, 3]),
        customers=CUSTOMERS,
        consents=CONSENTS,
        channel_priority=("email", "sms", "in_person"),
    )
    # 1 prefers sms but only consented to email; 2 has a store; 3 is unknown.
    assert channels.tolist() == ["email", "in_person", None]


def test_acceptance_rates_are_beta_smoothed() -> None:
    outcomes = pd.DataFrame(
        {"kind": ["cross_sell"], "channel": ["email"], "accepted": [10], "shown": [80]}
    )
    rates = acceptance_rates(
        outcomes, params=CalibrationParams(prior_rate=0.05, prior_strength=20)
    )
    assert rates[("cross_sell", "email")] == pytest.approx((10 + 1) / (80 + 20))


def test_probability_blends_confidence_and_observed_rate() -> None:
    outcomes = pd.DataFrame(
        {"kind": ["cross_sell"], "channel": ["email"], "accepted": [30], "shown": [80]}
    )
    frame = pd.DataFrame(
        {
            "kind": ["cross_sell", "cross_sell", "upsell"],
            "channel": ["email", "email", "sms"],
            "confidence": [0.6, np.nan, np.nan],
            "strength": [0.6, 1.0, 0.0],
        }
    )
    params = CalibrationParams(
        prior_rate=0.05, prior_strength=20, confidence_weight=0.5
    )
    probability = calibrate_probabilities(frame, outcomes=outcomes, params=params)
    rate = 31 / 100
    expected = pd.Series([0.5 * 0.6 + 0.5 * rate, rate, 0.05 * 0.5 / 1.5])
    pd.testing.assert_series_equal(probability, expected)


def test_blend_scores_set_the_probability_relative_to_the_best() -> None:
    outcomes = pd.DataFrame(
        {"kind": ["cross_sell"], "channel": ["email"], "accepted": [30], "shown": [80]}
    )
    frame = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2],
            "kind": ["cross_sell"] * 4 + ["upsell"],
            "channel": ["email"] * 5,
            # Row 1 is a rule: with a blend score its confidence no longer counts.
            "confidence": [np.nan, 0.9, np.nan, np.nan, np.nan],
            "strength": [1.0, 0.9, 0.5, 1.0, 1.0],
            "blend_score": [2.0, 1.8, 1.5, 0.3, np.nan],
        }
    )
    params = CalibrationParams(
        prior_rate=0.05, prior_strength=20, score_temperature=0.1
    )
    probability = calibrate_probabilities(frame, outcomes=outcomes, params=params)
    rate = 31 / 100
    # Customer 1: best gets the rate, 0.2 behind -> / e^2, 0.5 behind -> / e^5.
    # Customer 2: its only blended candidate is its best; the upsell row has no
    # blend score and keeps rate x (0.5 + strength) / 1.5 (the prior for upsell).
    expected = pd.Series(
        [rate, rate * np.exp(-2.0), rate * np.exp(-5.0), rate, 0.05 * 1.5 / 1.5]
    )
    pd.testing.assert_series_equal(probability, expected)


def test_a_probability_gap_outweighs_a_smaller_margin_gap() -> None:
    outcomes = pd.DataFrame(
        {"kind": ["cross_sell"], "channel": ["email"], "accepted": [10], "shown": [80]}
    )
    frame = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "product_id": [1, 2, 3],
            "category_id": [10, 11, 12],
            "kind": "cross_sell",
            "channel": "email",
            "confidence": np.nan,
            "strength": 1.0,
            # 0.23 behind the best: e^-2.3 ~ 0.1, so 5x the margin is not enough
            # but 20x is.
            "blend_score": [1.0, 0.77, 0.77],
        }
    )
    frame["probability"] = calibrate_probabilities(
        frame, outcomes=outcomes, params=CalibrationParams()
    )
    frame["expected_value"] = frame["probability"] * [1.0, 5.0, 20.0]
    ranked = rank_top_k(frame, k=3, max_per_category=1)
    assert ranked["product_id"].tolist() == [3, 1, 2]


def test_blend_scores_need_the_customer_and_a_positive_temperature() -> None:
    frame = pd.DataFrame(
        {
            "kind": ["cross_sell"],
            "channel": ["email"],
            "confidence": [np.nan],
            "strength": [1.0],
            "blend_score": [1.0],
        }
    )
    outcomes = pd.DataFrame(
        {"kind": ["upsell"], "channel": ["email"], "accepted": [1], "shown": [2]}
    )
    with pytest.raises(ValueError, match="customer_id"):
        calibrate_probabilities(frame, outcomes=outcomes, params=CalibrationParams())
    with pytest.raises(ValueError, match="score_temperature"):
        CalibrationParams(score_temperature=0.0)


def test_bad_outcomes_are_rejected() -> None:
    outcomes = pd.DataFrame(
        {"kind": ["upsell"], "channel": ["email"], "accepted": [5], "shown": [2]}
    )
    with pytest.raises(ValueError, match="accepted must lie"):
        acceptance_rates(outcomes, params=CalibrationParams())
    with pytest.raises(ValueError, match="missing column"):
        acceptance_rates(outcomes.drop(columns="shown"), params=CalibrationParams())


def test_margins_use_cost_or_default_rate() -> None:
    margins = candidate_margins(
        pd.Series([1, 4]), products=PRODUCTS, default_margin_rate=0.25
    )
    pd.testing.assert_series_equal(margins, pd.Series([25.0, 5.0]))


def test_ranking_keeps_top_k_and_at_most_two_of_a_category() -> None:
    scored = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2],
            "product_id": [1, 2, 3, 4, 5],
            "category_id": [10, 10, 10, 11, 12],
            "expected_value": [9.0, 8.0, 7.0, 1.0, 3.0],
        }
    )
    ranked = rank_top_k(scored, k=3, max_per_category=2)
    expected = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "product_id": [1, 2, 4, 5],
            "category_id": [10, 10, 11, 12],
            "expected_value": [9.0, 8.0, 1.0, 3.0],
            "rank": [1, 2, 3, 1],
        }
    )
    pd.testing.assert_frame_equal(ranked, expected)


def test_every_template_renders_and_missing_params_are_reported() -> None:
    assert (
        render_reason(
            "rule",
            params={
                "confidence_pct": "40",
                "antecedent": "Tent",
                "product": "Mat",
                "lift": "2.1",
            },
        )
        == "40 % of customers who bought Tent also bought Mat; lift 2.1."
    )
    for template_id, template in REASON_TEMPLATES.items():
        names = {part.split(")")[0] for part in template.split("%(")[1:]}
        assert render_reason(template_id, params=dict.fromkeys(names, "x"))
    with pytest.raises(ValueError, match="needs parameter"):
        render_reason("rule", params={"product": "Mat"})
    with pytest.raises(ValueError, match="unknown reason template"):
        render_reason("nope", params={})

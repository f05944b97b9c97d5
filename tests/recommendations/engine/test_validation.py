"""Every public engine function rejects malformed frames with a clear ValueError."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from recommendations.engine import (
    basket,
    baskets,
    candidates,
    evaluation,
    filters,
    online_retail,
    ranking,
    scores,
    similarity,
)
from recommendations.engine.ranking import CalibrationParams

NOW = pd.Timestamp("2026-06-01", tz="UTC")


def order_lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [1, 2],
            "customer_id": pd.array([1, 2], dtype="Int64"),
            "product_id": [10, 11],
            "quantity": [1, 1],
            "returned_quantity": [0, 0],
            "unit_price": [5.0, 6.0],
            "placed_at": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
            "order_status": ["placed", "placed"],
        }
    )


def products() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": [10, 11],
            "sku": ["a", "b"],
            "name": ["A", "B"],
            "category_id": [1, 2],
            "kind": ["article", "article"],
            "price": [5.0, 6.0],
            "unit_cost": [2.0, np.nan],
            "season": ["all_year", "all_year"],
            "is_consumable": [False, False],
            "active": [True, True],
        }
    )


def steps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ladder_id": [1, 1],
            "step_id": [5, 6],
            "position": [1, 2],
            "product_id": [10, 11],
            "price": [5.0, 6.0],
            "cross_sell_only": [False, False],
        }
    )


def owned() -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [1], "product_id": [10], "last_purchased_at": [NOW]}
    )


def positions() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1], "ladder_id": [1], "step_id": [5]})


def candidate_frame() -> pd.DataFrame:
    return candidates.upsell_candidates(positions(), steps=steps())


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1],
            "birth_date": [pd.NaT],
            "gender": [None],
            "latitude": [np.nan],
            "longitude": [np.nan],
            "preferred_channel": ["email"],
            "home_store_id": pd.array([None], dtype="Int64"),
        }
    )


def consents() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1], "channel": ["email"], "granted": [True]})


def declined() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1], "product_id": [11], "declined_at": [NOW]})


def exclusions() -> pd.DataFrame:
    return pd.DataFrame({"category_id_a": [1], "category_id_b": [2]})


def outcomes() -> pd.DataFrame:
    return pd.DataFrame(
        {"kind": ["upsell"], "channel": ["email"], "accepted": [1], "shown": [4]}
    )


def purchases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2],
            "product_id": [10, 11],
            "purchased_at": [NOW, NOW],
            "basket_id": [1, 2],
        }
    )


def transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "invoice": ["1", "2"],
            "customer_id": [1, 1],
            "item": ["X", "Y"],
            "quantity": [1, 1],
            "unit_price": [1.0, 1.0],
            "invoiced_at": pd.to_datetime(["2011-01-01", "2011-03-01"]),
            "country": ["UK", "UK"],
        }
    )


def filters_call(**frames: pd.DataFrame) -> Callable[[], object]:
    values = {
        "candidates": candidate_frame(),
        "products": products(),
        "owned": owned(),
        "customer_scores": pd.DataFrame(
            {"customer_id": [1], "eligibility": ["eligible"]}
        ),
        "customers": customers(),
        "consents": consents(),
        "declined": declined(),
        "category_exclusions": exclusions(),
    }
    values.update(frames)
    return lambda: filters.apply_filters(
        **values, now=NOW, quiet_period=pd.Timedelta(days=5)
    )


def without(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.drop(columns=column)


def with_nan(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    broken = frame.copy()
    broken[column] = broken[column].astype(object)
    broken.loc[broken.index[0], column] = None
    return broken


CASES: list[tuple[str, Callable[[], object], str]] = [
    (
        "build_basket_matrix/columns",
        lambda: baskets.build_basket_matrix(without(order_lines(), "placed_at")),
        "missing column",
    ),
    (
        "build_basket_matrix/nan",
        lambda: baskets.build_basket_matrix(with_nan(order_lines(), "order_id")),
        "missing value",
    ),
    (
        "basket_matrix_from_items/nan",
        lambda: baskets.basket_matrix_from_items(
            pd.DataFrame({"b": [1], "i": [None]}), basket_column="b", item_column="i"
        ),
        "missing value",
    ),
    (
        "score_customers/columns",
        lambda: scores.score_customers(
            without(order_lines(), "quantity"),
            products=products(),
            thresholds=scores.ScoreThresholds(),
        ),
        "missing column",
    ),
    (
        "score_customers/nan",
        lambda: scores.score_customers(
            order_lines(),
            products=with_nan(products(), "product_id"),
            thresholds=scores.ScoreThresholds(),
        ),
        "missing value",
    ),
    (
        "unit_margins/columns",
        lambda: scores.unit_margins(
            without(products(), "price"), default_margin_rate=0.3
        ),
        "missing column",
    ),
    (
        "derive_positions/nan",
        lambda: candidates.derive_positions(
            with_nan(owned(), "customer_id"), steps=steps()
        ),
        "missing value",
    ),
    (
        "derive_positions/steps",
        lambda: candidates.derive_positions(
            owned(), steps=with_nan(steps(), "step_id")
        ),
        "missing value",
    ),
    (
        "upsell_candidates/columns",
        lambda: candidates.upsell_candidates(
            without(positions(), "ladder_id"), steps=steps()
        ),
        "missing column",
    ),
    (
        "upsell_candidates/nan",
        lambda: candidates.upsell_candidates(
            with_nan(positions(), "step_id"), steps=steps()
        ),
        "missing value",
    ),
    (
        "step_complement_candidates/nan",
        lambda: candidates.step_complement_candidates(
            positions(),
            steps=steps(),
            step_offers=pd.DataFrame({"step_id": [None], "product_id": [1]}),
        ),
        "missing value",
    ),
    (
        "rule_candidates/nan",
        lambda: candidates.rule_candidates(
            with_nan(owned(), "product_id"),
            index=basket.build_rule_index(
                pd.DataFrame(
                    {
                        "antecedents": [(10,)],
                        "consequent": [11],
                        "support": [0.1],
                        "confidence": [0.5],
                        "lift": [1.0],
                    }
                )
            ),
            now=NOW,
        ),
        "missing value",
    ),
    (
        "lookalike_candidates/columns",
        lambda: candidates.lookalike_candidates(pd.DataFrame({"customer_id": [1]})),
        "missing column",
    ),
    (
        "popular_candidates/nan",
        lambda: candidates.popular_candidates(
            np.array([1.0, np.nan]),
            popularity=pd.DataFrame({"product_id": [1], "share": [0.5]}),
        ),
        "missing value",
    ),
    (
        "entry_step_candidates/nan",
        lambda: candidates.entry_step_candidates(np.array([np.nan]), steps=steps()),
        "missing value",
    ),
    (
        "combine_candidates/columns",
        lambda: candidates.combine_candidates([pd.DataFrame({"customer_id": [1]})]),
        "missing column",
    ),
    (
        "combine_candidates/nan",
        lambda: candidates.combine_candidates(
            [with_nan(candidate_frame(), "product_id")]
        ),
        "missing value",
    ),
    (
        "apply_filters/candidates",
        filters_call(candidates=with_nan(candidate_frame(), "customer_id")),
        "missing value",
    ),
    (
        "apply_filters/owned",
        filters_call(owned=without(owned(), "last_purchased_at")),
        "missing column",
    ),
    (
        "apply_filters/declined",
        filters_call(declined=with_nan(declined(), "product_id")),
        "missing value",
    ),
    (
        "apply_filters/exclusions",
        filters_call(category_exclusions=pd.DataFrame({"category_id_a": [1]})),
        "missing column",
    ),
    (
        "apply_filters/season",
        filters_call(products=products().assign(season="monsoon")),
        "unknown value",
    ),
    (
        "choose_channels/consents",
        lambda: filters.choose_channels(
            pd.Series([1]),
            customers=customers(),
            consents=with_nan(consents(), "channel"),
            channel_priority=("email",),
        ),
        "missing value",
    ),
    (
        "choose_channels/nan",
        lambda: filters.choose_channels(
            pd.Series([None]),
            customers=customers(),
            consents=consents(),
            channel_priority=("email",),
        ),
        "missing value",
    ),
    (
        "acceptance_rates/nan",
        lambda: ranking.acceptance_rates(
            with_nan(outcomes(), "kind"), params=CalibrationParams()
        ),
        "missing value",
    ),
    (
        "calibrate_probabilities/columns",
        lambda: ranking.calibrate_probabilities(
            pd.DataFrame({"kind": ["upsell"]}),
            outcomes=outcomes(),
            params=CalibrationParams(),
        ),
        "missing column",
    ),
    (
        "candidate_margins/nan",
        lambda: ranking.candidate_margins(
            pd.Series([10, None]), products=products(), default_margin_rate=0.3
        ),
        "missing value",
    ),
    (
        "rank_top_k/columns",
        lambda: ranking.rank_top_k(pd.DataFrame({"customer_id": [1]})),
        "missing column",
    ),
    (
        "rank_top_k/nan",
        lambda: ranking.rank_top_k(
            pd.DataFrame(
                {
                    "customer_id": [None],
                    "product_id": [1],
                    "category_id": [1],
                    "expected_value": [1.0],
                }
            )
        ),
        "missing value",
    ),
    (
        "build_rule_index/columns",
        lambda: basket.build_rule_index(pd.DataFrame({"antecedents": [(1,)]})),
        "missing column",
    ),
    (
        "suggest_for_basket/nan",
        lambda: basket.suggest_for_basket(
            basket.build_rule_index(
                pd.DataFrame(
                    {
                        "antecedents": [(10,)],
                        "consequent": [11],
                        "support": [0.1],
                        "confidence": [0.5],
                        "lift": [1.0],
                    }
                )
            ),
            basket=[10, None],
        ),
        "missing product id",
    ),
    (
        "build_purchase_profile/columns",
        lambda: similarity.build_purchase_profile(
            without(purchases(), "basket_id"), now=NOW
        ),
        "missing column",
    ),
    (
        "build_purchase_profile/nan",
        lambda: similarity.build_purchase_profile(
            with_nan(purchases(), "customer_id"), now=NOW
        ),
        "missing value",
    ),
    (
        "clean_online_retail/columns",
        lambda: online_retail.clean_online_retail(pd.DataFrame({"InvoiceNo": ["1"]})),
        "missing column",
    ),
    (
        "split_transactions/columns",
        lambda: evaluation.split_transactions(
            without(transactions(), "item"), split_date=pd.Timestamp("2011-02-01")
        ),
        "missing column",
    ),
    (
        "split_transactions/nan",
        lambda: evaluation.split_transactions(
            with_nan(transactions(), "customer_id"),
            split_date=pd.Timestamp("2011-02-01"),
        ),
        "missing value",
    ),
]


@pytest.mark.parametrize(
    ("call", "message"),
    [(case[1], case[2]) for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_malformed_input_raises_a_clear_value_error(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_non_frames_are_rejected() -> None:
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        scores.score_customers(
            [1, 2], products=products(), thresholds=scores.ScoreThresholds()
        )

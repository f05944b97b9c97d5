"""Offline evaluation of cross-sell recommendations on a time split.

Protocol: train on transactions before ``split_date``. Evaluate customers seen in
training who, on or after the date, bought at least one product they had not
bought in training; their targets are those new products. No recommender may
suggest a product the customer bought in training. Metrics per cut-off k:
hit-rate@k (share of customers with at least one target in their top k),
precision@k (mean of hits / k) and catalogue coverage (distinct recommended
products / products in training).

The "engine" method is the full ``pipeline.compute_suggestions`` (candidate
generation, filters, calibrated probability x margin ranking) on the training
transactions; ``blend_cross_sell_scores`` alone can be reported as
"blended_scorer" for information.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from recommendations.engine._validation import require_frame, require_no_nulls
from recommendations.engine.online_retail import TRANSACTION_COLUMNS
from recommendations.engine.pipeline import (
    EngineInputs,
    EngineParams,
    compute_suggestions,
)
from recommendations.engine.similarity import (
    BlendWeights,
    PurchaseProfile,
    _row_normalise,
    blend_cross_sell_scores,
    build_purchase_profile,
    item_similarity,
    max_rule_confidence,
    pair_confidence,
)

#: Recommendation frame. dtypes: customer_id int64, product_id str|int64,
#: rank int64 (1 = best), score float64.
RECOMMENDATION_COLUMNS: tuple[str, ...] = ("customer_id", "product_id", "rank", "score")

#: Metrics frame. dtypes: method str, k int64, customers int64, hit_rate float64,
#: precision float64, coverage float64.
METRIC_COLUMNS: tuple[str, ...] = (
    "method",
    "k",
    "customers",
    "hit_rate",
    "precision",
    "coverage",
)


@dataclass(frozen=True)
class EvaluationSplit:
    """Training purchases, the fitted profile and the held-out targets.

    ``targets`` has columns customer_id int64, product_id (one row per new product
    bought on or after the split date); ``customers`` the evaluated customer ids;
    ``train`` the training transactions (``TRANSACTION_COLUMNS``), which the full
    pipeline needs (None: only the profile-based methods can run).
    """

    profile: PurchaseProfile
    targets: pd.DataFrame
    customers: np.ndarray
    split_date: pd.Timestamp
    train: pd.DataFrame | None = None


def split_transactions(
    transactions: pd.DataFrame,
    *,
    split_date: pd.Timestamp,
    half_life_days: float = BlendWeights.half_life_days,
) -> EvaluationSplit:
    """Split cleaned transactions (``TRANSACTION_COLUMNS``) at ``split_date``."""
    require_frame(transactions, name="transactions", columns=TRANSACTION_COLUMNS)
    require_no_nulls(
        transactions,
        name="transactions",
        columns=("invoice", "customer_id", "item", "invoiced_at"),
    )
    before = transactions["invoiced_at"] < split_date
    train = transactions.loc[before]
    test = transactions.loc[~before]
    if train.empty or test.empty:
        raise ValueError(f"split_date {split_date} leaves an empty train or test set")
    purchases = pd.DataFrame(
        {
            "customer_id": train["customer_id"].to_numpy(),
            "product_id": train["item"].to_numpy(),
            "purchased_at": train["invoiced_at"].to_numpy(),
            "basket_id": train["invoice"].to_numpy(),
        }
    )
    profile = build_purchase_profile(
        purchases, now=split_date, half_life_days=half_life_days
    )
    owned_pairs = pd.DataFrame(
        {"customer_id": train["customer_id"], "product_id": train["item"]}
    ).drop_duplicates()
    later = pd.DataFrame(
        {"customer_id": test["customer_id"], "product_id": test["item"]}
    ).drop_duplicates()
    later = later[later["customer_id"].isin(profile.customer_ids)]
    merged = later.merge(owned_pairs, how="left", indicator=True)
    new = merged.loc[merged["_merge"] == "left_only", ["customer_id", "product_id"]]
    return EvaluationSplit(
        profile=profile,
        targets=new.reset_index(drop=True),
        customers=np.sort(new["customer_id"].unique()),
        split_date=split_date,
        train=train,
    )


def _top_k_frame(
    profile: PurchaseProfile, *, scores: np.ndarray, rows: np.ndarray, k: int
) -> pd.DataFrame:
    masked = scores.astype(np.float64, copy=True)
    masked[profile.owned[rows].toarray()] = -np.inf
    take = min(k, masked.shape[1])
    top = np.argsort(-masked, axis=1, kind="stable")[:, :take]
    top_scores = np.take_along_axis(masked, top, axis=1)
    frame = pd.DataFrame(
        {
            "customer_id": np.repeat(profile.customer_ids[rows], take),
            "product_id": profile.product_ids[top.ravel()],
            "rank": np.tile(np.arange(1, take + 1), len(rows)),
            "score": top_scores.ravel(),
        }
    )
    return frame[np.isfinite(frame["score"])].reset_index(drop=True)


def _rows_of(profile: PurchaseProfile, *, customers: np.ndarray) -> np.ndarray:
    rows = np.searchsorted(profile.customer_ids, customers)
    if len(rows) and (
        rows.max() >= len(profile.customer_ids)
        or (profile.customer_ids[rows] != customers).any()
    ):
        raise ValueError("customers must all appear in the training profile")
    return rows


def recommend_popularity(
    profile: PurchaseProfile, *, customers: np.ndarray, k: int
) -> pd.DataFrame:
    """Baseline: the products in most training baskets, minus owned ones."""
    rows = _rows_of(profile, customers=customers)
    scores = np.tile(profile.basket_counts.astype(np.float64), (len(rows), 1))
    return _top_k_frame(profile, scores=scores, rows=rows, k=k)


def recommend_pair_rules(
    profile: PurchaseProfile,
    *,
    customers: np.ndarray,
    k: int,
    min_pair_count: int = 20,
) -> pd.DataFrame:
    """Baseline: best pair-rule confidence from any owned product (ties: popularity)."""
    rows = _rows_of(profile, customers=customers)
    confidence = pair_confidence(profile, min_pair_count=min_pair_count)
    tie_break = 1e-9 * profile.basket_counts / max(1, profile.basket_counts.max())
    scores = max_rule_confidence(profile.owned[rows], confidence=confidence)
    return _top_k_frame(profile, scores=scores + tie_break, rows=rows, k=k)


def recommend_item_knn(
    profile: PurchaseProfile, *, customers: np.ndarray, k: int
) -> pd.DataFrame:
    """Baseline: sum of product cosine similarities to owned products."""
    rows = _rows_of(profile, customers=customers)
    similarity = item_similarity(profile.owned)
    scores = (profile.owned[rows].astype(np.float32) @ similarity).toarray()
    tie_break = 1e-9 * profile.basket_counts / max(1, profile.basket_counts.max())
    return _top_k_frame(
        profile, scores=_row_normalise(scores) + tie_break, rows=rows, k=k
    )


def recommend_engine(
    profile: PurchaseProfile,
    *,
    customers: np.ndarray,
    k: int,
    weights: BlendWeights | None = None,
) -> pd.DataFrame:
    """The engine's cross-sell scorer alone (``blend_cross_sell_scores``), ranked by
    blend score; the full pipeline is ``recommend_pipeline``."""
    rows = _rows_of(profile, customers=customers)
    scored = blend_cross_sell_scores(
        profile, weights=weights or BlendWeights(), n_candidates=k
    )
    scored = scored[scored["customer_id"].isin(profile.customer_ids[rows])]
    scored = scored.assign(rank=scored.groupby("customer_id").cumcount() + 1)
    return scored.loc[scored["rank"] <= k, list(RECOMMENDATION_COLUMNS)].reset_index(
        drop=True
    )


def score_recommendations(
    recommendations: pd.DataFrame,
    *,
    split: EvaluationSplit,
    k: int,
    method: str,
) -> dict[str, object]:
    """Hit-rate@k, precision@k and coverage of one recommendation frame."""
    require_frame(
        recommendations, name="recommendations", columns=RECOMMENDATION_COLUMNS
    )
    require_no_nulls(
        recommendations, name="recommendations", columns=("customer_id", "product_id")
    )
    top = recommendations[recommendations["rank"] <= k]
    top = top[top["customer_id"].isin(split.customers)]
    hits = top.merge(split.targets, on=["customer_id", "product_id"], how="inner")
    per_customer = hits.groupby("customer_id").size()
    n_customers = len(split.customers)
    return {
        "method": method,
        "k": int(k),
        "customers": n_customers,
        "hit_rate": len(per_customer) / n_customers if n_customers else 0.0,
        "precision": float(per_customer.sum()) / (k * n_customers)
        if n_customers
        else 0.0,
        "coverage": top["product_id"].nunique() / len(split.profile.product_ids),
    }


def online_retail_engine_inputs(
    transactions: pd.DataFrame, *, split_date: pd.Timestamp
) -> tuple[EngineInputs, np.ndarray]:
    """Map training transactions onto ``EngineInputs`` for the full pipeline.

    Products get int ids (the returned array maps id -> StockCode), the median
    paid price, no unit cost (so the default margin rate applies), their own
    category and season "all_year"; every customer consents to email. Only rows
    before ``split_date`` are used.
    """
    require_frame(transactions, name="transactions", columns=TRANSACTION_COLUMNS)
    train = transactions.loc[transactions["invoiced_at"] < split_date]
    codes, items = pd.factorize(train["item"], sort=True)
    invoice_codes, _ = pd.factorize(train["invoice"])
    placed_at = pd.to_datetime(train["invoiced_at"])
    if placed_at.dt.tz is None:
        placed_at = placed_at.dt.tz_localize("UTC")
    order_lines = pd.DataFrame(
        {
            "order_id": invoice_codes.astype("int64"),
            "customer_id": pd.array(train["customer_id"], dtype="Int64"),
            "product_id": codes.astype("int64"),
            "quantity": train["quantity"].to_numpy(),
            "returned_quantity": 0,
            "unit_price": train["unit_price"].to_numpy(),
            "placed_at": placed_at.array,
            "order_status": "placed",
        }
    )
    price = order_lines.groupby("product_id")["unit_price"].median()
    products = pd.DataFrame(
        {
            "product_id": price.index.to_numpy(),
            "sku": np.asarray(items)[price.index.to_numpy()],
            "name": np.asarray(items)[price.index.to_numpy()],
            "category_id": price.index.to_numpy(),
            "kind": "article",
            "price": price.to_numpy(),
            "unit_cost": np.nan,
            "season": "all_year",
            "is_consumable": False,
            "active": True,
        }
    )
    customer_ids = np.sort(train["customer_id"].unique())
    customers = pd.DataFrame(
        {
            "customer_id": customer_ids,
            "birth_date": pd.NaT,
            "gender": None,
            "latitude": np.nan,
            "longitude": np.nan,
            "preferred_channel": "email",
            "home_store_id": pd.array([None] * len(customer_ids), dtype="Int64"),
        }
    )
    consents = pd.DataFrame(
        {"customer_id": customer_ids, "channel": "email", "granted": True}
    )
    inputs = EngineInputs(
        order_lines=order_lines,
        products=products,
        customers=customers,
        consents=consents,
    )
    return inputs, np.asarray(items)


def recommend_pipeline(
    transactions: pd.DataFrame,
    *,
    split: EvaluationSplit,
    k: int,
    params: EngineParams | None = None,
) -> pd.DataFrame:
    """The full ``compute_suggestions`` pipeline (expected-value ranking) as recs.

    ``params`` defaults to ``EngineParams(k=k)`` (the production defaults); its
    ``k`` is replaced by ``k``. Scores are expected values.
    """
    inputs, items = online_retail_engine_inputs(
        transactions, split_date=split.split_date
    )
    now = split.split_date
    now = now.tz_localize("UTC") if now.tzinfo is None else now
    params = replace(params or EngineParams(), k=k)
    suggestions = compute_suggestions(inputs, params=params, now=now)
    return pd.DataFrame(
        {
            "customer_id": suggestions["customer_id"].to_numpy(),
            "product_id": items[suggestions["product_id"].to_numpy()],
            "rank": suggestions["rank"].to_numpy(),
            "score": suggestions["expected_value"].to_numpy(),
        }
    )


def evaluate_methods(
    split: EvaluationSplit,
    *,
    ks: Sequence[int] = (3, 10),
    weights: BlendWeights | None = None,
    params: EngineParams | None = None,
    include_blended_scorer: bool = False,
) -> pd.DataFrame:
    """Evaluate the engine and the three baselines; returns ``METRIC_COLUMNS``.

    "engine" is the full pipeline (``recommend_pipeline`` with ``params``) on
    ``split.train``; a split without training transactions is rejected.
    ``include_blended_scorer`` adds a "blended_scorer" row (``recommend_engine``
    with ``weights``) after the engine. Methods come in that order, then
    popularity, pair rules and item-kNN.
    """
    if not ks or any(int(k) < 1 for k in ks):
        raise ValueError(f"ks must be positive integers, got {list(ks)!r}")
    if split.train is None:
        raise ValueError("split has no training transactions (use split_transactions)")
    k_max = max(int(k) for k in ks)
    customers = split.customers
    methods = {
        "engine": recommend_pipeline(split.train, split=split, k=k_max, params=params)
    }
    if include_blended_scorer:
        methods["blended_scorer"] = recommend_engine(
            split.profile, customers=customers, k=k_max, weights=weights
        )
    methods |= {
        "popularity": recommend_popularity(split.profile, customers=customers, k=k_max),
        "pair_rules_max_confidence": recommend_pair_rules(
            split.profile, customers=customers, k=k_max
        ),
        "item_knn_cosine": recommend_item_knn(
            split.profile, customers=customers, k=k_max
        ),
    }
    rows = [
        score_recommendations(frame, split=split, k=int(k), method=name)
        for name, frame in methods.items()
        for k in ks
    ]
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))

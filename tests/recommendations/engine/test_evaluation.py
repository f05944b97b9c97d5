"""Offline evaluation: protocol on a tiny frame, and the Online Retail target."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommendations.engine.evaluation import (
    evaluate_methods,
    online_retail_engine_inputs,
    recommend_pipeline,
    recommend_popularity,
    score_recommendations,
    split_transactions,
)
from recommendations.engine.online_retail import clean_online_retail, read_online_retail

ONLINE_RETAIL = (
    Path(__file__).resolve().parents[4] / "shared" / "data" / "online_retail.csv.gz"
)


def shared_data_or_skip() -> Path:
    """The Online Retail file; skip when absent, fail when CI=true."""
    if ONLINE_RETAIL.exists():
        return ONLINE_RETAIL
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{ONLINE_RETAIL} is missing and CI=true")
    pytest.skip(f"{ONLINE_RETAIL} is absent")


def raw(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=[
            "InvoiceNo",
            "StockCode",
            "Quantity",
            "InvoiceDate",
            "UnitPrice",
            "CustomerID",
        ],
    )
    frame["Description"] = ""
    frame["Country"] = "UK"
    frame["CustomerID"] = frame["CustomerID"].astype("Int64")
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    return frame


def test_cleaning_drops_cancellations_fees_and_anonymous_rows() -> None:
    frame = raw(
        [
            ("1", "A", 1, "2011-01-01", 1.0, 1),
            ("C2", "A", -1, "2011-01-01", 1.0, 1),
            ("3", "POST", 1, "2011-01-01", 1.0, 1),
            ("4", "gift_0001_10", 1, "2011-01-01", 1.0, 1),
            ("5", "DCGS0003", 1, "2011-01-01", 1.0, 1),
            ("6", "A", 1, "2011-01-01", 1.0, None),
            ("7", "A", 0, "2011-01-01", 1.0, 1),
            ("8", "A", 1, "2011-01-01", 0.0, 1),
            ("9", "B", 1, "2011-01-01", 1.0, 2),  # "B" is a fee code
        ]
    )
    cleaned = clean_online_retail(frame)
    assert cleaned["invoice"].tolist() == ["1"]
    assert cleaned["customer_id"].dtype == np.int64


def test_split_keeps_only_new_products_of_known_customers() -> None:
    frame = raw(
        [
            ("1", "P1", 1, "2011-01-01", 1.0, 1),
            ("1", "P2", 1, "2011-01-01", 1.0, 1),
            ("2", "P1", 1, "2011-01-02", 1.0, 2),
            ("3", "P1", 1, "2011-03-01", 1.0, 1),  # bought before: not a target
            ("4", "P3", 1, "2011-03-01", 1.0, 2),  # new product: target
            ("5", "P2", 1, "2011-03-01", 1.0, 3),  # unknown customer
        ]
    )
    split = split_transactions(
        clean_online_retail(frame), split_date=pd.Timestamp("2011-02-01")
    )
    assert split.customers.tolist() == [2]
    assert split.targets.values.tolist() == [[2, "P3"]]
    recommendations = recommend_popularity(
        split.profile, customers=split.customers, k=3
    )
    # Customer 2 owns P1; P2 is the only other training product.
    assert recommendations["product_id"].tolist() == ["P2"]
    metrics = score_recommendations(recommendations, split=split, k=3, method="pop")
    assert metrics["hit_rate"] == 0.0 and metrics["coverage"] == pytest.approx(0.5)


def test_split_rejects_an_empty_side() -> None:
    frame = raw([("1", "A", 1, "2011-01-01", 1.0, 1)])
    with pytest.raises(ValueError, match="empty"):
        split_transactions(
            clean_online_retail(frame), split_date=pd.Timestamp("2012-01-01")
        )


def test_engine_beats_every_baseline_on_online_retail() -> None:
    path = shared_data_or_skip()
    split = split_transactions(
        clean_online_retail(read_online_retail(path)),
        split_date=pd.Timestamp("2011-09-01"),
    )
    metrics = evaluate_methods(split, ks=(3,)).set_index("method")["hit_rate"]
    # "engine" is the full compute_suggestions pipeline (expected-value ranking).
    assert metrics.index.tolist() == [
        "engine",
        "popularity",
        "pair_rules_max_confidence",
        "item_knn_cosine",
    ]
    assert metrics["engine"] >= 0.28
    assert metrics["engine"] > metrics.drop("engine").max()
    assert metrics["popularity"] == pytest.approx(0.144, abs=0.005)
    assert metrics["item_knn_cosine"] == pytest.approx(0.259, abs=0.005)


def test_the_full_pipeline_runs_on_online_retail_shaped_data() -> None:
    rows = []
    for customer in range(1, 9):
        rows.append((f"{customer}", "P1", 1, "2011-01-05", 2.0, customer))
        rows.append((f"{customer}", "P2", 1, "2011-01-05", 3.0, customer))
        if customer % 2:
            rows.append((f"{customer}", "P3", 1, "2011-01-05", 4.0, customer))
        rows.append((f"{100 + customer}", "P4", 1, "2011-03-05", 4.0, customer))
    transactions = clean_online_retail(raw(rows))
    split = split_transactions(transactions, split_date=pd.Timestamp("2011-02-01"))
    inputs, items = online_retail_engine_inputs(
        transactions, split_date=split.split_date
    )
    assert items.tolist() == ["P1", "P2", "P3"]
    assert str(inputs.order_lines["placed_at"].dt.tz) == "UTC"
    recommendations = recommend_pipeline(transactions, split=split, k=2)
    # Even customers lack P3, which half of their look-alikes bought with P1+P2.
    even = recommendations[recommendations["customer_id"] % 2 == 0]
    assert set(even["product_id"]) == {"P3"}
    assert recommendations["customer_id"].isin([2, 4, 6, 8]).all()


def test_evaluate_methods_runs_the_pipeline_and_can_add_the_blended_scorer() -> None:
    rows = []
    for customer in range(1, 9):
        rows.append((f"{customer}", "P1", 1, "2011-01-05", 2.0, customer))
        rows.append((f"{customer}", "P2", 1, "2011-01-05", 3.0, customer))
        if customer % 2:
            rows.append((f"{customer}", "P3", 1, "2011-01-05", 4.0, customer))
        rows.append((f"{100 + customer}", "P3", 1, "2011-03-05", 4.0, customer))
    transactions = clean_online_retail(raw(rows))
    split = split_transactions(transactions, split_date=pd.Timestamp("2011-02-01"))
    metrics = evaluate_methods(split, ks=(1,), include_blended_scorer=True)
    assert metrics["method"].tolist()[:2] == ["engine", "blended_scorer"]
    # Every even customer bought P3 later, and P3 is what both suggest first.
    assert metrics.set_index("method").loc["engine", "hit_rate"] == 1.0
    assert metrics.set_index("method").loc["blended_scorer", "hit_rate"] == 1.0
    with pytest.raises(ValueError, match="training transactions"):
        evaluate_methods(replace(split, train=None), ks=(1,))

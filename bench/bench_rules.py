"""Rules on Online Retail invoices: this engine vs mlxtend fpgrowth + association_rules.

Run: .venv/bin/python bench/bench_rules.py
Input preparation is outside the timers on both sides (the CSR matrix for the
engine, the dense bool DataFrame for mlxtend). Wall time: best of several runs on
both sides (the box is shared, so the best run is the least disturbed one); the
engine's median is printed too. Peak memory: tracemalloc peak during
the mining call (numpy and scipy report their buffers to tracemalloc).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlxtend.frequent_patterns import association_rules, fpgrowth  # noqa: E402

from recommendations.engine.baskets import basket_matrix_from_items  # noqa: E402
from recommendations.engine.online_retail import (  # noqa: E402
    clean_online_retail,
    read_online_retail,
)
from recommendations.engine.rules import mine_rules  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.csv.gz"
METRICS = ["support", "confidence", "lift", "leverage", "conviction"]
CASES = [(0.01, 2), (0.01, None), (0.005, 2), (0.005, None)]
ENGINE_RUNS = 9
MLXTEND_RUNS = 3


def run_mlxtend(dense: pd.DataFrame, *, min_support: float, max_len: int | None):
    itemsets = fpgrowth(
        dense, min_support=min_support, use_colnames=True, max_len=max_len
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        rules = association_rules(
            itemsets, num_itemsets=len(dense), metric="confidence", min_threshold=0.0
        )
    return rules[rules["consequents"].map(len) == 1]


def peak_bytes(function) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> float:
    left = {
        (frozenset(a), c): v
        for a, c, v in zip(
            ours["antecedents"],
            ours["consequent"],
            ours[METRICS].to_numpy(),
            strict=True,
        )
    }
    right = {
        (frozenset(a), next(iter(c))): v
        for a, c, v in zip(
            theirs["antecedents"],
            theirs["consequents"],
            theirs[METRICS].to_numpy(),
            strict=True,
        )
    }
    assert set(left) == set(right), "rule sets differ"
    worst = 0.0
    for key, values in left.items():
        np.testing.assert_allclose(values, right[key], rtol=1e-9, atol=1e-9)
        other = right[key]
        finite = np.isfinite(values)
        assert (np.isinf(values) == np.isinf(other)).all()
        worst = max(
            worst, float(np.max(np.abs(values[finite] - other[finite]), initial=0))
        )
    return worst


def main() -> None:
    transactions = clean_online_retail(read_online_retail(DATA))
    baskets = basket_matrix_from_items(
        transactions, basket_column="invoice", item_column="item"
    )
    dense = pd.DataFrame(baskets.matrix.toarray(), columns=baskets.item_ids)
    print(
        f"Online Retail invoices: {baskets.n_baskets} baskets, "
        f"{len(baskets.item_ids)} products, {baskets.matrix.nnz} basket-product pairs"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    header = (
        f"{'min_sup':>7} {'max_len':>7} {'rules':>6} {'max|diff|':>9} "
        f"{'engine ms':>9} {'(median)':>8} {'mlxtend ms':>10} {'speed-up':>8} "
        f"{'engine MiB':>10} {'mlxtend MiB':>11} {'mem ratio':>9}"
    )
    print(header)
    for min_support, max_len in CASES:
        engine_times = []
        for _ in range(ENGINE_RUNS):
            start = time.perf_counter()
            ours = mine_rules(baskets, min_support=min_support, max_len=max_len)
            engine_times.append(time.perf_counter() - start)
        mlxtend_times = []
        for _ in range(MLXTEND_RUNS):
            start = time.perf_counter()
            theirs = run_mlxtend(dense, min_support=min_support, max_len=max_len)
            mlxtend_times.append(time.perf_counter() - start)
        worst = compare(ours, theirs)
        engine_peak = peak_bytes(
            lambda s=min_support, m=max_len: mine_rules(
                baskets, min_support=s, max_len=m
            )
        )
        mlxtend_peak = peak_bytes(
            lambda s=min_support, m=max_len: run_mlxtend(
                dense, min_support=s, max_len=m
            )
        )
        engine_time = min(engine_times)
        engine_median = statistics.median(engine_times)
        mlxtend_time = min(mlxtend_times)
        print(
            f"{min_support:>7} {str(max_len or 'all'):>7} {len(ours):>6} {worst:>9.1e} "
            f"{engine_time * 1000:>9.1f} {engine_median * 1000:>8.1f} "
            f"{mlxtend_time * 1000:>10.1f} "
            f"{mlxtend_time / engine_time:>7.1f}x "
            f"{engine_peak / 2**20:>10.1f} {mlxtend_peak / 2**20:>11.1f} "
            f"{mlxtend_peak / engine_peak:>8.1f}x"
        )
        target = 40 if max_len == 2 else 10
        verdict = "OK" if mlxtend_time / engine_time >= target else "BELOW TARGET"
        print(f"        identical rules: yes; speed-up target {target}x: {verdict}")


if __name__ == "__main__":
    main()

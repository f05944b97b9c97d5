"""Basket suggestions for a 5-item basket with 20,000 rules held in memory.

Run: .venv/bin/python bench/bench_basket.py
Rules are mined from Online Retail invoices when the shared file is present
(lowest support giving >= 20,000 rules, the top 20,000 by confidence kept);
otherwise a seeded synthetic rule set of 20,000 rules is used. Baskets are real
invoices with 5 products that match at least one rule.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recommendations.engine.basket import (  # noqa: E402
    build_rule_index,
    suggest_for_basket,
)
from recommendations.engine.baskets import basket_matrix_from_items  # noqa: E402
from recommendations.engine.online_retail import (  # noqa: E402
    clean_online_retail,
    read_online_retail,
)
from recommendations.engine.rules import mine_rules  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.csv.gz"
N_RULES = 20_000
LOOKUPS = 5_000


def real_rules_and_baskets() -> tuple[pd.DataFrame, list[list[str]]]:
    transactions = clean_online_retail(read_online_retail(DATA))
    baskets = basket_matrix_from_items(
        transactions, basket_column="invoice", item_column="item"
    )
    for min_support in (0.006, 0.005, 0.004, 0.003):
        rules = mine_rules(baskets, min_support=min_support)
        if len(rules) >= N_RULES:
            break
    rules = rules.head(N_RULES)
    matrix = baskets.matrix
    rng = np.random.default_rng(0)
    antecedent_items = {item for items in rules["antecedents"] for item in items}
    five_item = []
    for row in rng.permutation(matrix.shape[0]):
        items = baskets.item_ids[
            matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]
        ]
        matching = [item for item in items if item in antecedent_items]
        if len(matching) >= 5:
            five_item.append(list(rng.choice(matching, size=5, replace=False)))
        if len(five_item) == 500:
            break
    return rules, five_item


def synthetic_rules_and_baskets() -> tuple[pd.DataFrame, list[list[int]]]:
    rng = np.random.default_rng(0)
    antecedents = [
        tuple(sorted(rng.choice(3000, size=size, replace=False).tolist()))
        for size in rng.integers(1, 4, size=N_RULES)
    ]
    rules = pd.DataFrame(
        {
            "antecedents": pd.Series(antecedents, dtype=object),
            "consequent": rng.integers(0, 3000, size=N_RULES),
            "support": rng.random(N_RULES) * 0.05,
            "confidence": rng.random(N_RULES),
            "lift": rng.random(N_RULES) * 5,
        }
    )
    baskets = [list(rng.choice(300, size=5, replace=False)) for _ in range(500)]
    return rules, baskets


def main() -> None:
    if DATA.exists():
        rules, baskets = real_rules_and_baskets()
        origin = "Online Retail"
    else:
        rules, baskets = synthetic_rules_and_baskets()
        origin = "synthetic"
    start = time.perf_counter()
    index = build_rule_index(rules)
    build_ms = (time.perf_counter() - start) * 1000
    lengths = rules["antecedents"].map(len).value_counts().sort_index().to_dict()
    print(
        f"{len(rules)} rules ({origin}; antecedent lengths {lengths}); "
        f"index built in {build_ms:.0f} ms"
    )
    timings = []
    suggested = 0
    for lookup in range(LOOKUPS):
        basket = baskets[lookup % len(baskets)]
        start = time.perf_counter()
        found = suggest_for_basket(index, basket=basket, k=3)
        timings.append(time.perf_counter() - start)
        suggested += len(found)
    timings_us = np.array(timings) * 1e6
    median = statistics.median(timings_us)
    p95 = float(np.percentile(timings_us, 95))
    print(
        f"{LOOKUPS} lookups of 5-item baskets: median {median:.1f} us, "
        f"p95 {p95:.1f} us, "
        f"mean suggestions {suggested / LOOKUPS:.2f}"
    )
    print(
        f"target median < 1 ms: {'OK' if median < 1000 else 'MISSED'} "
        f"({1000 / median:.0f}x under)"
    )


if __name__ == "__main__":
    main()

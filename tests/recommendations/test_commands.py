"""The mine_rules and evaluate_recommendations commands (no database)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


BASKETS = """basket_id,item
1,milk
1,bread
1,bread
2,milk
2,bread
2,butter
3,milk
3,butter
4,bread
4,007
"""


def test_mine_rules_writes_sorted_rules(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", BASKETS)
    target = tmp_path / "out.csv"
    out = StringIO()
    call_command(
        "mine_rules",
        "--input",
        str(source),
        "--output",
        str(target),
        "--min-support",
        "0.5",
        stdout=out,
    )
    rules = pd.read_csv(target, dtype={"antecedents": str, "consequents": str})
    assert list(rules.columns) == [
        "antecedents",
        "consequents",
        "support",
        "confidence",
        "lift",
    ]
    # milk & bread in 2 of 4 baskets; milk in 3, bread in 3; butter & milk in 2.
    by_rule = rules.set_index(["antecedents", "consequents"])
    assert by_rule.loc[("milk", "bread"), "support"] == pytest.approx(0.5)
    assert by_rule.loc[("milk", "bread"), "confidence"] == pytest.approx(2 / 3)
    assert by_rule.loc[("milk", "bread"), "lift"] == pytest.approx((2 / 3) / 0.75)
    # butter (2 baskets) always comes with milk.
    assert by_rule.loc[("butter", "milk"), "confidence"] == pytest.approx(1.0)
    assert len(rules) == 4
    assert rules["confidence"].is_monotonic_decreasing
    assert "4 rules from 4 baskets" in out.getvalue()


def test_mine_rules_joins_multi_item_antecedents_and_keeps_leading_zeros(
    tmp_path: Path,
) -> None:
    source = write(
        tmp_path / "in.csv", "basket_id,item\n1,b\n1,a\n1,007\n2,b\n2,a\n2,007\n"
    )
    target = tmp_path / "out.csv"
    call_command(
        "mine_rules", "--input", str(source), "--output", str(target), "--max-len", "3"
    )
    rules = pd.read_csv(target, dtype=str)
    assert "007|a" in set(rules["antecedents"])
    assert "007" in set(rules["consequents"])
    pairs_only = tmp_path / "pairs.csv"
    call_command(
        "mine_rules",
        "--input",
        str(source),
        "--output",
        str(pairs_only),
        "--max-len",
        "2",
    )
    assert (
        not pd.read_csv(pairs_only, dtype=str)["antecedents"]
        .str.contains("|", regex=False)
        .any()
    )


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (None, [], "not found"),
        ("", [], "empty"),
        ("basket,item\n1,a\n", [], "basket_id"),
        (BASKETS, ["--min-support", "abc"], "not a number"),
        (BASKETS, ["--min-support", "0"], "min_support"),
        (BASKETS, ["--min-support", "1.5"], "min_support"),
        (BASKETS, ["--min-confidence", "-0.1"], "min_confidence"),
        (BASKETS, ["--min-lift", "-1"], "min_lift"),
        (BASKETS, ["--max-len", "0"], "max_len"),
        (BASKETS, ["--max-len", "two"], "max-len"),
        ("basket_id,item\n", [], "no (basket_id, item) rows"),
    ],
)
def test_mine_rules_reports_bad_input_clearly(
    tmp_path: Path, content: str | None, extra: list[str], message: str
) -> None:
    source = tmp_path / "in.csv"
    if content is not None:
        write(source, content)
    with pytest.raises(
        CommandError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        call_command(
            "mine_rules",
            "--input",
            str(source),
            "--output",
            str(tmp_path / "o.csv"),
            *extra,
        )


def test_mine_rules_exits_non_zero_without_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    manage = Path(__file__).resolve().parents[2] / "manage.py"
    completed = subprocess.run(
        [
            sys.executable,
            str(manage),
            "mine_rules",
            "--input",
            str(tmp_path / "nope.csv"),
            "--output",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode != 0
    assert "input file not found" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_evaluate_recommendations_rejects_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not found"):
        call_command(
            "evaluate_recommendations",
            "--input",
            str(tmp_path / "nope.csv.gz"),
            "--split-date",
            "2011-09-01",
        )


def test_evaluate_recommendations_rejects_a_bad_date(tmp_path: Path) -> None:
    source = write(tmp_path / "x.csv", "a\n1\n")
    with pytest.raises(CommandError, match="split-date"):
        call_command(
            "evaluate_recommendations",
            "--input",
            str(source),
            "--split-date",
            "someday",
        )


def test_evaluate_recommendations_rejects_missing_columns(tmp_path: Path) -> None:
    source = write(tmp_path / "x.csv", "a,b\n1,2\n")
    with pytest.raises(CommandError):
        call_command(
            "evaluate_recommendations",
            "--input",
            str(source),
            "--split-date",
            "2011-09-01",
        )


def synthetic_online_retail(path: Path) -> Path:
    """A small file in the Online Retail layout: 40 customers, two seasons."""
    rng = np.random.default_rng(1)
    rows = []
    invoice = 0
    for customer in range(1000, 1040):
        group = customer % 4
        for month in (3, 5, 7, 10, 11):
            invoice += 1
            for item in rng.choice(8, size=3, replace=False):
                code = f"{group}{item:04d}"
                rows.append(
                    (
                        f"{invoice}",
                        code,
                        "thing",
                        2,
                        f"2011-{month:02d}-10 10:00:00",
                        1.5,
                        customer,
                        "United Kingdom",
                    )
                )
    frame = pd.DataFrame(
        rows,
        columns=[
            "InvoiceNo",
            "StockCode",
            "Description",
            "Quantity",
            "InvoiceDate",
            "UnitPrice",
            "CustomerID",
            "Country",
        ],
    )
    frame.to_csv(path, index=False)
    return path


def test_evaluate_recommendations_prints_the_table(tmp_path: Path) -> None:
    source = synthetic_online_retail(tmp_path / "retail.csv")
    out = StringIO()
    call_command(
        "evaluate_recommendations",
        "--input",
        str(source),
        "--split-date",
        "2011-09-01",
        "--k",
        "3",
        "5",
        stdout=out,
    )
    text = out.getvalue()
    assert "customers evaluated" in text
    methods = [line.split()[0] for line in text.splitlines()[2:] if line.strip()]
    assert methods == [
        "engine",
        "engine",
        "popularity",
        "popularity",
        "pair_rules_max_confidence",
        "pair_rules_max_confidence",
        "item_knn_cosine",
        "item_knn_cosine",
    ]

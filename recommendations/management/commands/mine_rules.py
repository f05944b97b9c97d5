"""``manage.py mine_rules``: association rules from a long basket CSV (no database)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommendations.engine.baskets import basket_matrix_from_items
from recommendations.engine.rules import mine_rules

INPUT_COLUMNS = ("basket_id", "item")
OUTPUT_COLUMNS = ("antecedents", "consequents", "support", "confidence", "lift")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"not a number: {text!r}") from None
    return value


class Command(BaseCommand):
    help = (
        "Mine one-consequent association rules from a CSV with header "
        "'basket_id,item' and write 'antecedents,consequents,support,confidence,"
        "lift' (items joined by '|', sorted). Needs no database."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", required=True, help="CSV: basket_id,item")
        parser.add_argument("--output", required=True, help="CSV to write")
        parser.add_argument("--min-support", type=str, default="0.01")
        parser.add_argument("--min-confidence", type=str, default="0.0")
        parser.add_argument("--min-lift", type=str, default="0.0")
        parser.add_argument(
            "--max-len",
            type=str,
            default=None,
            help="largest itemset (antecedent + consequent); default no limit",
        )

    def handle(self, *args: object, **options: object) -> None:
        source = Path(str(options["input"]))
        target = Path(str(options["output"]))
        min_support = _fraction(str(options["min_support"]))
        min_confidence = _fraction(str(options["min_confidence"]))
        min_lift = _fraction(str(options["min_lift"]))
        max_len_text = options["max_len"]
        max_len: int | None = None
        if max_len_text is not None:
            try:
                max_len = int(str(max_len_text))
            except ValueError:
                raise CommandError(
                    f"--max-len must be a positive integer, got {max_len_text!r}"
                ) from None
        if not source.is_file():
            raise CommandError(f"input file not found: {source}")
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:
            raise CommandError(f"input file is empty: {source}") from None
        except (UnicodeDecodeError, pd.errors.ParserError) as error:
            raise CommandError(f"cannot read {source} as CSV: {error}") from None
        missing = [column for column in INPUT_COLUMNS if column not in frame.columns]
        if missing:
            raise CommandError(
                f"{source} lacks column(s) {missing}; header must be 'basket_id,item'"
            )
        frame = frame[frame["basket_id"].ne("") & frame["item"].ne("")]
        if frame.empty:
            raise CommandError(f"{source} holds no (basket_id, item) rows")
        try:
            baskets = basket_matrix_from_items(
                frame, basket_column="basket_id", item_column="item"
            )
            rules = mine_rules(
                baskets,
                min_support=min_support,
                min_confidence=min_confidence,
                min_lift=min_lift,
                max_len=max_len,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        output = pd.DataFrame(
            {
                "antecedents": [
                    "|".join(sorted(items)) for items in rules["antecedents"]
                ],
                "consequents": rules["consequent"].astype(str).to_numpy(),
                "support": rules["support"].to_numpy(),
                "confidence": rules["confidence"].to_numpy(),
                "lift": rules["lift"].to_numpy(),
            },
            columns=list(OUTPUT_COLUMNS),
        )
        try:
            output.to_csv(target, index=False)
        except OSError as error:
            raise CommandError(f"cannot write {target}: {error}") from None
        self.stdout.write(
            f"{len(rules)} rules from {baskets.n_baskets} baskets and "
            f"{len(baskets.item_ids)} items written to {target}"
        )

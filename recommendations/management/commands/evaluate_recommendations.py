"""``manage.py evaluate_recommendations``: offline evaluation on Online Retail."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommendations.engine.evaluation import evaluate_methods, split_transactions
from recommendations.engine.online_retail import (
    clean_online_retail,
    read_online_retail,
)


class Command(BaseCommand):
    help = (
        "Train before --split-date on the Online Retail CSV, then report hit-rate@k, "
        "precision@k and coverage for the engine (the full suggestion pipeline: "
        "candidates, filters, expected-value ranking) and three baselines. "
        "No database."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", required=True, help="online_retail.csv[.gz]")
        parser.add_argument("--split-date", required=True, help="YYYY-MM-DD")
        parser.add_argument("--k", nargs="+", default=["3", "10"], help="cut-offs")

    def handle(self, *args: object, **options: object) -> None:
        source = Path(str(options["input"]))
        if not source.is_file():
            raise CommandError(f"input file not found: {source}")
        try:
            split_date = pd.Timestamp(str(options["split_date"]))
        except ValueError:
            raise CommandError(
                f"--split-date must be a date, got {options['split_date']!r}"
            ) from None
        try:
            ks = [int(k) for k in options["k"]]
        except ValueError:
            raise CommandError(f"--k must be integers, got {options['k']!r}") from None
        if any(k < 1 for k in ks):
            raise CommandError(f"--k must be positive, got {ks}")
        try:
            raw = read_online_retail(source)
            split = split_transactions(clean_online_retail(raw), split_date=split_date)
            metrics = evaluate_methods(split, ks=ks)
        except pd.errors.EmptyDataError:
            raise CommandError(f"input file is empty: {source}") from None
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{len(split.customers)} customers evaluated, "
            f"{len(split.profile.product_ids)} products in training"
        )
        self.stdout.write(format_metrics(metrics))


def format_metrics(metrics: pd.DataFrame) -> str:
    """The metrics frame as a fixed-width text table."""
    return metrics.to_string(
        index=False,
        formatters={
            "hit_rate": "{:.3f}".format,
            "precision": "{:.3f}".format,
            "coverage": "{:.3f}".format,
        },
    )

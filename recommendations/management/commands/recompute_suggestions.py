"""``manage.py recompute_suggestions [--customer ID]``: the nightly run, by hand.

Runs in this process with a progress bar (one tick per customer shard); with
``--customer`` recomputes that customer's offers only. Exit status 1 when a
run is already active or the run fails (the previous suggestions stay).
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from recommendations.models import RecommendationRun
from recommendations.services import (
    RunAlreadyActive,
    recompute_customer_suggestions,
    run_all,
)


def _bar(done: int, total: int, *, width: int = 30) -> str:
    filled = round(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} shards"


class Command(BaseCommand):
    help = "Recompute suggestions for every customer (or one, with --customer)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--customer", type=int, help="Only this customer id.")
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar."
        )

    def handle(self, *args, **options) -> None:
        if options["customer"] is not None:
            started = time.perf_counter()
            count = recompute_customer_suggestions(customer_id=options["customer"])
            self.stdout.write(
                self.style.SUCCESS(
                    f"{count} suggestion(s) for customer {options['customer']} "
                    f"in {1000 * (time.perf_counter() - started):.0f} ms."
                )
            )
            return
        show = not options["no_progress"]
        interactive = show and sys.stdout.isatty()

        def progress(done: int, total: int) -> None:
            if not show:
                return
            end = "\r" if interactive and done < total else "\n"
            self.stdout.write(_bar(done, total), ending=end)
            self.stdout.flush()

        try:
            run = run_all(trigger=RecommendationRun.Trigger.MANUAL, progress=progress)
        except RunAlreadyActive as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:
            raise CommandError(f"the run failed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Run {run.pk}: {run.suggestions_count:,} suggestions for "
                f"{run.customers_count:,} customers, {run.rules_count:,} rules, "
                f"{run.duration or 0:.1f} s."
            )
        )

"""Demo suggestions: ``manage.py demo`` computes them after the ladders.

So the demo customers have offers with reasons from the first page load.
"""

from __future__ import annotations

from typing import TextIO

from recommendations.models import RecommendationRun
from recommendations.services import RunAlreadyActive, run_all


def build_demo_suggestions(*, stdout: TextIO | None = None) -> None:
    """Run the engine once for every customer (in this process)."""
    try:
        run = run_all(trigger=RecommendationRun.Trigger.DEMO)
    except RunAlreadyActive:
        if stdout is not None:
            stdout.write("Suggestions: a run is already active; skipped.\n")
        return
    if stdout is not None:
        stdout.write(
            f"Suggestions: {run.suggestions_count:,} for {run.customers_count:,} "
            f"customers from {run.rules_count:,} rules in {run.duration or 0:.1f} s.\n"
        )

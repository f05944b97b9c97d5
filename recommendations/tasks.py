"""Celery entry points: thin, ids only, safe to run twice.

The nightly run is ``run_suggestions_task`` (beat): it starts a run, mines
its rules, then fans the customer shards out as a group, so more workers
finish sooner. Each shard marks itself done; the last one makes the run
current. Every task is idempotent (see ``recommendations.services``), so
``acks_late`` with ``reject_on_worker_lost`` (settings) may redeliver a task
whose worker was killed.
"""

from __future__ import annotations

import logging

from celery import group, shared_task
from django.db import OperationalError

logger = logging.getLogger(__name__)

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "ignore_result": True,
}


@shared_task(name="recommendations.run_suggestions", **RETRY)
def run_suggestions_task(trigger: str = "schedule") -> None:
    """Start a full run and fan its shards out; no-op while a run is active."""
    from recommendations.services import RunAlreadyActive, start_run

    try:
        run = start_run(trigger=trigger)
    except RunAlreadyActive:
        logger.info("a recommendation run is already active; skipped")
        return
    prepare_run_task.delay(run.pk)


@shared_task(name="recommendations.prepare_run", **RETRY)
def prepare_run_task(run_id: int) -> None:
    """Mine a run's rules and create its shards, then start them as a group."""
    from recommendations.services import prepare_run

    indexes = prepare_run(run_id=run_id)
    if indexes:
        group(compute_shard_task.s(run_id, index) for index in indexes).apply_async()


@shared_task(name="recommendations.compute_shard", **RETRY)
def compute_shard_task(run_id: int, index: int) -> None:
    """Compute one shard of a run; the last shard makes the run current."""
    from recommendations.services import compute_shard

    compute_shard(run_id=run_id, index=index)


@shared_task(name="recommendations.recompute_customer", **RETRY)
def recompute_customer_suggestions_task(customer_id: int) -> None:
    """Recompute one customer's offers (after an order); idempotent."""
    from recommendations.services import recompute_customer_suggestions

    recompute_customer_suggestions(customer_id=customer_id)


@shared_task(name="recommendations.mark_converted", **RETRY)
def mark_converted_task(order_id: int) -> None:
    """Attribute an order to the suggestions it converted; idempotent."""
    from recommendations.services import mark_converted

    mark_converted(order_id=order_id)


@shared_task(name="recommendations.sweep_runs", **RETRY)
def sweep_runs_task() -> None:
    """Re-publish shards and prepares of active runs whose worker died (CEL-04)."""
    from recommendations.services import sweep_stale_runs

    sweep_stale_runs()

"""Celery entry points: thin, ids only, safe to repeat (positions are upserts)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="ladder.recompute_customer_positions",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def recompute_customer_positions_task(customer_id: int) -> None:
    """Recompute one customer's ladder positions; idempotent."""
    from ladder.services import recompute_customer_positions

    recompute_customer_positions(customer_id=customer_id)


@shared_task(
    name="ladder.recompute_all_positions",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def recompute_all_positions_task() -> None:
    """Recompute every customer's ladder positions (scheduled nightly); idempotent."""
    from ladder.services import recompute_all_positions

    recompute_all_positions()

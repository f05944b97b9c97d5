"""Celery entry points of the campaigns app: thin, ids only, safe to repeat."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="campaigns.refresh_results",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def refresh_results_task(campaign_id: int | None = None) -> None:
    """Recompute one campaign's cached results, or (hourly, no id) every
    campaign whose attribution window is open or recently closed; idempotent."""
    from campaigns.services import campaigns_to_refresh, refresh_campaign_results

    ids = [campaign_id] if campaign_id is not None else campaigns_to_refresh()
    for pk in ids:
        refresh_campaign_results(campaign_id=pk)


# --- Sending (campaigns.sending) ------------------------------------------------
# Routed to the "send" queue by CELERY_TASK_ROUTES ("campaigns.send_*"). Retry
# delays stay far below the broker's visibility timeout (CEL-02).


@shared_task(
    name="campaigns.send_batch",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
    soft_time_limit=900,
    time_limit=960,
    ignore_result=True,
)
def send_batch_task(campaign_id: int, send_ids: list[int]) -> None:
    """Claim and deliver one batch of sends; safe to repeat or run twice at once.

    Sends that failed transiently are back to pending: raising makes Celery
    retry the batch with backoff and jitter (their attempt count decides
    when they fail for good); rows already settled are not touched again.
    """
    from campaigns.backends import TransientSendError
    from campaigns.sending.services import process_batch

    waiting = process_batch(campaign_id=campaign_id, send_ids=send_ids)
    if waiting and send_batch_task.request.is_eager:
        # No broker (the embedded default): retry inline, each row's attempt
        # counter still caps it. Celery's eager retry would raise instead.
        from django.conf import settings

        for _ in range(settings.CAMPAIGNS_SEND_MAX_RETRIES):
            if not process_batch(campaign_id=campaign_id, send_ids=send_ids):
                break
        return
    if waiting:
        raise send_batch_task.retry(
            exc=TransientSendError(f"{waiting} sends wait for a retry"),
            countdown=_backoff(send_batch_task.request.retries),
        )


def _backoff(retries: int) -> int:
    """Exponential backoff with full jitter, capped at 5 minutes (CEL-07)."""
    import random

    return random.randint(0, min(300, 2 ** (retries + 1)))


@shared_task(
    name="campaigns.send_sweep",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=240,
    time_limit=300,
    ignore_result=True,
)
def send_sweep_task() -> None:
    """Beat: publish lost or deferred sends, report stuck ones as unknown."""
    from campaigns.sending.services import sweep_sends

    sweep_sends()

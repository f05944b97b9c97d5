"""Signal receivers: enqueue work, nothing more (crm.signals says why)."""

from __future__ import annotations


def enqueue_customer_recompute(
    sender, *, customer_id: int | None = None, **kwargs
) -> None:
    """On ``crm.signals.order_committed``: recompute that customer's positions.

    The signal is sent after the order's transaction commits, so the worker
    reads committed rows; anonymous till orders (no customer) are skipped.
    """
    if customer_id is None:
        return
    from ladder.tasks import recompute_customer_positions_task

    recompute_customer_positions_task.delay(customer_id)

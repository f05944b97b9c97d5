"""Signal receivers: enqueue work, nothing more (crm.signals says why)."""

from __future__ import annotations


def enqueue_order_followups(
    sender, *, order_id: int, customer_id: int | None = None, **kwargs
) -> None:
    """On ``crm.signals.order_committed``: attribute the order, recompute offers.

    The signal is sent from ``transaction.on_commit``, so the worker reads
    committed rows (CEL-03). Anonymous orders are skipped.
    """
    if customer_id is None:
        return
    from recommendations.tasks import (
        mark_converted_task,
        recompute_customer_suggestions_task,
    )

    # Conversion first: the recompute then no longer offers what was bought.
    mark_converted_task.delay(order_id)
    recompute_customer_suggestions_task.delay(customer_id)

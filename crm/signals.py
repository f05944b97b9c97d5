"""Extension points for apps above crm (crm imports none of them).

Sent explicitly by crm services after the transaction commits, so receivers
(ladder positions, suggestion recomputes) can enqueue work that reads
committed rows. Receivers must be cheap: enqueue a task, nothing more.
"""

from django.dispatch import Signal

# Sent with customer_id (int | None) and order_id (int).
order_committed = Signal()

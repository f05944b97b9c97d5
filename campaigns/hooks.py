"""What campaigns adds to crm's customer page (crm.hooks, declared in apps.py).

crm may not import this app, so the function is named on CampaignsConfig and
called by crm's timeline, which UNIONs it with orders, returns and contacts.
"""

from __future__ import annotations

from django.db.models import Case, CharField, F, Value, When
from django.utils.translation import gettext

from campaigns.models import Send
from crm.models import Channel
from crm.selectors import customers_visible_to

# After orders (0), returns (1) and contacts (2) when they share a timestamp.
RANK = 3


def customer_timeline(user, customer_id: int, cursor) -> list:
    """The campaign messages really sent to the customer, newest first.

    Only ``sent`` rows with a ``sent_at``: a pending, skipped or failed send
    never reached the customer, so the salesperson must not read it as a
    contact. Scoped by ``customers_visible_to`` like the rest of the page.
    """
    sends = Send.objects.filter(
        customer_id=customer_id,
        customer__in=customers_visible_to(user).values("pk"),
        status=Send.Status.SENT,
        sent_at__isnull=False,
    )
    if cursor is not None:
        sends = sends.filter(cursor.q("sent_at", RANK))
    text = CharField()
    columns = {
        "at": F("sent_at"),
        "source": "message",
        "rank": Value(RANK),
        "row_id": F("pk"),
        "title": F("campaign__name"),
        "channel": F("channel"),
        # The generic timeline row prints ``status`` as its bold label.
        "status": Value(gettext("Campaign message"), output_field=text),
        # The channel's label in the reader's language, as the page shows it.
        "detail": Case(
            *(
                When(channel=value, then=Value(str(label)))
                for value, label in Channel.choices
            ),
            default=F("channel"),
            output_field=text,
        ),
    }
    return [(sends.order_by("-sent_at", "-pk"), columns)]


def customer_erased(customer_id: int) -> None:
    """Erasure: call notes and provider errors (which may quote the address) go."""
    Send.objects.filter(customer_id=customer_id).update(call_notes="", last_error="")

"""Opt-outs: withdraw consent on a channel and suppress the contact (PRIV-02/03).

Every path (e-mail link, one-click POST, inbound SMS STOP) ends here, so the
evidence is the same: a ConsentEvent and a suppression row that outlives the
customer record, both written by crm's ``set_consent``.
"""

from __future__ import annotations

from django.db import transaction

from crm.models import Channel, Customer, Suppression
from crm.services.customers import set_consent
from crm.validators import normalize_phone

UNSUBSCRIBE_SOURCE = "unsubscribe-link"
SMS_STOP_SOURCE = "sms-stop"
STOP_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRESTO", "BASTA"}
)


@transaction.atomic
def withdraw_channel_consent(
    *, customer_id: int, channel: str, source: str, send_id: int | None = None
) -> bool:
    """Withdraw ``customer_id``'s consent on ``channel``; False if no customer.

    Idempotent: a second call writes no new consent event, only refreshes the
    suppression row (``set_consent`` does both). ``send_id`` (the message the opt-out came from) is
    appended to the evidence's source, e.g. ``unsubscribe-link:42``.
    """
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return False
    set_consent(
        customer=customer,
        channel=channel,
        granted=False,
        source=source if send_id is None else f"{source}:{send_id}"[:64],
    )
    return True


def is_stop_message(text: str) -> bool:
    """Whether an inbound SMS asks to stop (first word, any case)."""
    words = (text or "").strip().split()
    return bool(words) and words[0].strip(".!").upper() in STOP_KEYWORDS


@transaction.atomic
def handle_sms_stop(*, phone: str) -> int:
    """Withdraw SMS consent of every customer with this phone; suppress it.

    Returns how many customers were found. The number is suppressed even
    when nobody has it yet, so a later import of it is not marketable.
    """
    e164 = normalize_phone(phone)
    customers = list(Customer.objects.filter(phone=e164).only("pk"))
    for customer in customers:
        withdraw_channel_consent(
            customer_id=customer.pk, channel=Channel.SMS, source=SMS_STOP_SOURCE
        )
    Suppression.objects.record(
        channel=Channel.SMS, contact=e164, reason=Suppression.Reason.OPT_OUT
    )
    return len(customers)

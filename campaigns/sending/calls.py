"""The call list: Send rows of phone campaigns, worked through by sales staff."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, Send
from crm.models import Channel, Interaction
from crm.selectors import customers_visible_to
from crm.services.orders import record_interaction

INTERACTION_OUTCOME = {
    Send.CallOutcome.REACHED: Interaction.Outcome.REACHED,
    Send.CallOutcome.NO_ANSWER: Interaction.Outcome.NO_ANSWER,
    Send.CallOutcome.DECLINED: Interaction.Outcome.NOT_INTERESTED,
    Send.CallOutcome.ACCEPTED: Interaction.Outcome.INTERESTED,
    Send.CallOutcome.WRONG_NUMBER: Interaction.Outcome.NONE,
}


def list_call_tasks(
    *, user, campaign_id: int | None = None, open_only: bool = True
) -> QuerySet[Send]:
    """Call-list entries the user may work on, oldest first.

    An entry is a phone campaign's Send that passed consent and the cap
    (status ``sent``); it is open until someone records an outcome.
    """
    sends = Send.objects.filter(
        channel=Channel.PHONE,
        status=Send.Status.SENT,
        customer__in=customers_visible_to(user),
    ).exclude(campaign__status=Campaign.Status.CANCELLED)
    if campaign_id is not None:
        sends = sends.filter(campaign_id=campaign_id)
    if open_only:
        sends = sends.filter(call_outcome="")
    return sends.select_related("customer", "campaign", "variant").order_by(
        "sent_at", "pk"
    )


@transaction.atomic
def record_call_outcome(*, send_id: int, outcome: str, user, notes: str = "") -> Send:
    """Close one call-list entry with its outcome and log the call.

    Refused when the entry is already closed (two people calling the same
    customer record only one outcome) or the outcome is unknown.
    """
    if not user.has_perm("campaigns.change_send"):
        raise PermissionDenied
    if outcome not in Send.CallOutcome.values:
        raise ValidationError({"outcome": _("Choose one of the call outcomes.")})
    send = (
        list_call_tasks(user=user, open_only=False)
        .select_for_update(of=("self",))
        .filter(pk=send_id)
        .first()
    )
    if send is None:
        raise ValidationError(_("This call is not on your list."))
    if send.call_outcome:
        raise ValidationError(_("An outcome was already recorded for this call."))
    send.call_outcome = outcome
    send.call_notes = notes
    send.call_done_by = user
    send.call_done_at = timezone.now()
    send.save(
        update_fields=["call_outcome", "call_notes", "call_done_by", "call_done_at"]
    )
    record_interaction(
        customer=send.customer,
        kind=Interaction.Kind.CALL,
        channel=Channel.PHONE,
        staff=user,
        outcome=INTERACTION_OUTCOME[outcome],
        notes=notes,
        occurred_at=send.call_done_at,
        data={"campaign_id": send.campaign_id, "send_id": send.pk},
    )
    return send

"""One message (or call-list entry, or prompt) per campaign, customer and channel.

The Send row is the outbox (CEL-04): it is written at launch, before anything
is queued, and its status is the truth about what happened to the message.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import Channel


class Send(models.Model):
    """The delivery of one campaign to one customer on one channel.

    Status flow: pending → claimed → sending → sent | failed, or skipped (with
    a reason), deferred (quiet hours; picked up again later), unknown (the
    worker died after handing the message to the provider: never resent, MKT-01).
    The unique constraint makes a retried or duplicated task unable to create
    a second message for the same person (MKT-01).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CLAIMED = "claimed", _("Claimed")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        DEFERRED = "deferred", _("Deferred (quiet hours)")
        UNKNOWN = "unknown", _("Unknown (worker lost)")

    class SkipReason(models.TextChoices):
        NO_CONSENT = "no_consent", _("No consent on this channel")
        OPTED_OUT = "opted_out", _("Opted out")
        SUPPRESSED = "suppressed", _("On the suppression list")
        FREQUENCY_CAP = "frequency_cap", _("Frequency cap reached")
        QUIET_HOURS = "quiet_hours", _("Quiet hours")
        NO_ADDRESS = "no_address", _("No address for this channel")
        BOUNCED = "bounced", _("Address bounced")
        CANCELLED = "cancelled", _("Campaign cancelled")

    class CallOutcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        DECLINED = "declined", _("Declined")
        ACCEPTED = "accepted", _("Accepted the offer")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    # Statuses from which nothing more happens to the row.
    TERMINAL = (
        Status.SENT,
        Status.FAILED,
        Status.SKIPPED,
        Status.UNKNOWN,
    )

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="sends"
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.CASCADE, related_name="campaign_sends"
    )
    variant = models.ForeignKey(
        "campaigns.Variant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sends",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    skip_reason = models.CharField(
        _("reason"), max_length=16, choices=SkipReason.choices, blank=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    provider_message_id = models.CharField(
        _("provider message id"), max_length=200, blank=True
    )
    queued_at = models.DateTimeField(_("queued at"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Call list (channel "phone"): the salesperson's outcome.
    call_outcome = models.CharField(
        _("call outcome"), max_length=16, choices=CallOutcome.choices, blank=True
    )
    call_notes = models.TextField(_("call notes"), blank=True)
    call_done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    call_done_at = models.DateTimeField(_("called at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("send")
        verbose_name_plural = _("sends")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "channel"],
                name="campaign_send_once",
            )
        ]
        indexes = [
            models.Index(fields=["status", "queued_at"], name="send_status_idx"),
            models.Index(
                fields=["customer", "channel", "claimed_at"], name="send_cap_idx"
            ),
            models.Index(fields=["campaign", "status"], name="send_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"send {self.pk} {self.channel} {self.status}"

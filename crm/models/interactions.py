"""Everything said or done with a customer: calls, messages, visits, offers."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .customers import Channel


class Interaction(models.Model):
    """One touch point with a customer, logged by staff or by the system."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        VISIT = "visit", _("Visit")
        WEB_VIEW = "web_view", _("Web view")
        CART_ABANDONED = "cart_abandoned", _("Cart abandoned")
        NOTE = "note", _("Note")
        OFFER_SHOWN = "offer_shown", _("Offer shown")
        OFFER_ACCEPTED = "offer_accepted", _("Offer accepted")
        OFFER_DECLINED = "offer_declined", _("Offer declined")
        LADDER_MOVE = "ladder_move", _("Ladder move")

    class Outcome(models.TextChoices):
        NONE = "", _("—")
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        INTERESTED = "interested", _("Interested")
        NOT_INTERESTED = "not_interested", _("Not interested")
        FOLLOW_UP = "follow_up", _("Follow up")

    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.CASCADE, related_name="interactions"
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, blank=True
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    product = models.ForeignKey(
        "crm.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        verbose_name=_("product"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        verbose_name=_("staff"),
    )
    store = models.ForeignKey(
        "crm.Store",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        verbose_name=_("store"),
    )
    occurred_at = models.DateTimeField(_("when"))
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True, max_length=4000)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(
                fields=["customer", "-occurred_at"], name="interaction_customer_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id} {self.occurred_at:%Y-%m-%d}"

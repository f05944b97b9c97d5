"""Suppression list: contacts that opted out, kept as keyed hashes (PRIV-03).

Deleting or erasing a customer must not forget that they said no: a later
import of the same e-mail or phone would otherwise make them marketable
again. The list holds only HMAC-SHA256 digests of the normalised contact, so
it carries no readable personal data and survives erasure.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .customers import Channel


def contact_for_channel(*, email: str, phone: str, channel: str) -> str:
    """The contact a channel reaches: the e-mail for e-mail, else the phone."""
    return (email if channel == Channel.EMAIL else phone) or ""


def contact_digest(value: str) -> str:
    """HMAC-SHA256 (hex) of a normalised e-mail or E.164 phone; '' for blank.

    Callers pass values already normalised by crm.validators (lower-cased
    e-mail, E.164 phone); stripping and lower-casing here only guards against
    a caller that forgot, and is harmless for E.164.
    """
    value = (value or "").strip().lower()
    if not value:
        return ""
    key = settings.SUPPRESSION_HMAC_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class SuppressionManager(models.Manager["Suppression"]):
    def record(self, *, channel: str, contact: str, reason: str) -> Suppression | None:
        """Suppress ``contact`` on ``channel``; idempotent, newest reason wins.

        Re-suppressing refreshes ``created_at`` so a consent given before the
        latest opt-out cannot lift it.
        """
        digest = contact_digest(contact)
        if not digest:
            return None
        suppression, _created = self.update_or_create(
            channel=channel,
            digest=digest,
            defaults={"reason": reason, "created_at": timezone.now()},
        )
        return suppression

    def is_suppressed(
        self, *, channel: str, contact: str, since: object | None = None
    ) -> bool:
        """Whether ``contact`` is suppressed on ``channel`` (after ``since``).

        ``since`` is the time of the newest consent evidence: a suppression
        older than that has been lifted by the person's new consent.
        """
        digest = contact_digest(contact)
        if not digest:
            return False
        rows = self.filter(channel=channel, digest=digest)
        if since is not None:
            rows = rows.filter(created_at__gt=since)
        return rows.exists()


class Suppression(models.Model):
    """One suppressed contact on one channel, identified only by its digest."""

    class Reason(models.TextChoices):
        OPT_OUT = "opt_out", _("Opted out")
        ERASURE = "erasure", _("Erased")
        BOUNCED = "bounced", _("Hard bounce")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    digest = models.CharField(_("contact digest"), max_length=64)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    created_at = models.DateTimeField(_("suppressed at"), default=timezone.now)

    objects = SuppressionManager()

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "digest"], name="suppression_one_per_contact"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.digest[:12]}… {self.reason}"

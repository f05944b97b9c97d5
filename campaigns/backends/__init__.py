"""Pluggable SMS gateways, chosen by ``settings.CAMPAIGNS_SMS_BACKEND``.

A backend sends one message and returns the provider's message id. It raises
``TransientSendError`` when trying again later may work (timeouts, refused
connections, 429 and 5xx answers) and ``PermanentSendError`` when it cannot
(an invalid number, a 4xx refusal): the send task retries only the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


class SendError(Exception):
    """A message could not be handed to the provider."""


class TransientSendError(SendError):
    """Temporary failure: the same message may be tried again."""


class PermanentSendError(SendError):
    """The provider refused the message for good: do not retry."""


@dataclass(frozen=True)
class SmsMessage:
    """One outgoing SMS; ``send_id`` doubles as the idempotency key (MKT-01)."""

    send_id: int
    to: str
    body: str
    sender: str = ""


class BaseSmsBackend:
    """Interface of an SMS gateway backend."""

    def send(self, message: SmsMessage) -> str:  # pragma: no cover - interface
        """Deliver ``message``; return the provider's message id."""
        raise NotImplementedError


def get_sms_backend(path: str | None = None) -> BaseSmsBackend:
    """An instance of the configured (or the given) backend class."""
    return import_string(path or settings.CAMPAIGNS_SMS_BACKEND)()

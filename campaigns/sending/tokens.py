"""Signed unsubscribe tokens: who, which channel, from which message.

Signed with Django's signing (HMAC of SECRET_KEY) and a salt per purpose,
so a token minted for one purpose is worthless for another. No expiry: an
unsubscribe link in an old e-mail must keep working (GDPR Art. 21(3)).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

UNSUBSCRIBE_SALT = "campaigns.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeToken:
    customer_id: int
    channel: str
    send_id: int | None


def make_unsubscribe_token(
    *, customer_id: int, channel: str, send_id: int | None
) -> str:
    """A URL-safe signed token carrying the customer, channel and send ids."""
    return signing.dumps(
        {"c": customer_id, "ch": channel, "s": send_id}, salt=UNSUBSCRIBE_SALT
    )


def read_unsubscribe_token(token: str) -> UnsubscribeToken | None:
    """The token's content, or None when it is forged, altered or malformed."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return UnsubscribeToken(
            customer_id=int(data["c"]),
            channel=str(data["ch"]),
            send_id=None if data.get("s") is None else int(data["s"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def unsubscribe_url(token: str) -> str:
    """Absolute URL of the unsubscribe page (and one-click POST target)."""
    path = reverse("campaigns_public:unsubscribe", kwargs={"token": token})
    return f"{settings.CAMPAIGNS_PUBLIC_BASE_URL}{path}"


def one_click_url(token: str) -> str:
    """Absolute URL of the RFC 8058 one-click POST target (List-Unsubscribe)."""
    path = reverse("campaigns_public:unsubscribe_one_click", kwargs={"token": token})
    return f"{settings.CAMPAIGNS_PUBLIC_BASE_URL}{path}"

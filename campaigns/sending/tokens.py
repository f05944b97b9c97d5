"""Signed unsubscribe tokens: who, which channel, from which message.

Signed with Django's signing (HMAC of SECRET_KEY) and a salt per purpose,
so a token minted for one purpose is worthless for another. No expiry: an
unsubscribe link in an old e-mail must keep working (GDPR Art. 21(3)).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS

UNSUBSCRIBE_SALT = "campaigns.unsubscribe"
# What reverse() leaves unquoted in a path (django.urls.resolvers).
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"


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


class UnsubscribeLinks:
    """Tokens and both unsubscribe URLs for many messages, built cheaply.

    One signer and one ``reverse()`` per URL name serve a whole batch: a
    token's URL is the reversed path with the token put where a placeholder
    was, which is the string ``reverse()`` itself returns for it (the token
    quoted the same way). Make one per batch: the settings, secret key and
    script prefix are read when it is made.
    """

    _PLACEHOLDER = "ladder-unsubscribe-token"

    def __init__(self) -> None:
        self._signer = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT)
        self._page = self._split("campaigns_public:unsubscribe")
        self._one_click = self._split("campaigns_public:unsubscribe_one_click")

    def _split(self, name: str) -> tuple[str, str]:
        path = reverse(name, kwargs={"token": self._PLACEHOLDER})
        before, _placeholder, after = path.rpartition(self._PLACEHOLDER)
        return f"{settings.CAMPAIGNS_PUBLIC_BASE_URL}{before}", after

    def token(self, *, customer_id: int, channel: str, send_id: int | None) -> str:
        """The same token as ``make_unsubscribe_token``."""
        return self._signer.sign_object({"c": customer_id, "ch": channel, "s": send_id})

    def page_url(self, token: str) -> str:
        """The same URL as ``unsubscribe_url(token)``."""
        return self._page[0] + quote(token, safe=_URL_SAFE) + self._page[1]

    def one_click_url(self, token: str) -> str:
        """The same URL as ``one_click_url(token)``."""
        return self._one_click[0] + quote(token, safe=_URL_SAFE) + self._one_click[1]

"""An HTTP SMS gateway backend: JSON POST with an idempotency key.

The request is ``POST <CAMPAIGNS_SMS_GATEWAY_URL>`` with a JSON body
``{"to", "from", "text", "reference"}``, ``Authorization: Bearer <token>`` and
``Idempotency-Key: send-<id>``, so a resend after an unknown outcome cannot
bill or deliver twice at a gateway that honours the key. The answer is JSON
with an ``id``. Every call has a connect and a read timeout (CEL-08).

Built on the standard library's ``http.client`` (no extra dependency): the
socket gets the connect timeout for the handshake and the read timeout after.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from django.conf import settings

from . import BaseSmsBackend, PermanentSendError, SmsMessage, TransientSendError


class HttpSmsBackend(BaseSmsBackend):
    """Posts each message to a gateway over HTTP(S)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> None:
        self.url = url or settings.CAMPAIGNS_SMS_GATEWAY_URL
        self.token = settings.CAMPAIGNS_SMS_GATEWAY_TOKEN if token is None else token
        self.connect_timeout, self.read_timeout = tuple(
            timeout or settings.CAMPAIGNS_SMS_TIMEOUT
        )
        if not self.url:
            raise PermanentSendError("LADDER_SMS_GATEWAY_URL is not set")

    def _connection(self) -> tuple[http.client.HTTPConnection, str]:
        parts = urlsplit(self.url)
        cls = (
            http.client.HTTPSConnection
            if parts.scheme == "https"
            else http.client.HTTPConnection
        )
        connection = cls(parts.hostname, parts.port, timeout=self.connect_timeout)
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        return connection, path

    def send(self, message: SmsMessage) -> str:
        body = json.dumps(
            {
                "to": message.to,
                "from": message.sender,
                "text": message.body,
                "reference": str(message.send_id),
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": f"send-{message.send_id}",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        connection, path = self._connection()
        try:
            connection.connect()
            connection.sock.settimeout(self.read_timeout)
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            status, text = response.status, response.read(64 * 1024)
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise TransientSendError(f"gateway unreachable: {exc!r}") from exc
        finally:
            connection.close()
        if status == 429 or status >= 500:
            raise TransientSendError(f"gateway answered {status}")
        if status >= 400:
            raise PermanentSendError(
                f"gateway refused the message: {status} {text[:200]!r}"
            )
        try:
            return str(json.loads(text)["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientSendError("gateway answer without a message id") from exc

"""Building campaign e-mails and SMS texts (MKT-05, PRIV-02).

Every e-mail has a plain-text part (and an HTML twin), the configured From
and Reply-To, a Message-ID and an ``X-Send-Id`` derived from the send id (so
a duplicate is recognisable anywhere downstream), and RFC 8058 one-click
unsubscribe headers. Every SMS ends with a STOP instruction.
"""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from .tokens import UnsubscribeLinks


def message_domain() -> str:
    """The domain part of the sender address, for Message-IDs."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "ladder.invalid"


def message_id_for(send_id: int, *, domain: str | None = None) -> str:
    """A stable, unique Message-ID for one send (``domain``: message_domain())."""
    return f"<send-{send_id}@{domain or message_domain()}>"


class EmailBuilder:
    """Builds many campaign e-mails, computing what they share once.

    The sender, Reply-To, Message-ID domain, translated footer and the
    unsubscribe signer and URL prefixes are read when the builder is made,
    so make one per batch (the settings and active language of that moment).
    """

    def __init__(self) -> None:
        self.from_email = settings.DEFAULT_FROM_EMAIL
        self.reply_to = list(settings.CAMPAIGNS_REPLY_TO) or None
        self.domain = message_domain()
        self.footer = _("To stop receiving these e-mails, open: %(url)s")
        self.unsubscribe = escape(_("Unsubscribe"))
        self.links = UnsubscribeLinks()

    def build(
        self,
        *,
        send_id: int,
        customer_id: int,
        to: str,
        subject: str,
        body: str,
        connection=None,
    ) -> EmailMultiAlternatives:
        """The e-mail for one send, addressed to ``to`` only."""
        links = self.links
        token = links.token(customer_id=customer_id, channel="email", send_id=send_id)
        url = links.page_url(token)
        footer = self.footer % {"url": url}
        text = f"{body.rstrip()}\n\n-- \n{footer}\n"
        html = (
            f"{linebreaks(escape(body))}"
            f'<hr><p><a href="{escape(url)}">{self.unsubscribe}</a></p>'
        )
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=self.from_email,
            to=[to],
            reply_to=self.reply_to,
            headers={
                "Message-ID": message_id_for(send_id, domain=self.domain),
                "X-Send-Id": str(send_id),
                "List-Unsubscribe": f"<{links.one_click_url(token)}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Auto-Submitted": "auto-generated",
            },
            connection=connection,
        )
        message.attach_alternative(html, "text/html")
        return message


def build_sms_text(body: str) -> str:
    """The SMS body with the opt-out instruction every message must carry."""
    return f"{body.rstrip()}\n{_('Reply STOP to opt out')}"

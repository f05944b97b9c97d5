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

from .tokens import make_unsubscribe_token, one_click_url, unsubscribe_url


def message_domain() -> str:
    """The domain part of the sender address, for Message-IDs."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "ladder.invalid"


def message_id_for(send_id: int) -> str:
    """A stable, unique Message-ID for one send."""
    return f"<send-{send_id}@{message_domain()}>"


def build_email(
    *,
    send_id: int,
    customer_id: int,
    to: str,
    subject: str,
    body: str,
    connection=None,
) -> EmailMultiAlternatives:
    """The e-mail for one send, addressed to ``to`` only."""
    token = make_unsubscribe_token(
        customer_id=customer_id, channel="email", send_id=send_id
    )
    url = unsubscribe_url(token)
    footer = _("To stop receiving these e-mails, open: %(url)s") % {"url": url}
    text = f"{body.rstrip()}\n\n-- \n{footer}\n"
    html = (
        f"{linebreaks(escape(body))}"
        f'<hr><p><a href="{escape(url)}">{escape(_("Unsubscribe"))}</a></p>'
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=list(settings.CAMPAIGNS_REPLY_TO) or None,
        headers={
            "Message-ID": message_id_for(send_id),
            "X-Send-Id": str(send_id),
            "List-Unsubscribe": f"<{one_click_url(token)}>",
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

"""E-mail sending through Django's SMTP backend to a real aiosmtpd server.

MKT-05 (headers, plain text, token), CEL-07 (451 retried, 550 failed at once
and the address flagged), CEL-08 (a hung server cannot hold a send), MKT-01
(one row per campaign, customer and channel; a rerun sends nothing twice),
PRIV-02 (an opt-out after the audience was built blocks the message).
"""

from __future__ import annotations

import time

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import set_script_prefix
from django.utils import timezone

from campaigns.models import Campaign, Send
from campaigns.sending import services
from campaigns.sending.tokens import (
    UnsubscribeLinks,
    UnsubscribeToken,
    make_unsubscribe_token,
    one_click_url,
    read_unsubscribe_token,
    unsubscribe_url,
)
from campaigns.tasks import send_batch_task
from crm.models import Channel, ChannelConsent, ConsentEvent, Suppression
from tests.campaigns import sending_support
from tests.campaigns.sending_support import make_campaign, make_customers, status_counts

# Fixtures shared by the sending tests.
smtp = sending_support.smtp
no_quiet_hours = sending_support.no_quiet_hours

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_quiet_hours")]


def launch(campaign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            services.queue_sends(campaign)


def test_every_message_carries_the_headers_and_a_working_token(
    smtp, settings, django_capture_on_commit_callbacks
):
    # given
    settings.DEFAULT_FROM_EMAIL = "Shop <news@shop.example>"
    settings.CAMPAIGNS_REPLY_TO = ["help@shop.example"]
    customers = make_customers(3)
    campaign = make_campaign(customers)
    # when
    launch(campaign, django_capture_on_commit_callbacks)
    # then
    assert len(smtp.messages) == 3
    by_to = {message["To"]: message for message in smtp.messages}
    first = customers[0]
    message = by_to[first.email]
    send = Send.objects.get(campaign=campaign, customer=first)
    assert message["From"] == "Shop <news@shop.example>"
    assert message["Reply-To"] == "help@shop.example"
    assert message["X-Send-Id"] == str(send.pk)
    assert message["Message-ID"] == f"<send-{send.pk}@shop.example>"
    assert send.provider_message_id == message["Message-ID"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.endswith("/one-click/")
    token = url.rstrip("/").split("/")[-2]
    data = read_unsubscribe_token(token)
    assert (data.customer_id, data.channel, data.send_id) == (
        first.pk,
        "email",
        send.pk,
    )
    plain = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    assert (
        plain
        and f"Dear {first.first_name}," in plain[0].get_payload(decode=True).decode()
    )
    # no other customer's personal data in this message
    raw = message.as_string()
    for other in customers[1:]:
        assert other.email not in raw and other.first_name not in raw
    assert status_counts(campaign) == {"sent": 3}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DONE


def test_one_click_before_the_send_blocks_that_message(
    smtp, django_capture_on_commit_callbacks
):
    # PRIV-02: 100 recipients, #50 unsubscribes through the one-click URL first.
    customers = make_customers(100)
    campaign = make_campaign(customers)
    with transaction.atomic():
        services.create_sends(campaign_id=campaign.pk)
    target = customers[49]
    send = Send.objects.get(campaign=campaign, customer=target)
    from campaigns.sending.tokens import make_unsubscribe_token, one_click_url

    token = make_unsubscribe_token(
        customer_id=target.pk, channel="email", send_id=send.pk
    )
    one_click = one_click_url(token).replace("http://localhost:8000", "")
    client = Client(enforce_csrf_checks=True)
    assert client.get(one_click).status_code == 200  # GET changes nothing
    assert ChannelConsent.objects.get(customer=target, channel="email").granted
    response = client.post(
        one_click,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert 200 <= response.status_code < 300
    # when
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_pending(campaign_id=campaign.pk)
    # then
    assert len(smtp.messages) == 99
    assert target.email not in smtp.to()
    send.refresh_from_db()
    assert (send.status, send.skip_reason) == ("skipped", "opted_out")
    assert ConsentEvent.objects.filter(
        customer=target, channel="email", action="withdrawn",
        source__startswith="unsubscribe-link",
    ).exists()  # fmt: skip
    assert Suppression.objects.filter(channel="email").count() == 1


def test_451_twice_then_accepted_is_delivered_once_on_the_third_attempt(
    smtp, django_capture_on_commit_callbacks
):
    smtp.fail_451 = 2
    campaign = make_campaign(make_customers(1))
    launch(campaign, django_capture_on_commit_callbacks)
    send = Send.objects.get(campaign=campaign)
    assert (send.status, send.attempts) == ("sent", 3)
    assert len(smtp.messages) == 1 and smtp.attempts == 3


def test_550_fails_at_once_and_flags_the_address(
    smtp, django_capture_on_commit_callbacks
):
    smtp.fail_550 = True
    customer = make_customers(1)[0]
    campaign = make_campaign([customer])
    launch(campaign, django_capture_on_commit_callbacks)
    send = Send.objects.get(campaign=campaign)
    assert (send.status, send.attempts) == ("failed", 1)
    assert "550" in send.last_error
    assert Suppression.objects.is_suppressed(channel="email", contact=customer.email)
    # the next campaign skips the bouncing address without trying
    smtp.fail_550 = False
    second = make_campaign([customer])
    launch(second, django_capture_on_commit_callbacks)
    assert Send.objects.get(campaign=second).skip_reason == "bounced"
    assert smtp.attempts == 1


def test_a_hung_server_cannot_hold_the_send(
    smtp, settings, django_capture_on_commit_callbacks
):
    # CEL-08: the server sleeps far longer than EMAIL_TIMEOUT
    settings.EMAIL_TIMEOUT = 2
    settings.CAMPAIGNS_SEND_MAX_RETRIES = 1
    smtp.delay = 30
    campaign = make_campaign(make_customers(1))
    started = time.monotonic()
    launch(campaign, django_capture_on_commit_callbacks)
    elapsed = time.monotonic() - started
    assert elapsed < 8
    send = Send.objects.get(campaign=campaign)
    assert send.status == "failed" and "timed out" in send.last_error.lower()


def test_a_rerun_and_a_duplicate_task_send_nothing_twice(
    smtp, django_capture_on_commit_callbacks
):

    customers = make_customers(20)
    campaign = make_campaign(customers)
    launch(campaign, django_capture_on_commit_callbacks)
    ids = list(Send.objects.filter(campaign=campaign).values_list("pk", flat=True))
    # a duplicated task, a re-launch and a sweep afterwards
    send_batch_task.delay(campaign.pk, ids)
    launch(campaign, django_capture_on_commit_callbacks)
    services.sweep_sends(now=timezone.now() + timezone.timedelta(hours=1))
    assert len(smtp.messages) == 20
    assert max(smtp.send_ids.values()) == 1
    assert Send.objects.filter(campaign=campaign).count() == 20


def test_a_duplicate_send_row_is_refused_by_the_database():
    customer = make_customers(1)[0]
    campaign = make_campaign([customer])
    services.create_sends(campaign_id=campaign.pk)
    send = Send.objects.get(campaign=campaign)
    with pytest.raises(IntegrityError), transaction.atomic():
        Send.objects.create(
            campaign=campaign,
            customer=customer,
            channel=Channel.EMAIL,
            queued_at=timezone.now(),
            variant=send.variant,
        )


def test_a_batch_shares_one_smtp_session(smtp, django_capture_on_commit_callbacks):
    campaign = make_campaign(make_customers(10))
    launch(campaign, django_capture_on_commit_callbacks)
    assert len(smtp.messages) == 10
    assert len(smtp.sessions) == 1


@pytest.mark.parametrize("script_prefix", ["/", "/crm/"])
def test_batch_links_are_those_reverse_gives_and_their_tokens_verify(
    settings, script_prefix
):
    settings.CAMPAIGNS_PUBLIC_BASE_URL = "https://shop.example"
    set_script_prefix(script_prefix)
    try:
        links = UnsubscribeLinks()
        for customer_id, send_id in [(1, 2), (123456, 98765432), (7, None)]:
            token = links.token(
                customer_id=customer_id, channel="email", send_id=send_id
            )
            assert links.page_url(token) == unsubscribe_url(token)
            assert links.one_click_url(token) == one_click_url(token)
            assert read_unsubscribe_token(token) == UnsubscribeToken(
                customer_id=customer_id, channel="email", send_id=send_id
            )
            # same payload and signing as the one-off function (the
            # timestamp part may differ by a second)
            single = make_unsubscribe_token(
                customer_id=customer_id, channel="email", send_id=send_id
            )
            assert token.split(":")[0] == single.split(":")[0]
    finally:
        set_script_prefix("/")
    assert (
        read_unsubscribe_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    )

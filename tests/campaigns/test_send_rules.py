"""Rules checked at send time: quiet hours (MKT-02), frequency cap (MKT-03),
consent per channel (PRIV-01), suppression (PRIV-03), and the non-message
channels (call list, in-store prompt, checkout offer)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from campaigns.models import Send
from campaigns.sending import services
from campaigns.sending.quiet import in_quiet_hours
from crm.models import Channel, ChannelConsent, Suppression
from crm.services.customers import set_consent
from tests.campaigns import sending_support
from tests.campaigns.sending_support import make_campaign, make_customers, status_counts
from tests.crm.factories import StoreFactory

# Fixtures shared by the sending tests.
smtp = sending_support.smtp
no_quiet_hours = sending_support.no_quiet_hours

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def run(campaign, capture):
    with capture(execute=True):
        with transaction.atomic():
            services.queue_sends(campaign)


@pytest.mark.parametrize(
    ("local", "start", "end", "quiet"),
    [
        ("21:00", "21:00", "08:00", True),
        ("20:59", "21:00", "08:00", False),
        ("07:59", "21:00", "08:00", True),
        ("08:00", "21:00", "08:00", False),
        ("13:00", "12:00", "14:00", True),
        ("14:00", "12:00", "14:00", False),
        ("03:00", "00:00", "00:00", False),
    ],
)
def test_quiet_hours_window(local, start, end, quiet):
    def clock(text):
        return dt.time.fromisoformat(text)

    assert in_quiet_hours(clock(local), start=clock(start), end=clock(end)) is quiet


@pytest.mark.parametrize(
    ("night", "morning"),
    [
        # an ordinary day, and the nights the clocks change in Paris
        (dt.datetime(2026, 6, 10, 21, 30), dt.datetime(2026, 6, 11, 8, 1)),
        (dt.datetime(2026, 3, 28, 21, 30), dt.datetime(2026, 3, 29, 8, 1)),
        (dt.datetime(2026, 10, 24, 21, 30), dt.datetime(2026, 10, 25, 8, 1)),
    ],
)
def test_a_send_in_quiet_hours_is_deferred_then_sent_in_the_morning(
    smtp, settings, django_capture_on_commit_callbacks, night, morning
):
    # given: a Paris store, default quiet hours 21:00-08:00
    settings.CAMPAIGNS_QUIET_HOURS = ("21:00", "08:00")
    store = StoreFactory(time_zone="Europe/Paris")
    campaign = make_campaign(make_customers(5, store=store))
    # when: launched at 21:30 Paris time
    with time_machine.travel(night.replace(tzinfo=PARIS), tick=False):
        run(campaign, django_capture_on_commit_callbacks)
    # then: nothing sent, every row deferred (not dropped)
    assert smtp.messages == []
    assert status_counts(campaign) == {"deferred": 5}
    assert set(Send.objects.values_list("skip_reason", flat=True)) == {"quiet_hours"}
    # at 07:59 the sweeper finds it still quiet
    with time_machine.travel(
        (morning - dt.timedelta(minutes=2)).replace(tzinfo=PARIS), tick=False
    ):
        services.sweep_sends()
    assert smtp.messages == []
    # when: the sweeper runs at 08:01
    with time_machine.travel(morning.replace(tzinfo=PARIS), tick=False):
        services.sweep_sends()
    assert len(smtp.messages) == 5
    assert status_counts(campaign) == {"sent": 5}


def test_a_campaigns_own_quiet_hours_win(
    smtp, settings, django_capture_on_commit_callbacks
):
    settings.CAMPAIGNS_QUIET_HOURS = ("00:00", "00:00")
    store = StoreFactory(time_zone="Europe/Paris")
    campaign = make_campaign(
        make_customers(2, store=store),
        quiet_hours_start=dt.time(12, 0),
        quiet_hours_end=dt.time(14, 0),
    )
    with time_machine.travel(dt.datetime(2026, 6, 10, 13, 0, tzinfo=PARIS)):
        run(campaign, django_capture_on_commit_callbacks)
    assert status_counts(campaign) == {"deferred": 2}


@pytest.mark.usefixtures("no_quiet_hours")
def test_frequency_cap_counts_other_campaigns_in_a_rolling_week(
    smtp, settings, django_capture_on_commit_callbacks
):
    settings.CAMPAIGNS_FREQUENCY_CAP = 2
    customers = make_customers(3)
    first, second, third = (make_campaign(customers) for _ in range(3))
    run(first, django_capture_on_commit_callbacks)
    run(second, django_capture_on_commit_callbacks)
    run(third, django_capture_on_commit_callbacks)
    assert status_counts(third) == {"skipped": 3}
    assert set(
        Send.objects.filter(campaign=third).values_list("skip_reason", flat=True)
    ) == {"frequency_cap"}
    assert len(smtp.messages) == 6
    # eight days later the window has moved on
    fourth = make_campaign(customers)
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        run(fourth, django_capture_on_commit_callbacks)
    assert status_counts(fourth) == {"sent": 3}


@pytest.mark.usefixtures("no_quiet_hours")
def test_consent_is_per_channel_and_checked_at_send_time(
    smtp, django_capture_on_commit_callbacks
):
    email_only = make_customers(2, channel=Channel.EMAIL)
    campaign = make_campaign(email_only, channel=Channel.SMS)
    run(campaign, django_capture_on_commit_callbacks)
    assert status_counts(campaign) == {"skipped": 2}
    assert set(
        Send.objects.filter(campaign=campaign).values_list("skip_reason", flat=True)
    ) == {"no_consent"}
    # withdrawn after the audience was frozen
    customers = make_customers(3)
    set_consent(customer=customers[0], channel="email", granted=False, source="staff")
    email = make_campaign(customers)
    run(email, django_capture_on_commit_callbacks)
    assert status_counts(email) == {"sent": 2, "skipped": 1}
    assert customers[0].email not in smtp.to()


@pytest.mark.usefixtures("no_quiet_hours")
def test_a_suppressed_contact_needs_newer_consent(
    smtp, django_capture_on_commit_callbacks
):
    # PRIV-03: the address was suppressed (e.g. its owner erased), then the
    # same address arrives again with an older consent row.
    customer = make_customers(1)[0]
    consent = ChannelConsent.objects.get(customer=customer)
    consent.changed_at = timezone.now() - dt.timedelta(days=1)
    consent.save()
    Suppression.objects.record(
        channel="email", contact=customer.email.upper(), reason="erasure"
    )
    campaign = make_campaign([customer])
    run(campaign, django_capture_on_commit_callbacks)
    assert Send.objects.get(campaign=campaign).skip_reason == "suppressed"
    # new consent evidence lifts it
    set_consent(customer=customer, channel="email", granted=False, source="x")
    set_consent(customer=customer, channel="email", granted=True, source="web form")
    again = make_campaign([customer])
    run(again, django_capture_on_commit_callbacks)
    assert Send.objects.get(campaign=again).status == "sent"


@pytest.mark.usefixtures("no_quiet_hours")
def test_call_list_in_store_and_checkout_rows_need_no_provider(
    smtp, django_capture_on_commit_callbacks
):

    customers = make_customers(2, channel=Channel.PHONE)
    for channel in (Channel.PHONE, Channel.IN_STORE, Channel.CHECKOUT):
        campaign = make_campaign(customers, channel=channel)
        run(campaign, django_capture_on_commit_callbacks)
        assert status_counts(campaign) == {"sent": 2}, channel
    assert smtp.messages == []


@pytest.mark.usefixtures("no_quiet_hours")
def test_control_group_gets_nothing(smtp, django_capture_on_commit_callbacks):
    treated = make_customers(4)
    control = make_customers(2)
    campaign = make_campaign(treated, control=control)
    run(campaign, django_capture_on_commit_callbacks)
    assert Send.objects.filter(campaign=campaign).count() == 4
    assert sorted(smtp.to()) == sorted(c.email for c in treated)


@pytest.mark.usefixtures("no_quiet_hours")
def test_cancelled_campaign_sends_no_more(smtp, django_capture_on_commit_callbacks):
    from campaigns.services import cancel_campaign

    campaign = make_campaign(make_customers(3))
    services.create_sends(campaign_id=campaign.pk)
    cancel_campaign(campaign=campaign)
    services.sweep_sends()
    assert status_counts(campaign) == {"skipped": 3}
    assert smtp.messages == []

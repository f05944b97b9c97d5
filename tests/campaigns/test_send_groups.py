"""Hand-off in groups of ``CAMPAIGNS_SEND_HANDOFF_GROUP`` sends (CEL-05, MKT-01,
PRIV-02): one durable claimed → sending commit per group, the group's sent
rows recorded together, failures settled per message, and a worker stopped
in the middle of a group leaves at most that group unknown, nobody twice.

The "killed" worker here is reproduced by leaving the database exactly as a
SIGKILL would (test_fault_send.py kills real Celery workers on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Send
from campaigns.sending import services
from crm.models import Customer
from crm.services.customers import set_consent
from tests.campaigns import sending_support
from tests.campaigns.sending_support import make_campaign, make_customers, status_counts

# Fixtures shared by the sending tests.
smtp = sending_support.smtp
no_quiet_hours = sending_support.no_quiet_hours

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_quiet_hours")]


def send_ids(campaign) -> list[int]:
    return list(
        Send.objects.filter(campaign=campaign)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def sending_marks(queries) -> int:
    """Statements that move rows to "sending" (the only UPDATE … RETURNING)."""
    return sum(
        1
        for query in queries
        if query["sql"].lstrip().upper().startswith("UPDATE")
        and "RETURNING" in query["sql"].upper()
    )


def loaded(ids) -> list[Send]:
    return list(
        Send.objects.filter(pk__in=ids)
        .select_related("customer__home_store", "variant")
        .order_by("pk")
    )


@pytest.mark.parametrize("recipients", [20, 60])
def test_one_sending_commit_per_group_and_queries_bounded_by_groups(
    recipients, smtp, settings, django_assert_max_num_queries
):
    # given: groups of 10
    settings.CAMPAIGNS_SEND_HANDOFF_GROUP = 10
    campaign = make_campaign(make_customers(recipients))
    services.create_sends(campaign_id=campaign.pk)
    groups = recipients // 10
    ids = send_ids(campaign)
    # when: one batch; per group at most a mark, a durability setting, the
    # sent record and a savepoint pair (the test runs in a transaction), and
    # about 20 to claim and load the batch and finish the campaign. Marking
    # and recording each message alone would take over 3 per recipient.
    with (
        django_assert_max_num_queries(20 + 5 * groups),
        CaptureQueriesContext(connection) as queries,
    ):
        services.process_batch(campaign_id=campaign.pk, send_ids=ids)
    # then
    assert sending_marks(queries.captured_queries) == groups
    assert len(smtp.messages) == recipients
    assert max(smtp.send_ids.values()) == 1
    assert status_counts(campaign) == {"sent": recipients}
    sent = Send.objects.filter(campaign=campaign)
    assert all(
        send.provider_message_id.startswith(f"<send-{send.pk}@")
        and send.sent_at is not None
        and send.attempts == 1
        for send in sent
    )


def test_a_transient_error_retries_only_that_message_of_the_group(smtp, settings):
    # given: one group of 10; the server answers 451 to the first message
    settings.CAMPAIGNS_SEND_HANDOFF_GROUP = 10
    campaign = make_campaign(make_customers(10))
    services.create_sends(campaign_id=campaign.pk)
    smtp.fail_451 = 1
    # when
    waiting = services.process_batch(
        campaign_id=campaign.pk, send_ids=send_ids(campaign)
    )
    # then: only that one waits, the other nine are sent and recorded
    assert waiting == 1
    assert status_counts(campaign) == {"sent": 9, "pending": 1}
    retried = Send.objects.get(campaign=campaign, status="pending")
    assert retried.attempts == 1 and "451" in retried.last_error
    assert str(retried.pk) not in smtp.send_ids
    # and the next run sends it, once
    assert services.process_batch(campaign_id=campaign.pk, send_ids=[retried.pk]) == 0
    retried.refresh_from_db()
    assert (retried.status, retried.attempts) == ("sent", 2)
    assert len(smtp.messages) == 10 and max(smtp.send_ids.values()) == 1


def test_consent_withdrawn_between_claim_and_hand_off_stops_the_message(smtp):
    # given: a claimed batch
    customers = make_customers(5)
    campaign = make_campaign(customers)
    services.create_sends(campaign_id=campaign.pk)
    claimed = services.claim_batch(campaign_id=campaign.pk, send_ids=send_ids(campaign))
    assert len(claimed) == 5
    # when: the third customer opts out before the hand-off
    set_consent(customer=customers[2], channel="email", granted=False, source="web")
    services.deliver_claimed(campaign_id=campaign.pk, send_ids=claimed)
    # then
    assert customers[2].email not in smtp.to()
    assert len(smtp.messages) == 4
    withdrawn = Send.objects.get(campaign=campaign, customer=customers[2])
    assert (withdrawn.status, withdrawn.skip_reason) == ("skipped", "opted_out")
    assert status_counts(campaign) == {"sent": 4, "skipped": 1}


def test_a_row_another_worker_took_is_left_to_it(smtp):
    # given: a claimed batch, one row already moved to sending elsewhere
    campaign = make_campaign(make_customers(4))
    services.create_sends(campaign_id=campaign.pk)
    claimed = services.claim_batch(campaign_id=campaign.pk, send_ids=send_ids(campaign))
    assert services.mark_sending([claimed[1]]) == {claimed[1]: 1}
    # when
    services.deliver_claimed(campaign_id=campaign.pk, send_ids=claimed)
    # then: not sent by this process, not skipped either
    assert str(claimed[1]) not in smtp.send_ids
    assert Send.objects.get(pk=claimed[1]).status == "sending"
    assert status_counts(campaign) == {"sent": 3, "sending": 1}


def test_a_kill_mid_group_leaves_at_most_one_group_unknown_and_nobody_twice(
    smtp, settings
):
    # given: batches of 20 in groups of 5; the first group delivered, then the
    # worker dies in the second after handing off two of its five messages:
    # those five rows are "sending", the last ten "claimed", as after SIGKILL
    settings.CAMPAIGNS_SEND_HANDOFF_GROUP = 5
    campaign = make_campaign(make_customers(20))
    services.create_sends(campaign_id=campaign.pk)
    claimed = services.claim_batch(campaign_id=campaign.pk, send_ids=send_ids(campaign))
    sends = loaded(claimed)
    delivery = services._Delivery(campaign)
    services.deliver_group(sends=sends[:5], delivery=delivery)
    taken = services.mark_sending([send.pk for send in sends[5:10]])
    assert len(taken) == 5
    for send in sends[5:7]:
        services._hand_off(send, delivery)
    delivery.close()
    assert status_counts(campaign) == {"sent": 5, "sending": 5, "claimed": 10}
    # when: beat's sweeper an hour later reports the stuck rows and requeues
    # the claimed ones (run inline: no broker in tests)
    services.sweep_sends(now=timezone.now() + dt.timedelta(hours=1))
    # and the batch is redelivered once more for good measure
    services.process_batch(campaign_id=campaign.pk, send_ids=claimed)
    # then
    counts = status_counts(campaign)
    assert counts == {"sent": 15, "unknown": 5}
    assert counts["unknown"] <= settings.CAMPAIGNS_SEND_HANDOFF_GROUP
    assert len(smtp.messages) == 17  # 15 recorded + 2 handed off before the kill
    assert max(smtp.send_ids.values()) == 1


def test_an_unexpected_error_mid_group_gives_back_the_untried_rows(smtp, settings):
    # given: one group of 6; the third customer's address is corrupt, which
    # Django refuses (a header injection, not a provider error)
    settings.CAMPAIGNS_SEND_HANDOFF_GROUP = 10
    customers = make_customers(6)
    Customer.objects.filter(pk=customers[2].pk).update(email="broken\n@example.com")
    campaign = make_campaign(customers)
    services.create_sends(campaign_id=campaign.pk)
    ids = send_ids(campaign)
    # when
    with pytest.raises(ValueError, match="newline"):
        services.process_batch(campaign_id=campaign.pk, send_ids=ids)
    # then: the two sent are recorded, the one in flight stays "sending"
    # (it may have left), the three never tried are claimed again, unspent
    rows = {send.pk: send for send in Send.objects.filter(campaign=campaign)}
    assert [rows[pk].status for pk in ids] == [
        "sent", "sent", "sending", "claimed", "claimed", "claimed",
    ]  # fmt: skip
    assert [rows[pk].attempts for pk in ids[3:]] == [0, 0, 0]
    assert len(smtp.messages) == 2
    # and the sweeper finishes the rest without touching the one in flight
    services.sweep_sends(now=timezone.now() + dt.timedelta(hours=1))
    assert status_counts(campaign) == {"sent": 5, "unknown": 1}
    assert len(smtp.messages) == 5 and max(smtp.send_ids.values()) == 1

"""Concurrent send runs on PostgreSQL (MKT-01, MKT-03).

Two threads, each with its own database connection, play two workers that
received the same batch (a duplicated or redelivered task) or batches of two
campaigns to the same people.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from campaigns.models import Send
from campaigns.sending import services
from tests.campaigns import sending_support
from tests.campaigns.sending_support import make_campaign, make_customers, status_counts

# Fixtures shared by the sending tests.
no_quiet_hours = sending_support.no_quiet_hours
smtp = sending_support.smtp

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_quiet_hours"),
    pytest.mark.timeout(120),
]


def run_together(*jobs):
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            barrier.wait()
            job()
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def batch_job(campaign):
    ids = list(
        Send.objects.filter(campaign=campaign)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return lambda: services.process_batch(campaign_id=campaign.pk, send_ids=ids)


def test_two_workers_on_the_same_batch_and_a_rerun_send_each_once(postgres_db, smtp):
    campaign = make_campaign(make_customers(60))
    services.create_sends(campaign_id=campaign.pk)
    job = batch_job(campaign)
    run_together(job, job)
    job()  # and once more afterwards
    assert len(smtp.messages) == 60
    assert max(smtp.send_ids.values()) == 1
    assert status_counts(campaign) == {"sent": 60}


def test_cap_of_one_holds_across_two_concurrent_campaigns(postgres_db, smtp, settings):
    settings.CAMPAIGNS_FREQUENCY_CAP = 1
    customers = make_customers(100)
    first, second = make_campaign(customers), make_campaign(customers)
    for campaign in (first, second):
        services.create_sends(campaign_id=campaign.pk)
    run_together(batch_job(first), batch_job(second))
    assert len(smtp.messages) == 100
    assert sorted(smtp.to()) == sorted(c.email for c in customers)
    capped = Send.objects.filter(skip_reason="frequency_cap").count()
    assert capped == 100

"""The outbox against a broker that is down or restarts (CEL-04, CEL-06).

* Redis down at launch: the launch still commits, the rows wait as pending,
  and once Redis is back the sweeper publishes them; every recipient gets
  exactly one message.
* Redis restart: with persistence on (``appendonly yes``), tasks queued
  while no worker runs survive a Redis restart and are all processed; a
  worker that saw Redis restart twice still consumes afterwards.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time

import pytest
from django.db import transaction

from campaigns.models import Campaign, Send
from campaigns.sending import services
from campaigns.services import launch_campaign
from tests.campaigns import sending_support
from tests.campaigns.factories import CampaignFactory, VariantFactory
from tests.campaigns.sending_support import (
    free_port,
    make_campaign,
    make_customers,
    status_counts,
)
from tests.conftest import (
    skip_or_fail,
    start_celery_worker,
    stop_celery_worker,
    wait_for,
)

# Fixtures shared by the sending tests.
smtp = sending_support.smtp
worker_env = sending_support.worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def use_broker(url: str) -> None:
    from kombu import pools

    from crm.celery import app

    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()
    app.conf.CELERY_BROKER_URL = url


def test_launch_with_redis_down_succeeds_and_the_sweeper_catches_up(
    worker_env, postgres_db, celery_broker, tmp_path
):
    smtp = worker_env
    customers = make_customers(30)
    campaign = CampaignFactory(channel="email", control_share=0)
    VariantFactory(campaign=campaign, label="A")
    # given: the broker is unreachable
    use_broker(f"redis://127.0.0.1:{free_port()}/0")
    try:
        started = time.monotonic()
        launched = launch_campaign(campaign=campaign)
        assert time.monotonic() - started < 15
    finally:
        use_broker(celery_broker)
    # then: the launch committed and its rows wait
    assert launched.status == Campaign.Status.SENDING
    assert status_counts(campaign) == {"pending": 30}
    # when: Redis is back, a worker runs and beat's sweeper fires
    worker = start_celery_worker(
        db=postgres_db, broker=celery_broker, log_path=tmp_path / "w.log", name="w"
    )
    try:
        from django.conf import settings

        settings.CAMPAIGNS_SEND_REQUEUE_AFTER = dt.timedelta(seconds=0)
        services.sweep_sends()
        wait_for(
            lambda: status_counts(campaign) == {"sent": 30},
            timeout=60,
            message=worker.log_path.read_text()[-3000:],
        )
    finally:
        stop_celery_worker(worker)
    assert sorted(smtp.to()) == sorted(c.email for c in customers)
    assert max(smtp.send_ids.values()) == 1


@pytest.fixture
def own_redis(tmp_path):
    """A private redis-server with AOF persistence; yields (url, restart)."""
    import shutil

    if not shutil.which("redis-server"):
        skip_or_fail("redis-server is not installed")
    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    command = [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1",
        "--appendonly", "yes", "--appendfsync", "always", "--dir", str(data),
        "--maxmemory-policy", "noeviction", "--save", "",
    ]  # fmt: skip

    def start():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for(
            lambda: (
                subprocess.run(
                    ["redis-cli", "-p", str(port), "ping"], capture_output=True
                ).stdout.strip()
                == b"PONG"
            ),
            timeout=20,
            interval=0.1,
        )
        return process

    state = {"process": start()}

    def restart():
        subprocess.run(["redis-cli", "-p", str(port), "shutdown"], capture_output=True)
        state["process"].wait(timeout=20)
        state["process"] = start()

    try:
        yield f"redis://127.0.0.1:{port}/0", restart
    finally:
        subprocess.run(["redis-cli", "-p", str(port), "shutdown"], capture_output=True)
        state["process"].wait(timeout=20)


def test_tasks_queued_before_a_redis_restart_are_all_processed(
    worker_env, own_redis, postgres_db, settings, tmp_path, _celery_runs_inline
):
    from crm.celery import app

    smtp = worker_env
    url, restart = own_redis
    previous = app.conf.CELERY_TASK_ALWAYS_EAGER
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    use_broker(url)
    try:
        # given: 50 one-message tasks queued while no worker runs
        settings.CAMPAIGNS_SEND_BATCH_SIZE = 1
        campaign = make_campaign(make_customers(50))
        with transaction.atomic():
            services.queue_sends(campaign)
        # when: Redis restarts, then a worker starts
        restart()
        worker = start_celery_worker(
            db=postgres_db, broker=url, log_path=tmp_path / "w.log", name="w"
        )
        try:
            wait_for(
                lambda: status_counts(campaign) == {"sent": 50},
                timeout=60,
                message=worker.log_path.read_text()[-3000:],
            )
            # and: two restarts in 3 s, then new work is still consumed
            restart()
            restart()
            canary = make_campaign(make_customers(1))
            with transaction.atomic():
                services.queue_sends(canary)
            wait_for(
                lambda: status_counts(canary) == {"sent": 1},
                timeout=60,
                message=worker.log_path.read_text()[-3000:],
            )
        finally:
            stop_celery_worker(worker)
    finally:
        use_broker(settings.CELERY_BROKER_URL)
        app.conf.CELERY_TASK_ALWAYS_EAGER = previous
    assert len(smtp.messages) == 51 and max(smtp.send_ids.values()) == 1
    assert Send.objects.filter(status="sent").count() == 51

"""Queueing and recording 100,000 campaign sends on PostgreSQL (issue 7).

Run: .venv/bin/python bench/bench_sends.py [--customers 100000]
Needs PostgreSQL (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/ladder_bench_sends; created and migrated
on first use, its customers reused). No broker: the batches run in this
process, as a worker would run them, through Django's in-memory e-mail
backend (building each real message, unsubscribe token and headers
included, but no SMTP round trip).

Figures:
* queue — one pending Send per treated audience member (INSERT … SELECT);
* record — every batch claimed (consent, suppression, quiet hours and cap
  checked), each message handed off and its row marked sent;
* a worker "killed" half-way through one batch, in the middle of a hand-off
  group (that group's rows left sending, half of them handed off, the rest
  of the batch claimed, exactly as a SIGKILL leaves them), then the sweeper
  and a retry of the batch: the duplicate count over X-Send-Id must be 0 and
  at most one group (CAMPAIGNS_SEND_HANDOFF_GROUP) ends unknown.

Target: queue + record under 60 s for 100,000 sends. ``--workers 2`` records
with two forked worker processes (a Celery worker's default concurrency on
this 2-core machine); the default is one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ladder_bench_sends"
TARGET_S = 60.0


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CAMPAIGNS_QUIET_HOURS = ("00:00", "00:00")
    settings.CAMPAIGNS_FREQUENCY_CAP = 10_000
    settings.CAMPAIGNS_SEND_BATCH_SIZE = 500


def prepare(customers: int) -> None:
    """Customers with e-mail consent (reused between runs)."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from crm.models import Customer

    if Customer.objects.count() == customers:
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE crm_customer, crm_channelconsent, crm_store RESTART "
            "IDENTITY CASCADE"
        )
        cursor.execute(
            "INSERT INTO crm_store (code, name, address, city, postcode, country, "
            "time_zone, created_at) VALUES ('B1', 'Bench store', '', '', '', 'IT', "
            "'Europe/Rome', now())"
        )
        cursor.execute(
            """
            INSERT INTO crm_customer (external_id, first_name, last_name, email,
                phone, gender, postcode, country, home_store_id, loyalty_card,
                preferred_channel, preferred_channel_source, status,
                acquisition_source, created_at, updated_at)
            SELECT 'B' || g, 'Name' || g, 'Bench', 'bench' || g || '@example.com',
                '', '', '', '', 1, '', '', '', 'prospect', '', now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [customers],
        )
        cursor.execute(
            """
            INSERT INTO crm_channelconsent (customer_id, channel, granted,
                legal_basis, source, changed_at)
            SELECT id, 'email', true, 'consent', 'bench', now() FROM crm_customer
            """
        )
        cursor.execute("ANALYZE")
    print(f"generated {customers:,} customers in {time.perf_counter() - started:.1f} s")


def new_campaign(customers: int):
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Campaign, Segment, Variant

    segment, _ = Segment.objects.get_or_create(name="Bench everyone")
    campaign = Campaign.objects.create(
        name=f"Bench {timezone.now():%H%M%S}",
        goal=Campaign.Goal.DRIVE_TO_STORE,
        segment=segment,
        channel=Campaign.Channel.EMAIL,
        status=Campaign.Status.SENDING,
        launched_at=timezone.now(),
    )
    variant = Variant.objects.create(
        campaign=campaign,
        label="A",
        subject="Hi {first_name}",
        body="Dear {first_name}",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_audiencemember (campaign_id, customer_id, "
            "variant_id, assigned_at) SELECT %s, id, %s, now() FROM crm_customer "
            "ORDER BY id LIMIT %s",
            [campaign.pk, variant.pk, customers],
        )
    return campaign


def _record_batches(job: tuple[int, list[list[int]]]) -> list[str]:
    """One worker process's share: process its batches, return X-Send-Ids."""
    from django.core import mail
    from django.db import connection

    from campaigns.sending import services

    connection.close()  # a forked child needs its own connection
    mail.outbox = []
    campaign_id, batches = job
    for batch in batches:
        services.process_batch(campaign_id=campaign_id, send_ids=batch)
    return [message.extra_headers["X-Send-Id"] for message in mail.outbox]


def _record_in_processes(
    campaign_id: int, batches: list[list[int]], workers: int
) -> list[str]:
    """Batches dealt out to ``workers`` forked processes, as Celery's pool would."""
    import multiprocessing

    from django.db import connection

    connection.close()
    shares = [batches[index::workers] for index in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(_record_batches, [(campaign_id, share) for share in shares])
    return [send_id for result in results for send_id in result]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--record",
        type=int,
        default=0,
        help="hand off only the first N sends (0 = all) and extrapolate",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes recording the batches (a Celery worker's -c)",
    )
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    _ensure_database(url)
    _setup(url)
    prepare(args.customers)

    from django.conf import settings
    from django.core import mail
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Campaign, Send
    from campaigns.sending import services

    # earlier runs' campaigns must not be swept into this one's figures, nor
    # their rows (100,000 a run) slow each later run down: this database is
    # the bench's own
    Campaign.objects.filter(status=Campaign.Status.SENDING).update(
        status=Campaign.Status.CANCELLED
    )
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE campaigns_send")
    campaign = new_campaign(args.customers)
    mail.outbox = []

    # queue
    started = time.perf_counter()
    created = services.create_sends(campaign_id=campaign.pk)
    queued_s = time.perf_counter() - started
    ids = list(
        Send.objects.filter(campaign=campaign)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    batches = [
        ids[i : i + settings.CAMPAIGNS_SEND_BATCH_SIZE]
        for i in range(0, len(ids), settings.CAMPAIGNS_SEND_BATCH_SIZE)
    ]

    # a worker killed half-way through the first batch: the groups before
    # the kill delivered and recorded, the killed group marked sending with
    # half of it handed off (not yet recorded), the rest of the batch claimed
    # -- exactly what a SIGKILL leaves
    first = batches[0]
    claimed = services.claim_batch(campaign_id=campaign.pk, send_ids=first)
    group = settings.CAMPAIGNS_SEND_HANDOFF_GROUP
    delivery = services._Delivery(campaign)
    sends = list(
        Send.objects.filter(pk__in=claimed)
        .select_related("customer__home_store", "variant")
        .order_by("pk")
    )
    killed_at = (len(sends) // 2) // group * group
    for start in range(0, killed_at, group):
        services.deliver_group(sends=sends[start : start + group], delivery=delivery)
    killed = sends[killed_at : killed_at + group]
    taken = services.mark_sending([send.pk for send in killed])
    for send in killed[: len(killed) // 2]:
        if send.pk in taken:
            services._hand_off(send, delivery)
    delivery.close()

    # record: every batch (the first one retried), then the sweeper
    if args.record:
        batches = batches[: max(1, args.record // settings.CAMPAIGNS_SEND_BATCH_SIZE)]
    started = time.perf_counter()
    if args.workers == 1:
        for batch in batches:
            services.process_batch(campaign_id=campaign.pk, send_ids=batch)
        handed_off = [message.extra_headers["X-Send-Id"] for message in mail.outbox]
    else:
        handed_off = _record_in_processes(campaign.pk, batches, args.workers)
    record_s = time.perf_counter() - started
    recorded = sum(len(batch) for batch in batches)
    # beat's sweeper an hour later: the killed group's rows become unknown
    # (the batches above already retried everything else)
    settings.CAMPAIGNS_SEND_REQUEUE_AFTER = dt.timedelta(days=365)
    services.sweep_sends(now=timezone.now() + dt.timedelta(hours=1))

    counts = Counter(
        Send.objects.filter(campaign=campaign).values_list("status", flat=True)
    )
    own = {str(pk) for pk in ids}
    killed_group = [message.extra_headers["X-Send-Id"] for message in mail.outbox]
    per_id = Counter(
        send_id
        for send_id in (
            handed_off if args.workers == 1 else [*killed_group, *handed_off]
        )
        if send_id in own
    )
    duplicates = sum(n - 1 for n in per_id.values() if n > 1)
    rate = recorded / record_s
    total = queued_s + created / rate
    load = os.getloadavg()[0]
    print(f"sends: {created:,} rows, batches of {settings.CAMPAIGNS_SEND_BATCH_SIZE}, "
          f"hand-off groups of {group}, {args.workers} worker process(es)")  # fmt: skip
    print(f"queue   {queued_s:6.2f} s  ({created / queued_s:,.0f} rows/s)")
    print(f"record  {record_s:6.2f} s for {recorded:,} sends ({rate:,.0f} sends/s)")
    print(f"total   {total:6.2f} s for {created:,} (target < {TARGET_S:.0f} s: "
          f"{'met' if total < TARGET_S else 'MISSED'})")  # fmt: skip
    print(f"after the kill and retry: {dict(counts)}; messages {sum(per_id.values()):,}; "
          f"duplicates {duplicates}; unknown {counts['unknown']} (at most {group})")  # fmt: skip
    print(f"load average {load:.2f} (2 shared cores)")
    if duplicates:
        sys.exit("duplicates found")
    if counts["unknown"] > group:
        sys.exit("more unknown rows than one hand-off group")


if __name__ == "__main__":
    main()

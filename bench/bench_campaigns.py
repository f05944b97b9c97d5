"""Campaign segments and results at scale on PostgreSQL.

Run: .venv/bin/python bench/bench_campaigns.py [--customers 100000 --lines 1000000]
Needs PostgreSQL (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/ladder_bench_campaigns; the database is
created, migrated and filled on first use, then reused).

Data: the generator of bench/bench_suggestions.py (5 stores, 40 categories,
800 products, customers with e-mail consent for 60 %, orders of 1..8 lines
over two years), plus birth dates and coordinates for customers and stores
(seeded SQL updates).

Figures (targets from issue 7):
* resolving a segment over all customers — distance from a store, age band,
  bought a category within a year, at least two orders, e-mail consent —
  both its COUNT and the full id list (target < 2 s);
* freezing the audience of a campaign to every customer (split into A/B and
  a 10 % control group, bulk insert);
* computing the results of that campaign, launched a year ago with a
  365-day window, so the attribution reads every line of the last year
  (about half the million lines; target < 3 s).

Each figure is the median of three runs; the machine's load average is
printed beside them, since the 2 cores are shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_suggestions import _ensure_database, _setup, generate  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ladder_bench_campaigns"
TARGET_SEGMENT_S = 2.0
TARGET_RESULTS_S = 3.0
CAMPAIGN_NAME = "Bench campaign"


def enrich() -> None:
    """Birth dates and coordinates (around northern Italy), reproducibly."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            """
            UPDATE crm_customer SET
                birth_date = DATE '1940-01-01' + (random() * 25000)::int,
                latitude = round((44.0 + random() * 2.0)::numeric, 6),
                longitude = round((8.0 + random() * 4.0)::numeric, 6)
            """
        )
        cursor.execute(
            """
            UPDATE crm_store SET
                latitude = round((44.2 + id * 0.3)::numeric, 6),
                longitude = round((8.5 + id * 0.6)::numeric, 6)
            """
        )
        cursor.execute("ANALYZE")


def prepare(*, customers: int, lines: int) -> None:
    from django.core.management import call_command

    from crm.models import Customer, OrderLine

    call_command("migrate", verbosity=0)
    if (Customer.objects.count(), OrderLine.objects.count()) != (customers, lines):
        started = time.perf_counter()
        generate(customers=customers, lines=lines)
        enrich()
        print(
            f"generated {customers:,} customers / {lines:,} order lines "
            f"in {time.perf_counter() - started:.0f} s"
        )


def timed(function, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def segment_definition() -> dict:
    from crm.models import Category, Store

    store = Store.objects.order_by("pk").first()
    category = Category.objects.order_by("pk").first()
    return {
        "match": "all",
        "rules": [
            {"field": "distance", "store": store.pk, "max_km": 80},
            {"field": "age", "min": 25, "max": 55},
            {"field": "bought", "category": category.pk, "within_days": 365},
            {"field": "frequency", "min": 2},
            {"field": "consent", "channel": "email"},
        ],
    }


def bench_segment() -> dict:
    from campaigns.segments import count_segment, segment_customer_ids

    definition = segment_definition()
    count_s, count = timed(lambda: count_segment(definition))
    ids_s, ids = timed(lambda: segment_customer_ids(definition))
    return {"count_s": count_s, "ids_s": ids_s, "members": count, "ids": len(ids)}


def bench_results() -> dict:
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from campaigns import services
    from campaigns.models import Campaign, CampaignResult, Segment
    from crm.models import OrderLine

    now = timezone.now()
    launched = now - dt.timedelta(days=365)
    Campaign.objects.filter(name=CAMPAIGN_NAME).delete()
    segment, _ = Segment.objects.get_or_create(
        name="Bench: everyone", defaults={"definition": {"match": "all", "rules": []}}
    )
    campaign = services.create_campaign(
        name=CAMPAIGN_NAME,
        goal=Campaign.Goal.DRIVE_TO_STORE,
        segment=segment,
        channel=Campaign.Channel.IN_STORE,
        control_share=Decimal("0.100"),
        attribution_window_days=365,
    )
    services.save_variant(campaign=campaign, label="A", body="Come and see us")
    services.save_variant(campaign=campaign, label="B", body="{first_name}, visit us")
    started = time.perf_counter()
    members = services.freeze_audience(campaign=campaign, now=launched)
    freeze_s = time.perf_counter() - started
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.DONE, launched_at=launched
    )
    in_window = OrderLine.objects.filter(
        order__placed_at__gte=launched, order__status="placed"
    ).count()
    results_s, result = timed(
        lambda: services.refresh_campaign_results(campaign_id=campaign.pk, now=now)
    )
    assert isinstance(result, CampaignResult)
    treated = next(g for g in result.payload["groups"] if g["key"] == "treated")
    return {
        "freeze_s": freeze_s,
        "members": members,
        "results_s": results_s,
        "lines_in_window": in_window,
        "treated_conversions": treated["conversions"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    _ensure_database(url)
    _setup(url)
    prepare(customers=args.customers, lines=args.lines)
    segment = bench_segment()
    results = bench_results()
    load = os.getloadavg()
    print(f"data: {args.customers:,} customers, {args.lines:,} order lines")
    print(
        f"segment (5 rules) over {args.customers:,} customers: "
        f"COUNT {segment['count_s']:.2f} s, id list {segment['ids_s']:.2f} s "
        f"({segment['members']:,} members; target < {TARGET_SEGMENT_S:.0f} s)"
    )
    print(
        f"freeze audience: {results['members']:,} members in {results['freeze_s']:.2f} s"
    )
    print(
        f"results: {results['results_s']:.2f} s for {results['members']:,} members "
        f"and {results['lines_in_window']:,} order lines in the window "
        f"({results['treated_conversions']:,} treated conversions; "
        f"target < {TARGET_RESULTS_S:.0f} s)"
    )
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    ok = (
        max(segment["count_s"], segment["ids_s"]) < TARGET_SEGMENT_S
        and results["results_s"] < TARGET_RESULTS_S
    )
    print("targets met" if ok else "TARGET MISSED")


if __name__ == "__main__":
    main()

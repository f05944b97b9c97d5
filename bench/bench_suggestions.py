"""Suggestion runs at scale on PostgreSQL: full run, shards, one customer, basket.

Run: .venv/bin/python bench/bench_suggestions.py [--customers 100000 --lines 1000000]
Needs PostgreSQL (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/ladder_bench_suggestions; the database is
created, migrated and filled on first use, then reused).

Generated data: stores, a category tree, products, customers (with consents
and home stores), orders of 1..8 lines with planted co-purchase pairs
(the second product of a pair joins the first in 60 % of its baskets).

Before each timed run the recommendation tables are vacuumed, as autovacuum
(off on our machines) would between two nightly runs.

Figures (each phase in a fresh subprocess, so peak RSS is that phase's own):
* full run with one worker: wall time and peak RSS (target < 30 s, < 2 GB);
* shard phase with one and with two worker processes (the same shard
  service the Celery shard task calls; each process builds the run's
  history-wide structures on its first shard, as a Celery worker process
  does; two workers must be faster);
* one customer's recompute (median of 30 after a first one that builds the
  current run's history-wide structures in the process, target < 100 ms);
* basket endpoint: median server time of the DRF view (target < 20 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ladder_bench_suggestions"


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _frame_insert(model, frame) -> None:
    """COPY a frame into a model's table, filling the other fields' defaults."""
    import pandas as pd
    from django.utils import timezone

    from recommendations.services import _bulk_insert

    now = timezone.now()
    for field in model._meta.concrete_fields:
        if field.column in frame.columns or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            frame[field.column] = now
        elif field.has_default():
            frame[field.column] = field.get_default()
        elif field.null:
            frame[field.column] = None
        elif field.empty_strings_allowed:
            frame[field.column] = ""
    _bulk_insert(model, pd.DataFrame(frame))


def generate(*, customers: int, lines: int, seed: int = 7) -> None:
    """Fill the bench database (truncating what is there)."""
    import numpy as np
    import pandas as pd
    from django.db import connection
    from django.utils import timezone

    from crm.models import (
        Category,
        ChannelConsent,
        Customer,
        Order,
        OrderLine,
        Product,
        Store,
    )

    rng = np.random.default_rng(seed)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE crm_orderline, crm_order, crm_channelconsent, crm_customer, "
            "crm_product, crm_category, crm_store, recommendations_recommendationrun "
            "RESTART IDENTITY CASCADE"
        )
    n_stores, n_categories, n_products = 5, 40, 800
    _frame_insert(
        Store,
        pd.DataFrame(
            {
                "id": np.arange(1, n_stores + 1),
                "code": [f"B{i}" for i in range(1, n_stores + 1)],
                "name": [f"Bench store {i}" for i in range(1, n_stores + 1)],
            }
        ),
    )
    _frame_insert(
        Category,
        pd.DataFrame(
            {
                "id": np.arange(1, n_categories + 1),
                "name": [f"Category {i}" for i in range(1, n_categories + 1)],
                "slug": [f"bench-category-{i}" for i in range(1, n_categories + 1)],
            }
        ),
    )
    product_ids = np.arange(1, n_products + 1)
    prices = np.round(rng.uniform(5, 200, n_products), 2)
    _frame_insert(
        Product,
        pd.DataFrame(
            {
                "id": product_ids,
                "sku": [f"P{i:05d}" for i in product_ids],
                "name": [f"Product {i}" for i in product_ids],
                "category_id": (product_ids - 1) % n_categories + 1,
                "price": prices,
                "unit_cost": np.round(prices * 0.6, 2),
            }
        ),
    )
    customer_ids = np.arange(1, customers + 1)
    now = timezone.now()
    _frame_insert(
        Customer,
        pd.DataFrame(
            {
                "id": customer_ids,
                "external_id": [f"BC{i}" for i in customer_ids],
                "home_store_id": rng.integers(1, n_stores + 1, customers),
                "preferred_channel": rng.choice(
                    ["email", "sms", "in_store", ""], customers
                ),
                "status": "customer",
                "became_customer_at": now,
                "gender": rng.choice(["F", "M", ""], customers),
            }
        ),
    )
    consenting = customer_ids[rng.random(customers) < 0.6]
    _frame_insert(
        ChannelConsent,
        pd.DataFrame(
            {
                "customer_id": consenting,
                "channel": "email",
                "granted": True,
                "source": "bench",
                "changed_at": now,
            }
        ),
    )
    # Orders of 1..8 lines (mean ~4); popularity is Zipf-like.
    n_orders = lines // 4
    sizes = rng.integers(1, 8, n_orders)
    total = int(sizes.sum())
    weights = 1.0 / np.arange(1, n_products + 1) ** 0.8
    weights /= weights.sum()
    products = rng.choice(product_ids, total, p=weights)
    order_of_line = np.repeat(np.arange(1, n_orders + 1), sizes)
    # Planted pairs: product p (1..30) pulls product p + 400 into its basket.
    planted = (products <= 30) & (rng.random(total) < 0.6)
    products = np.concatenate([products, products[planted] + 400])
    order_of_line = np.concatenate([order_of_line, order_of_line[planted]])
    frame = pd.DataFrame({"order_id": order_of_line, "product_id": products})
    frame = frame.drop_duplicates(["order_id", "product_id"]).sort_values("order_id")
    frame = frame.iloc[:lines]
    n_orders = int(frame["order_id"].max())
    order_customer = rng.integers(1, customers + 1, n_orders)
    placed = now - pd.to_timedelta(rng.integers(0, 700, n_orders), unit="D")
    _frame_insert(
        Order,
        pd.DataFrame(
            {
                "id": np.arange(1, n_orders + 1),
                "number": [f"BO{i}" for i in range(1, n_orders + 1)],
                "customer_id": order_customer,
                "store_id": rng.integers(1, n_stores + 1, n_orders),
                "channel": "in_store",
                "status": np.where(rng.random(n_orders) < 0.03, "cancelled", "placed"),
                "placed_at": placed,
            }
        ),
    )
    frame["line_no"] = frame.groupby("order_id").cumcount() + 1
    frame["quantity"] = 1
    frame["unit_price"] = prices[frame["product_id"].to_numpy() - 1]
    frame["returned_quantity"] = (rng.random(len(frame)) < 0.02).astype(int)
    _frame_insert(OrderLine, frame.reset_index(drop=True))
    with connection.cursor() as cursor:
        for table in (
            "crm_store",
            "crm_category",
            "crm_product",
            "crm_customer",
            "crm_order",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _vacuum_between_runs() -> None:
    """Clear the dead rows the previous run left, as autovacuum would by night.

    Each run deletes the previous run's ~300,000 unseen suggestions. On a
    default PostgreSQL autovacuum reclaims them within minutes; on our bench
    machines autovacuum is off, so back-to-back runs would each find the
    table bigger than any nightly run does (2 GB after a dozen runs).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) recommendations_suggestion, "
            "recommendations_customerscore, recommendations_associationrule"
        )


def phase_full() -> dict:
    from recommendations.services import run_all

    _vacuum_between_runs()
    started = time.perf_counter()
    cpu = time.process_time()
    run = run_all()
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 2),
        # This process's own CPU (the rest of the wall is PostgreSQL's work and
        # waiting for a core): a figure a busy machine distorts less.
        "python_cpu_s": round(time.process_time() - cpu, 2),
        "to_visible_s": round(run.duration or 0, 2),
        "peak_rss_mb": round(_rss_mb()),
        "customers": run.customers_count,
        "order_lines": run.order_lines_count,
        "rules": run.rules_count,
        "suggestions": run.suggestions_count,
        "shards": run.shards_total,
        "timings": run.timings,
    }


def _worker(args: tuple[int, list[int]]) -> float:
    from django.db import connection

    connection.close()
    from recommendations.services import compute_shard

    run_id, indexes = args
    started = time.perf_counter()
    for index in indexes:
        compute_shard(run_id=run_id, index=index)
    return time.perf_counter() - started


def phase_shards(workers: int) -> dict:
    """Prepare a run, then compute its shards in ``workers`` processes."""
    import multiprocessing

    from django.db import connection

    from recommendations.models import RecommendationRun
    from recommendations.services import clear_run_states, prepare_run, start_run

    _vacuum_between_runs()
    run = start_run()
    indexes = prepare_run(run_id=run.pk)
    # Like Celery worker processes, each builds the run's history-wide
    # structures on its first shard (not inherited from the preparing process).
    clear_run_states()
    connection.close()
    # Shards are handed out one at a time, like a Celery queue with prefetch 1.
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        pool.map(_worker, [(run.pk, [index]) for index in indexes], chunksize=1)
    wall = time.perf_counter() - started
    run = RecommendationRun.objects.get(pk=run.pk)
    return {
        "workers": workers,
        "shards": len(indexes),
        "shard_phase_s": round(wall, 2),
        "status": run.status,
    }


def phase_customer() -> dict:
    import numpy as np

    from crm.models import Customer
    from recommendations.services import recompute_customer_suggestions

    ids = list(Customer.objects.order_by("?").values_list("pk", flat=True)[:31])
    # The first recompute in a process builds the current run's structures.
    started = time.perf_counter()
    recompute_customer_suggestions(customer_id=ids[0])
    cold = 1000 * (time.perf_counter() - started)
    times = []
    for customer_id in ids[1:]:
        started = time.perf_counter()
        recompute_customer_suggestions(customer_id=customer_id)
        times.append(1000 * (time.perf_counter() - started))
    return {
        "median_ms": round(statistics.median(times), 1),
        "p90_ms": round(float(np.percentile(times, 90)), 1),
        "first_ms": round(cold),
    }


def phase_basket() -> dict:
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.test import APIRequestFactory, force_authenticate

    from crm.models import Customer
    from recommendations.api.views import BasketSuggestionsView

    user, _ = get_user_model().objects.get_or_create(username="bench-sales")
    user.groups.add(Group.objects.get(name="sales"))
    user = get_user_model().objects.get(pk=user.pk)
    factory = APIRequestFactory()
    view = BasketSuggestionsView.as_view()
    rng = np.random.default_rng(3)
    customers = list(Customer.objects.values_list("pk", flat=True)[:200])
    times = []
    for attempt in range(300):
        skus = [f"P{int(p):05d}" for p in rng.integers(1, 60, rng.integers(1, 6))]
        body = {"skus": skus}
        if attempt % 2:
            body["customer"] = customers[attempt % len(customers)]
        request = factory.post("/api/suggestions/basket/", body, format="json")
        force_authenticate(request, user=user)
        started = time.perf_counter()
        response = view(request)
        response.render()
        elapsed = 1000 * (time.perf_counter() - started)
        assert response.status_code == 200, response.content
        if attempt >= 20:  # the first requests build the per-run rule index
            times.append(elapsed)
    return {
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(float(np.percentile(times, 90)), 2),
    }


PHASES = {
    "full": phase_full,
    "shards1": lambda: phase_shards(1),
    "shards2": lambda: phase_shards(2),
    "customer": phase_customer,
    "basket": phase_basket,
}


def _run_phase(name: str, url: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--url", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument(
        "--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--phase", choices=sorted(PHASES))
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if args.phase:
        _setup(args.url)
        print(json.dumps(PHASES[args.phase]()))
        return
    _ensure_database(args.url)
    _setup(args.url)
    from django.core.management import call_command

    from crm.models import Customer, OrderLine

    call_command("migrate", verbosity=0)
    have = (Customer.objects.count(), OrderLine.objects.count())
    if args.regenerate or have != (args.customers, args.lines):
        started = time.perf_counter()
        generate(customers=args.customers, lines=args.lines)
        print(
            f"generated {args.customers:,} customers / {args.lines:,} order lines "
            f"in {time.perf_counter() - started:.1f} s"
        )
    from django.db import connection

    connection.close()
    full = _run_phase("full", args.url)
    print(
        f"full run, 1 worker: {full['wall_s']:.1f} s wall (target < 30 s), "
        f"{full['to_visible_s']:.1f} s until the new suggestions are current "
        f"({full['python_cpu_s']:.1f} s CPU in the worker process), "
        f"peak RSS {full['peak_rss_mb']:,} MB (target < 2,048 MB); "
        f"{full['customers']:,} customers, {full['order_lines']:,} lines, "
        f"{full['rules']:,} rules, {full['suggestions']:,} suggestions, "
        f"{full['shards']} shards"
    )
    print(f"  timings: {full['timings']}")
    one = _run_phase("shards1", args.url)
    two = _run_phase("shards2", args.url)
    print(
        f"shard phase: 1 worker {one['shard_phase_s']:.1f} s, 2 workers "
        f"{two['shard_phase_s']:.1f} s (speed-up x{one['shard_phase_s'] / two['shard_phase_s']:.2f}; "
        f"{one['shards']} shards; runs {one['status']}/{two['status']})"
    )
    customer = _run_phase("customer", args.url)
    print(
        f"one customer's recompute: median {customer['median_ms']:.0f} ms, "
        f"p90 {customer['p90_ms']:.0f} ms (target < 100 ms); the first in a "
        f"process {customer['first_ms']:,} ms (builds the run's structures)"
    )
    basket = _run_phase("basket", args.url)
    print(
        f"basket endpoint: median {basket['median_ms']:.1f} ms, "
        f"p90 {basket['p90_ms']:.1f} ms server time (target < 20 ms)"
    )


if __name__ == "__main__":
    main()

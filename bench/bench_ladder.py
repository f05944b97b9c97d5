"""Benchmark: ladder positions for 100,000 customers and 1,000,000 order lines.

Usage (PostgreSQL on 127.0.0.1, a scratch database that is dropped first):

    .venv/bin/python bench/bench_ladder.py [--customers 100000] [--lines 1000000]

Steps: (1) recreate the scratch database ``ladder_bench_ladder`` and migrate
it in a subprocess with DATABASE_URL set; (2) COPY stores, products,
customers, orders and order lines generated with numpy (seeded); (3) create
three ladders through the services; (4) recompute every position in a fresh
subprocess, measuring wall time and peak memory (ru_maxrss), twice (the
second run writes nothing); (5) time the ladder report page with the Django
test client (median of 30 requests) and count its queries.

Targets (issue 3): recompute < 30 s wall and < 2 GB peak; report page a
fixed number of queries and median < 200 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DB_NAME = "ladder_bench_ladder"
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE_URL = f"{SERVER}/{DB_NAME}"
SEED = 20240601
DAY = 86_400

# (sku, kind, price, months): ladder products first, then filler goods.
LADDER_PRODUCTS = [
    ("B-LAP-BASE", "product", "549.00", None),
    ("B-LAP-PRO", "product", "1499.00", None),
    ("B-LAP-CASE", "product", "34.90", None),
    ("B-LAP-MOUSE", "product", "24.90", None),
    ("B-LAP-WARRANTY", "service", "129.00", None),
    ("B-SAL-CUT", "service", "28.00", None),
    ("B-SAL-SUB", "subscription", "35.00", 1),
    ("B-SAL-PREMIUM", "subscription", "59.00", 1),
    ("B-SAL-BEARD", "service", "15.00", None),
    ("B-CLO-BASIC", "product", "29.90", None),
    ("B-CLO-PREMIUM", "product", "149.00", None),
    ("B-CLO-BELT", "product", "29.90", None),
    ("B-CLO-SCARF", "product", "39.90", None),
]
LADDERS = [
    (
        "Laptop",
        ["B-LAP-BASE", "B-LAP-PRO"],
        ["B-LAP-CASE", "B-LAP-MOUSE", "B-LAP-WARRANTY"],
    ),
    ("Salon care", ["B-SAL-CUT", "B-SAL-SUB", "B-SAL-PREMIUM"], ["B-SAL-BEARD"]),
    ("Clothing line", ["B-CLO-BASIC", "B-CLO-PREMIUM"], ["B-CLO-BELT", "B-CLO-SCARF"]),
]
FILLER_PRODUCTS = 187


def _psql_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def create_database() -> None:
    """Drop and create the scratch database, then migrate it in a subprocess."""
    _psql_admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    _psql_admin(f"CREATE DATABASE {DB_NAME}")
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
    )


def _copy(conn, table: str, columns: list[str], frame) -> None:
    buffer = io.StringIO()
    # \N marks NULL, so empty strings stay empty strings (NOT NULL columns).
    frame.to_csv(buffer, index=False, header=False, na_rep="\\N")
    buffer.seek(0)
    with conn.cursor() as cursor:
        with cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN "
            "WITH (FORMAT csv, NULL '\\N')"
        ) as copy:
            while chunk := buffer.read(1 << 22):
                copy.write(chunk)


def generate(*, customers: int, lines: int) -> dict:
    """COPY the shop's rows; returns counts. Seeded, so repeatable."""
    import numpy as np
    import pandas as pd
    import psycopg

    rng = np.random.default_rng(SEED)
    now = int(time.time())
    started = time.perf_counter()
    with psycopg.connect(DATABASE_URL) as conn:
        stamp = pd.Timestamp.now(tz="UTC").isoformat()
        stores = pd.DataFrame(
            {
                "id": range(1, 6),
                "code": [f"B{n}" for n in range(1, 6)],
                "name": [f"Bench store {n}" for n in range(1, 6)],
                "address": "",
                "city": "Milano",
                "postcode": "",
                "country": "IT",
                "time_zone": "Europe/Rome",
                "created_at": stamp,
            }
        )
        _copy(conn, "crm_store", list(stores.columns), stores)
        rows = [
            (sku, kind, price, months) for sku, kind, price, months in LADDER_PRODUCTS
        ]
        rows += [
            (f"B-FILL-{n:04d}", "product", f"{rng.uniform(5, 300):.2f}", None)
            for n in range(FILLER_PRODUCTS)
        ]
        products = pd.DataFrame(
            rows, columns=["sku", "kind", "price", "subscription_months"]
        )
        products.insert(0, "id", range(1, len(products) + 1))
        products["name"] = products["sku"]
        products["season"] = "all_year"
        products["is_consumable"] = False
        products["active"] = True
        products["created_at"] = stamp
        products["updated_at"] = stamp
        products["subscription_months"] = products["subscription_months"].astype(
            "Int64"
        )
        _copy(conn, "crm_product", list(products.columns), products)

        ids = np.arange(1, customers + 1)
        became = now - rng.integers(400 * DAY, 800 * DAY, size=customers)
        customer_frame = pd.DataFrame(
            {
                "id": ids,
                "external_id": [f"B{n:07d}" for n in ids],
                "first_name": "Bench",
                "last_name": [f"Customer {n}" for n in ids],
                "email": "",
                "phone": "",
                "gender": "",
                "postcode": "",
                "country": "IT",
                "loyalty_card": "",
                "preferred_channel": "",
                "preferred_channel_source": "",
                "status": "customer",
                "acquisition_source": "",
                "home_store_id": rng.integers(1, 6, size=customers),
                "became_customer_at": pd.to_datetime(became, unit="s", utc=True),
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        _copy(conn, "crm_customer", list(customer_frame.columns), customer_frame)

        orders = lines * 2 // 5  # 2.5 lines per order
        order_customer = rng.integers(1, customers + 1, size=orders)
        placed = now - rng.integers(0, 730 * DAY, size=orders)
        status = np.where(rng.random(orders) < 0.03, "cancelled", "placed")
        order_frame = pd.DataFrame(
            {
                "id": np.arange(1, orders + 1),
                "number": [f"BO{n:08d}" for n in range(1, orders + 1)],
                "customer_id": order_customer,
                "store_id": rng.integers(1, 6, size=orders),
                "channel": "in_store",
                "status": status,
                "placed_at": pd.to_datetime(placed, unit="s", utc=True),
                "created_at": stamp,
            }
        )
        _copy(conn, "crm_order", list(order_frame.columns), order_frame)

        line_order = np.sort(rng.integers(1, orders + 1, size=lines))
        line_no = pd.Series(line_order).groupby(line_order).cumcount().to_numpy() + 1
        # 35 % of lines are ladder products (steps weighted towards entry steps).
        ladder_weights = np.array([8, 3, 3, 3, 1, 8, 4, 2, 2, 9, 3, 2, 2], dtype=float)
        is_ladder = rng.random(lines) < 0.35
        product = np.where(
            is_ladder,
            rng.choice(
                np.arange(1, len(LADDER_PRODUCTS) + 1),
                size=lines,
                p=ladder_weights / ladder_weights.sum(),
            ),
            rng.integers(len(LADDER_PRODUCTS) + 1, len(products) + 1, size=lines),
        )
        prices = products.set_index("id")["price"].astype(float)
        quantity = np.where(rng.random(lines) < 0.9, 1, 2)
        returned = np.where(rng.random(lines) < 0.05, quantity, 0)
        line_frame = pd.DataFrame(
            {
                "id": np.arange(1, lines + 1),
                "order_id": line_order,
                "line_no": line_no,
                "product_id": product,
                "quantity": quantity,
                "unit_price": prices.reindex(product).to_numpy().round(2),
                "returned_quantity": returned,
            }
        )
        _copy(conn, "crm_orderline", list(line_frame.columns), line_frame)
        for table in (
            "crm_store",
            "crm_product",
            "crm_customer",
            "crm_order",
            "crm_orderline",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return {
        "customers": customers,
        "orders": orders,
        "order_lines": lines,
        "products": len(products),
        "generate_seconds": round(time.perf_counter() - started, 1),
    }


def setup_django() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()


def create_ladders() -> None:
    from crm.models import Product
    from ladder import services

    products = {p.sku: p for p in Product.objects.filter(sku__startswith="B-")}
    for name, steps, complements in LADDERS:
        ladder = services.create_ladder(name=name)
        for sku in steps:
            step = services.add_step(ladder=ladder, product=products[sku])
            for complement in complements:
                services.add_step_offer(step=step, product=products[complement])
        services.update_ladder(ladder=ladder, active=True)


def recompute_phase() -> None:
    """Run in a fresh process: one full recompute; prints JSON figures."""
    setup_django()
    from ladder.services import recompute_all_positions

    started = time.perf_counter()
    result = recompute_all_positions()
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "wall_seconds": round(wall, 2),
                "peak_mib": round(peak_kib / 1024, 1),
                "positions": result.positions,
                "reaches": result.reaches,
                "customers_placed": result.customers,
            }
        )
    )


def run_recompute() -> dict:
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    output = subprocess.run(
        [sys.executable, __file__, "--recompute-phase"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def time_report(requests: int = 30) -> dict:
    """Median server time and query count of the report page (test client)."""
    import types

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import include, path

    from crm import urls as crm_urls
    from ladder.models import CustomerLadderPosition, Ladder

    urlconf = types.ModuleType("bench_ladder_urls")
    urlconf.urlpatterns = [
        path("ladders/", include("ladder.urls")),
        *crm_urls.urlpatterns,
    ]
    sys.modules["bench_ladder_urls"] = urlconf
    user, _ = get_user_model().objects.get_or_create(username="bench-manager")
    user.groups.add(Group.objects.get(name="manager"))
    results = {}
    with override_settings(
        ROOT_URLCONF="bench_ladder_urls", ALLOWED_HOSTS=["testserver"]
    ):
        client = Client()
        client.force_login(user)
        for ladder in Ladder.objects.order_by("name"):
            url = f"/ladders/{ladder.pk}/report/"
            client.get(url)  # warm: templates, connections
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            results[ladder.name] = {
                "customers_on_ladder": CustomerLadderPosition.objects.filter(
                    ladder=ladder
                ).count(),
                "median_ms": round(statistics.median(timings), 1),
                "p90_ms": round(sorted(timings)[int(len(timings) * 0.9) - 1], 1),
                "queries": len(queries),
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument(
        "--recompute-phase", action="store_true", help=argparse.SUPPRESS
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.recompute_phase:
        recompute_phase()
        return
    print(f"scratch database: {DATABASE_URL}")
    create_database()
    counts = generate(customers=args.customers, lines=args.lines)
    print("data:", json.dumps(counts))
    setup_django()
    create_ladders()
    first = run_recompute()
    print("recompute (first run):", json.dumps(first))
    second = run_recompute()
    print("recompute (second run, nothing changes):", json.dumps(second))
    # What autovacuum does after a bulk write: statistics and the visibility
    # map (index-only scans) for the freshly written derived tables.
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ladder_customerladderposition")
        conn.execute("VACUUM ANALYZE ladder_customerstepreach")
    report = time_report()
    for name, figures in report.items():
        print(f"report page {name}:", json.dumps(figures))
    ok = (
        first["wall_seconds"] < 30
        and first["peak_mib"] < 2048
        and all(f["median_ms"] < 200 for f in report.values())
        and len({f["queries"] for f in report.values()}) == 1
    )
    print(
        "targets (<30 s, <2 GB, fixed queries, median <200 ms):",
        "MET" if ok else "MISSED",
    )
    if not args.keep:
        from django.db import connections

        connections.close_all()
        _psql_admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()

"""Customer search and customer pages at 100,000 customers on PostgreSQL.

Run: .venv/bin/python bench/bench_search.py [--customers 100000] [--pages] [--keep]
(--pages also times the customer list sorted and filtered by spend: first
live, before any suggestion run, then by a current run's stored value.)
Creates a scratch database (ladder_bench_search), migrates it, COPYs seeded
customers spread over 5 stores (accented Italian names, E.164 phones, loyalty
cards, external ids), then times ``crm.selectors.search_customers`` for a
manager and for a clerk, per query kind: name fragment, full name typed
without accents, phone typed with spaces, loyalty card, e-mail, external id.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DB_NAME = "ladder_bench_search"
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE_URL = f"{SERVER}/{DB_NAME}"
SEED = 20261123
FIRST = [
    "Nicolò", "Mattia", "Giulia", "Chiara", "Francesca", "Lorenzo", "Andrea",
    "Sofia", "Aurora", "Alessandro", "Leonardo", "Gabriele", "Noemi", "Élodie",
    "Tommaso", "Beatrice", "Riccardo", "Martina", "Federico", "Greta",
]  # fmt: skip
LAST = [
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo",
    "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini",
    "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Cantù", "Forlì",
    "D'Angelo", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi",
]  # fmt: skip


def _psql_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def create_database() -> None:
    _psql_admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    _psql_admin(f"CREATE DATABASE {DB_NAME}")
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
    )


def generate(customers: int) -> list[dict]:
    """COPY the stores and customers; returns a sample of customer rows."""
    import numpy as np
    import pandas as pd
    import psycopg

    rng = np.random.default_rng(SEED)
    stamp = pd.Timestamp.now(tz="UTC").isoformat()
    ids = np.arange(1, customers + 1)
    # Surnames get a numbered suffix for a tenth of customers so that name
    # matches are not all enormous groups: real shops have many surnames.
    last = [
        LAST[i] if rng.random() > 0.1 else f"{LAST[i]}{n}"
        for n, i in enumerate(rng.integers(0, len(LAST), customers))
    ]
    frame = pd.DataFrame(
        {
            "id": ids,
            "external_id": [f"EXT{n:07d}" for n in ids],
            "first_name": [FIRST[i] for i in rng.integers(0, len(FIRST), customers)],
            "last_name": last,
            "email": [f"c{n}@example.com" for n in ids],
            "phone": [f"+39333{n:07d}" for n in ids],
            "gender": "",
            "postcode": "",
            "country": "IT",
            "home_store_id": rng.integers(1, 6, customers),
            "loyalty_card": [f"27{n:08d}" for n in ids],
            "preferred_channel": "",
            "preferred_channel_source": "",
            "status": "prospect",
            "acquisition_source": "bench",
            "created_at": stamp,
            "updated_at": stamp,
        }
    )
    with psycopg.connect(DATABASE_URL) as conn:
        for n in range(1, 6):
            conn.execute(
                "INSERT INTO crm_store (id, code, name, address, city, postcode,"
                " country, time_zone, created_at) VALUES"
                " (%s, %s, %s, '', '', '', 'IT', 'Europe/Rome', now())",
                (n, f"S{n}", f"Store {n}"),
            )
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False)
        buffer.seek(0)
        with conn.cursor() as cursor:
            columns = ", ".join(frame.columns)
            with cursor.copy(
                f"COPY crm_customer ({columns}) FROM STDIN"
                " WITH (FORMAT csv, NULL '\\N')"
            ) as copy:
                copy.write(buffer.read())
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('crm_customer', 'id'), %s)",
            (customers,),
        )
        conn.execute("ANALYZE crm_customer")
    sample = frame.sample(n=200, random_state=SEED)
    return sample.to_dict("records")


def queries_for(row: dict) -> dict[str, str]:
    from crm.search import fold

    phone = row["phone"]
    return {
        "name fragment": fold(row["last_name"])[:5],
        "full name, no accents": fold(f"{row['first_name']} {row['last_name']}"),
        "phone with spaces": f"{phone[3:6]} {phone[6:9]} {phone[9:]}",
        "loyalty card": row["loyalty_card"],
        "e-mail": row["email"].upper(),
        "external id": row["external_id"].lower(),
    }


def measure(rows: list[dict]) -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group, User

    from crm.models import StaffProfile
    from crm.selectors import search_customers

    manager, _ = User.objects.get_or_create(username="bench-manager")
    manager.groups.add(Group.objects.get(name="manager"))
    clerk, _ = User.objects.get_or_create(username="bench-clerk")
    clerk.groups.add(Group.objects.get(name="clerk"))
    StaffProfile.objects.update_or_create(user=clerk, defaults={"store_id": 1})
    clerk = User.objects.select_related("staff_profile").get(pk=clerk.pk)
    for label, user in (("manager", manager), ("clerk", clerk)):
        timings: dict[str, list[float]] = {}
        found = 0
        for row in rows:
            for kind, query in queries_for(row).items():
                started = time.perf_counter()
                result = search_customers(user, query)
                timings.setdefault(kind, []).append(
                    (time.perf_counter() - started) * 1000
                )
                found += any(c.pk == row["id"] for c in result)
        everything = [t for values in timings.values() for t in values]
        print(f"\n{label}: {len(everything)} searches, target found in {found}")
        print(f"{'query kind':<24}{'median ms':>10}{'p95 ms':>10}")
        for kind, values in [*timings.items(), ("all", everything)]:
            p95 = statistics.quantiles(values, n=20)[-1]
            print(f"{kind:<24}{statistics.median(values):>10.2f}{p95:>10.2f}")


def generate_orders(customers: int, *, lines: int = 1_000_000) -> int:
    """COPY products, orders (5 lines each) and lines; returns the big customer."""
    import numpy as np
    import pandas as pd
    import psycopg

    rng = np.random.default_rng(SEED + 1)
    stamp = pd.Timestamp.now(tz="UTC")
    n_orders = lines // 5
    big = 1
    owners = np.concatenate(
        [np.full(5000, big), rng.integers(2, customers + 1, n_orders - 5000)]
    )
    days = rng.integers(0, 1500, n_orders)
    orders = pd.DataFrame(
        {
            "id": np.arange(1, n_orders + 1),
            "number": [f"B{n:08d}" for n in range(1, n_orders + 1)],
            "customer_id": owners,
            "store_id": rng.integers(1, 6, n_orders),
            "channel": "in_store",
            "status": "placed",
            "placed_at": [
                (stamp - pd.Timedelta(days=int(d), minutes=int(m))).isoformat()
                for d, m in zip(days, rng.integers(0, 1440, n_orders), strict=True)
            ],
            "created_at": stamp.isoformat(),
        }
    )
    order_lines = pd.DataFrame(
        {
            "id": np.arange(1, n_orders * 5 + 1),
            "order_id": np.repeat(orders["id"].to_numpy(), 5),
            "line_no": np.tile(np.arange(1, 6), n_orders),
            "product_id": rng.integers(1, 201, n_orders * 5),
            "quantity": rng.integers(1, 4, n_orders * 5),
            "unit_price": rng.integers(500, 20000, n_orders * 5) / 100,
            "returned_quantity": 0,
        }
    )
    with psycopg.connect(DATABASE_URL) as conn:
        conn.execute(
            "INSERT INTO crm_category (id, name, slug, parent_id) VALUES"
            " (1, 'Bench', 'bench', NULL)"
        )
        for n in range(1, 201):
            conn.execute(
                "INSERT INTO crm_product (id, sku, name, category_id, kind, price,"
                " unit_cost, season, is_consumable, active, created_at, updated_at)"
                " VALUES (%s, %s, %s, 1, 'product', 20, 10, 'all_year', false,"
                " true, now(), now())",
                (n, f"SKU{n:04d}", f"Product {n}"),
            )
        for table, frame in (("crm_order", orders), ("crm_orderline", order_lines)):
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False, header=False)
            buffer.seek(0)
            with conn.cursor() as cursor:
                with cursor.copy(
                    f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN"
                    " WITH (FORMAT csv)"
                ) as copy:
                    copy.write(buffer.read())
        conn.execute(
            "UPDATE crm_customer SET status = 'customer', became_customer_at = now()"
            " WHERE id IN (SELECT DISTINCT customer_id FROM crm_order)"
        )
        conn.execute("ANALYZE")
    return big


def measure_pages(big: int, *, repeat: int = 30) -> None:
    from django.contrib.auth.models import User
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from crm.models import Customer

    typical = Customer.objects.filter(orders__isnull=False).exclude(pk=big).first()
    for username in ("bench-manager", "bench-clerk"):
        user = User.objects.get(username=username)
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        home_store = Customer.objects.filter(pk=typical.pk).values_list(
            "home_store_id", flat=True
        )[0]
        pages = {
            "list, by name": reverse("crm:customer_list"),
            "list, by spend": reverse("crm:customer_list") + "?sort=-spend",
            "list, spend >= 500": reverse("crm:customer_list") + "?spend_min=500",
            "search 'rossi'": reverse("crm:search") + "?q=rossi",
            "page, 5,000 orders": reverse("crm:customer_detail", args=[big]),
            "page, typical": reverse("crm:customer_detail", args=[typical.pk]),
        }
        if username == "bench-clerk":
            # A clerk sees their store: pick customers of store 1.
            mine = Customer.objects.filter(home_store_id=1, orders__isnull=False)
            pages["page, 5,000 orders"] = reverse(
                "crm:customer_detail", args=[mine.first().pk]
            )
            pages.pop("page, typical")
        del home_store
        print(f"\n{username}")
        print(f"{'page':<22}{'median ms':>10}{'p95 ms':>10}{'queries':>9}{'status':>8}")
        for label, url in pages.items():
            timings = []
            # Sorting or filtering every customer by a live aggregate is the
            # slow path: a few runs are enough to see it.
            runs = 3 if "spend" in label else repeat
            for _ in range(runs):
                reset_queries()
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
            p95 = statistics.quantiles(timings, n=20)[-1] if runs > 3 else max(timings)
            print(
                f"{label:<22}{statistics.median(timings):>10.1f}{p95:>10.1f}"
                f"{len(queries):>9}{response.status_code:>8}"
            )


def score_current_run() -> None:
    """A completed current suggestion run whose scores hold every buyer's
    value (kept units x unit price over placed orders), as a run writes it:
    the figure the list sorts and filters spend by once a run exists."""
    from django.db import connection
    from django.utils import timezone

    from recommendations.models import RecommendationRun

    run = RecommendationRun.objects.create(
        status=RecommendationRun.Status.COMPLETED,
        is_current=True,
        finished_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO recommendations_customerscore (run_id, customer_id,"
            " orders, return_rate, cancellation_rate, value, net_margin,"
            " eligibility, reason_code, reason_params, reason)"
            " SELECT %s, o.customer_id, count(DISTINCT o.id), 0, 0,"
            " sum((l.quantity - l.returned_quantity) * l.unit_price), 0,"
            " 'eligible', '', '{}', ''"
            " FROM crm_orderline l JOIN crm_order o ON o.id = l.order_id"
            " WHERE o.status = 'placed' GROUP BY o.customer_id",
            [run.pk],
        )
        cursor.execute("ANALYZE recommendations_customerscore")


def measure_stored_pages(*, repeat: int = 30) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    started = time.perf_counter()
    score_current_run()
    print(f"\ncurrent run scored in {time.perf_counter() - started:.1f}s")
    for username in ("bench-manager", "bench-clerk"):
        client = Client(HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=username))
        pages = {
            "list, by spend": reverse("crm:customer_list") + "?sort=-spend",
            "list, spend >= 500": reverse("crm:customer_list") + "?spend_min=500",
            "list, by spend, p.50": reverse("crm:customer_list")
            + "?sort=-spend&page=50",
            "list, by name": reverse("crm:customer_list"),
        }
        print(f"\n{username}, sorted/filtered by the current run's value")
        print(f"{'page':<22}{'median ms':>10}{'p95 ms':>10}{'queries':>9}{'status':>8}")
        for label, url in pages.items():
            timings = []
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as queries:
                    begun = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - begun) * 1000)
            p95 = statistics.quantiles(timings, n=20)[-1]
            print(
                f"{label:<22}{statistics.median(timings):>10.1f}{p95:>10.1f}"
                f"{len(queries):>9}{response.status_code:>8}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--pages", action="store_true", help="add 1M order lines; time the pages"
    )
    args = parser.parse_args()
    create_database()
    started = time.perf_counter()
    rows = generate(args.customers)
    print(
        f"{args.customers:,} customers loaded in {time.perf_counter() - started:.1f}s"
    )
    big = None
    if args.pages:
        started = time.perf_counter()
        big = generate_orders(args.customers)
        print(f"1,000,000 order lines loaded in {time.perf_counter() - started:.1f}s")
    try:
        measure(rows)
        if big is not None:
            measure_pages(big)
            measure_stored_pages()
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            _psql_admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()

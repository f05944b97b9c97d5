"""Customer page and counter lookup under load, on a production-mode server.

Run: .venv/bin/python bench/bench_pages.py [--customers 100000 --lines 1000000]
     [--seconds 30] [--connections 4] [--rate 20] [--regenerate]

Needs PostgreSQL (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/ladder_bench_pages), gunicorn (a project
dependency) and wrk (``apt-get install wrk``).

1. Data: the generator of bench/bench_suggestions.py (5 stores, 800 products,
   customers, orders of 1..8 lines), plus names, E.164 phones and loyalty
   cards, a published ladder with every customer placed on it, and a
   completed suggestion run. It is built once and then reused.
2. Server: gunicorn, 5 sync workers ((2 x cores) + 1, as in PERF-02), with
   ``DJANGO_ENV=production``, a freshly generated ``DJANGO_SECRET_KEY``,
   ``DJANGO_ALLOWED_HOSTS=127.0.0.1``, DEBUG off, and hashed static files
   collected into a scratch directory. Production expects TLS to end at a
   proxy in front of it. The bench plays that proxy:
   ``DJANGO_BEHIND_PROXY=true`` (a setting production already honours) and
   an ``X-Forwarded-Proto: https`` header on every request. So the server runs
   exactly as deployed: SSL redirect, HSTS, ``__Host-`` secure cookies and the
   HTTPS CSRF checks are all on, and nothing is turned off for the bench.
3. Load: wrk (a real HTTP load tool, pinned to one core with taskset) logs in
   once through the login form as a salesperson and as a clerk. It then
   requests, for a fixed time each: the customer page of random customers
   (sales) and the counter's lookup by phone of random customers of the
   clerk's store (clerk), in two phases:
   * paced: 4 connections that each pause between requests, about 20 req/s
     per page (PERF-02's rate); the targets are judged on this phase;
   * saturated: the same 4 connections with no pause, which gives the
     throughput on this machine. The concurrency stays below the worker
     count, so the time spent waiting there is for the CPU, not a worker.
4. Figures: median and p95 server time, which gunicorn logs per request
   (``%(D)s``, microseconds from the request being read to the response being
   written). wrk's client-side percentiles are printed beside them. Targets:
   median < 50 ms, p95 < 150 ms. The generator shares the 2 cores with the
   server and PostgreSQL, and the machine's load average is printed too. The
   exit status is 1 when a paced figure misses its target.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_suggestions import _ensure_database, _setup, generate  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ladder_bench_pages"
PASSWORD = "bench-Pages-2026"
SALES_USER = "bench-sales"
CLERK_USER = "bench-clerk"
CLERK_STORE = "B1"
WORKERS = 5
TARGET_MEDIAN_MS = 50
TARGET_P95_MS = 150
FIRST = [
    "Giulia", "Marco", "Chiara", "Luca", "Francesca", "Andrea", "Sofia",
    "Nicolò", "Martina", "Lorenzo", "Élodie", "Tommaso", "Beatrice", "Federico",
]  # fmt: skip
LAST = [
    "Rossi", "Bianchi", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci",
    "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Cantù", "D'Angelo",
]  # fmt: skip


# --- data ------------------------------------------------------------------------


def enrich_customers() -> None:
    """Names, e-mails, unique E.164 phones and loyalty cards for every customer."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE crm_customer SET
                first_name = (%s::text[])[1 + id %% %s],
                last_name = (%s::text[])[1 + (id / 7) %% %s],
                email = 'customer' || id || '@example.com',
                phone = '+393' || lpad(id::text, 9, '0'),
                loyalty_card = '27' || lpad(id::text, 8, '0')
            """,
            [FIRST, len(FIRST), LAST, len(LAST)],
        )
        cursor.execute("ANALYZE crm_customer")


def create_ladder() -> None:
    """One published ladder of three popular products, complements attached."""
    from crm.models import Product
    from ladder import services
    from ladder.models import Ladder

    if Ladder.objects.filter(name="Bench ladder").exists():
        return
    popular = list(Product.objects.filter(pk__lte=120).order_by("price"))
    steps = [popular[10]]
    for product in popular:
        if product.price >= steps[-1].price * 2 and len(steps) < 3:
            steps.append(product)
    ladder = services.create_ladder(name="Bench ladder")
    for product in steps:
        step = services.add_step(ladder=ladder, product=product)
        for complement in Product.objects.filter(pk__in=[401, 402, 403]):
            if complement.pk != product.pk:
                services.add_step_offer(step=step, product=complement)
    services.update_ladder(ladder=ladder, active=True)


def create_users() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from crm.models import StaffProfile, Store

    users = get_user_model().objects
    for username, role in ((SALES_USER, "sales"), (CLERK_USER, "clerk")):
        user, _ = users.get_or_create(username=username)
        user.set_password(PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
    StaffProfile.objects.update_or_create(
        user=users.get(username=CLERK_USER),
        defaults={"store": Store.objects.get(code=CLERK_STORE)},
    )


def prepare_data(*, customers: int, lines: int, regenerate: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    from crm.models import Customer, OrderLine
    from ladder.services import recompute_all_positions
    from recommendations.models import RecommendationRun
    from recommendations.services import run_all

    call_command("migrate", verbosity=0)
    have = (Customer.objects.count(), OrderLine.objects.count())
    fresh = regenerate or have != (customers, lines)
    if fresh:
        started = time.perf_counter()
        generate(customers=customers, lines=lines)
        enrich_customers()
        print(
            f"generated {customers:,} customers / {lines:,} order lines "
            f"in {time.perf_counter() - started:.0f} s"
        )
    create_users()
    completed = RecommendationRun.objects.filter(
        status=RecommendationRun.Status.COMPLETED
    )
    if fresh or not completed.exists():
        started = time.perf_counter()
        create_ladder()
        recompute_all_positions()
        run = run_all()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(
            f"ladder positions and suggestion run {run.pk} "
            f"({run.suggestions_count:,} suggestions) in "
            f"{time.perf_counter() - started:.0f} s"
        )


def pick_paths(*, count: int = 2000, seed: int = 11) -> dict[str, list[str]]:
    """Request paths: customer pages (any store) and counter lookups (B1).

    The counter lookup is what the counter's search box sends (htmx, so
    ``HX-Request``): the phone as typed, answered with that customer's
    in-person offers and basket in one response.
    """
    import random

    from django.urls import NoReverseMatch, reverse

    from crm.models import Customer

    rng = random.Random(seed)
    everyone = list(Customer.objects.values_list("pk", flat=True))
    local = list(
        Customer.objects.filter(home_store__code=CLERK_STORE).values_list("pk", "phone")
    )
    customers = rng.sample(everyone, min(count, len(everyone)))
    counter = rng.sample(local, min(count, len(local)))
    try:
        customer_paths = [reverse("crm:customer_detail", args=[pk]) for pk in customers]
    except NoReverseMatch:  # before the customer page exists: its API twin
        customer_paths = [f"/api/customers/{pk}/" for pk in customers]
    try:
        base = reverse("recommendations:counter")
        # Typed the way a clerk types it, with spaces and no country code.
        counter_paths = [
            f"{base}?{urllib.parse.urlencode({'q': _as_typed(phone)})}"
            for _, phone in counter
        ]
    except NoReverseMatch:  # before the counter exists: its API twin
        counter_paths = [f"/api/customers/{pk}/suggestions/" for pk, _ in counter]
    return {"customer page": customer_paths, "counter lookup": counter_paths}


#: Extra request headers per measured page.
HEADERS = {"customer page": {}, "counter lookup": {"HX-Request": "true"}}
#: What a right answer contains (a lookup that found nobody would be cheaper).
MARKERS = {"customer page": b"customer-head", "counter lookup": b"counter-customer"}


def _as_typed(phone: str) -> str:
    digits = phone.removeprefix("+39")
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


# --- the server -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(*, url: str, static_root: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "DJANGO_ENV": "production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_BEHIND_PROXY": "true",
            "DJANGO_STATIC_ROOT": str(static_root),
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": url,
        }
    )
    return env


class Client:
    """A tiny HTTP client that behaves like a browser behind a TLS proxy.

    Secure (``__Host-``) cookies are kept by hand: a standard cookie jar never
    sends them over the loopback's plain HTTP, which is the proxy's hop.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        headers: dict | None = None,
    ):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "Host": "127.0.0.1",
            "X-Forwarded-Proto": "https",
            "Cookie": self.cookie_header(),
            **(headers or {}),
        }
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"https://127.0.0.1{path}"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        content = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        connection.close()
        return response, content

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def log_in(self, username: str) -> None:
        response, content = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        assert response.status == 200 and token, (response.status, content[:300])
        response, _ = self.request(
            "POST",
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": token.group(1).decode(),
                "username": username,
                "password": PASSWORD,
            },
        )
        assert response.status == 302, f"login as {username}: {response.status}"
        assert "__Host-sessionid" in self.cookies, self.cookies


def start_server(*, env: dict, port: int, access_log: Path, error_log: Path):
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "crm.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(WORKERS),
        "--worker-class", "sync",
        "--access-logfile", str(access_log),
        # %(D)s: microseconds from the request read to the response written.
        "--access-logformat", '%(D)s %(s)s "%(r)s"',
        "--error-logfile", str(error_log),
        "--forwarded-allow-ips", "127.0.0.1",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            response, _ = Client(port).request("GET", "/health/")
            if response.status == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"gunicorn did not start:\n{error_log.read_text()}")


def stop_server(server) -> None:
    import signal

    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except ProcessLookupError:
        pass


# --- the load ---------------------------------------------------------------------

WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local index = 0
-- Pause (ms) before each request on a connection: paces the load.
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
delay = function() return pause end
request = function()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %.2f, "p50": %.2f, "p95": %.2f, '
    .. '"p99": %.2f, "non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


def run_wrk(
    *,
    port: int,
    headers: dict[str, str],
    paths: list[str],
    seconds: int,
    connections: int,
    delay_ms: int,
    workdir: Path,
) -> dict:
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    script = workdir / "paths.lua"
    script.write_text(WRK_SCRIPT)
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script),
        "-H", "X-Forwarded-Proto: https",
        *[x for name, value in headers.items() for x in ("-H", f"{name}: {value}")],
        f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    if shutil.which("taskset"):
        # Pinned to one core so the generator's cost is bounded and visible.
        command = ["taskset", "-c", "1", *command]
    output = subprocess.run(
        command,
        env={
            **os.environ,
            "BENCH_PATHS": str(paths_file),
            "BENCH_DELAY_MS": str(delay_ms),
        },
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(x for x in output.splitlines() if x.startswith("WRK "))
    return json.loads(line[4:])


def server_times(access_log: Path, *, start: int) -> tuple[list[float], int]:
    """Server times (ms) of 2xx GETs logged after byte ``start``; and non-2xx."""
    times, failures = [], 0
    with access_log.open("rb") as log:
        log.seek(start)
        for raw in log:
            micros, status, *_ = raw.decode().split(" ", 2)
            if status.startswith("2"):
                times.append(int(micros) / 1000)
            else:
                failures += 1
    return times, failures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(args, url: str) -> bool:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    paths = pick_paths()
    from django.db import connections

    connections.close_all()
    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    static_root = workdir / "static"
    env = production_env(url=url, static_root=static_root)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = _free_port()
    access_log, error_log = workdir / "access.log", workdir / "error.log"
    server = start_server(
        env=env, port=port, access_log=access_log, error_log=error_log
    )
    ok = True
    try:
        sales, clerk = Client(port), Client(port)
        sales.log_in(SALES_USER)
        clerk.log_in(CLERK_USER)
        plan = [
            ("customer page", sales, paths["customer page"]),
            ("counter lookup", clerk, paths["counter lookup"]),
        ]
        for name, client, targets in plan:
            response, body = client.request("GET", targets[0], headers=HEADERS[name])
            assert response.status == 200, (name, targets[0], response.status)
            if not targets[0].startswith("/api/"):
                assert MARKERS[name] in body, (name, targets[0], body[:500])
            # Warm every worker: templates, connections, per-run caches.
            for target in targets[-4 * WORKERS * 5 :]:
                client.request("GET", target, headers=HEADERS[name])
        # Paced: each connection pauses so the page gets about --rate req/s
        # (PERF-02's rate; the targets are judged here). Saturated: no pause,
        # as many requests as the 4 connections can get answered.
        pause = round(1000 * args.connections / args.rate)
        print(
            f"server: gunicorn {WORKERS} sync workers, DJANGO_ENV=production, "
            f"PostgreSQL {url.rsplit('/', 1)[1]}; load: wrk -t1 -c{args.connections} "
            f"-d{args.seconds}s per page and phase, pinned to CPU 1; "
            f"load average before: {os.getloadavg()[0]:.2f}"
        )
        for phase, delay_ms in (("paced", pause), ("saturated", 0)):
            for name, client, targets in plan:
                start = access_log.stat().st_size
                wrk = run_wrk(
                    port=port,
                    headers={"Cookie": client.cookie_header(), **HEADERS[name]},
                    paths=targets,
                    seconds=args.seconds,
                    connections=args.connections,
                    delay_ms=delay_ms,
                    workdir=workdir,
                )
                time.sleep(0.5)  # gunicorn flushes its access log per line
                times, failures = server_times(access_log, start=start)
                median, p95 = statistics.median(times), percentile(times, 0.95)
                met = median < TARGET_MEDIAN_MS and p95 < TARGET_P95_MS and not failures
                verdict = ""
                if phase == "paced":
                    ok = ok and met
                    verdict = (
                        f" (target < {TARGET_MEDIAN_MS} / < {TARGET_P95_MS} ms: "
                        f"{'MET' if met else 'MISSED'})"
                    )
                shape = re.sub(r"[0-9]+", "{id}", targets[0].split("?")[0])
                print(
                    f"{phase:>9} {name} ({shape}): {wrk['requests']:,} requests in "
                    f"{wrk['seconds']:.0f} s ({wrk['requests'] / wrk['seconds']:.0f} "
                    f"req/s), {failures} non-2xx; server time median {median:.1f} ms, "
                    f"p95 {p95:.1f} ms, p99 {percentile(times, 0.99):.1f} ms"
                    f"{verdict}; wrk client-side median {wrk['p50']:.1f} ms, "
                    f"p95 {wrk['p95']:.1f} ms"
                )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--rate", type=float, default=20, help="paced phase: requests per second"
    )
    parser.add_argument(
        "--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--prepare-only", action="store_true", help="build the data, measure nothing"
    )
    args = parser.parse_args()
    _ensure_database(args.url)
    _setup(args.url)
    prepare_data(customers=args.customers, lines=args.lines, regenerate=args.regenerate)
    if args.prepare_only:
        return
    ok = measure(args, args.url)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

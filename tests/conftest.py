"""Project-wide fixtures: role users, API clients, and service detection.

Service tests (real PostgreSQL, Redis, Celery worker) skip when a service is
missing, except with REQUIRE_SERVICES=1 (CI), where a missing service fails.
Tests needing ../shared/data skip on a newcomer's clone, never under CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from tests.crm.factories import StoreFactory, UserFactory

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
ONLINE_RETAIL_FILE = SHARED_DATA / "online_retail.csv.gz"


# Shared machines are slow at times: no per-example deadline. CI replays the
# same examples every run (derandomize), so a red build is reproducible.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True)
hypothesis_settings.load_profile(
    "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test is a failure: CI has every service and file."""
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("CI", "").lower() == "true"
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run every test: {reason}"


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service is missing; fail instead when services are required."""
    if services_required():
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1, so this is a failure)")
    pytest.skip(reason)


def require_shared_data() -> Path:
    """The Online Retail file, or skip (fail under CI=true) when it is absent."""
    if ONLINE_RETAIL_FILE.exists():
        return ONLINE_RETAIL_FILE
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{ONLINE_RETAIL_FILE} is missing, and CI always has it")
    pytest.skip("../shared/data is not beside this clone")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Give each pytest process its own server-side test database.

    Several runs on one machine (a developer's and CI's, or parallel helpers)
    would otherwise create and drop the same ``test_<name>`` under each other.
    SQLite test databases are in memory and need no suffix.
    """
    from django.conf import settings

    suffix = os.environ.get("TEST_DB_SUFFIX") or str(os.getpid())
    for db in settings.DATABASES.values():
        if db["ENGINE"].endswith("sqlite3"):
            continue
        test = db.setdefault("TEST", {})
        base = test.get("NAME") or f"test_{db['NAME']}"
        test["NAME"] = f"{base}_{suffix}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 costs ~0.2 s a user; tests create hundreds of users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_runs_inline():
    """Tasks run in-process unless a test starts a real worker.

    The broker URL in the environment (CI sets one) must not make ordinary
    tests publish to Redis with nobody consuming.
    """
    from crm.celery import app

    # With the Django namespace, Celery reads the CELERY_-prefixed keys first.
    previous = app.conf.CELERY_TASK_ALWAYS_EAGER
    app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.CELERY_TASK_ALWAYS_EAGER = previous


@pytest.fixture
def online_retail_file() -> Path:
    return require_shared_data()


@pytest.fixture
def store_a(db):
    return StoreFactory(code="A", name="Store A")


@pytest.fixture
def store_b(db):
    return StoreFactory(code="B", name="Store B")


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role="manager")


@pytest.fixture
def sales(db):
    return UserFactory(username="sales", role="sales")


@pytest.fixture
def clerk_a(db, store_a):
    return UserFactory(username="clerk_a", role="clerk", store=store_a)


@pytest.fixture
def clerk_b(db, store_b):
    return UserFactory(username="clerk_b", role="clerk", store=store_b)


@pytest.fixture
def api_client_for():
    """An APIClient logged in (force_authenticate) as the given user."""

    def make(user) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


def _port_open(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    """The Redis database reserved for tests (TEST_REDIS_URL), emptied first."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        skip_or_fail("TEST_REDIS_URL is not set: no Redis for service tests")
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        skip_or_fail(f"Redis at {url} does not answer")
    return url


@pytest.fixture
def postgres_db(transactional_db):
    """The PostgreSQL test database's settings; skip (or fail) on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL (set DATABASE_URL)")
    from tests.roles_support import ensure_roles

    # An earlier transactional test's flush may have emptied the role groups.
    ensure_roles()
    return connection.settings_dict


@pytest.fixture
def celery_broker(redis_url, _celery_runs_inline):
    """Point this process's Celery app at the test Redis, tasks really queued."""
    from crm.celery import app

    previous = (app.conf.CELERY_BROKER_URL, app.conf.CELERY_TASK_ALWAYS_EAGER)

    def reset_pool():
        # Connections and producers are cached per broker URL, in the app and
        # in kombu's global registries; drop them all.
        from kombu import pools

        app._pool = None
        app.amqp._producer_pool = None
        pools.reset()

    reset_pool()
    app.conf.CELERY_BROKER_URL = redis_url
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    yield redis_url
    reset_pool()
    app.conf.CELERY_BROKER_URL, app.conf.CELERY_TASK_ALWAYS_EAGER = previous


def start_celery_worker(*, db: dict, broker: str, log_path: Path, name: str):
    """Start a real ``celery worker`` subprocess reading the test database.

    It runs in its own process group so a fault test can kill it whole, and
    returns once the worker logs "ready." The Popen object carries
    ``log_path`` and ``log_file`` (closed by ``stop_celery_worker``).
    """
    import subprocess
    import sys
    import time

    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": broker,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
    }
    log = open(log_path, "w")  # noqa: SIM115 - closed by stop_celery_worker
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "crm", "worker",
            "-Q", "default,import,send", "-c", "1", "-P", "prefork",
            "-l", "info", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-n", f"{name}-{os.getpid()}@%h",
        ],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    worker.log_path = log_path
    worker.log_file = log
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            stop_celery_worker(worker)
            pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    return worker


def stop_celery_worker(worker) -> None:
    """Stop a worker started by ``start_celery_worker`` (warm, then cold)."""
    import signal
    import subprocess

    try:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.log_file.close()


@pytest.fixture
def celery_worker_process(postgres_db, celery_broker, tmp_path):
    """A real ``celery worker`` subprocess on Redis, reading the test database.

    Yields the Popen object (see ``start_celery_worker``); the test process
    publishes to the same Redis.
    """
    worker = start_celery_worker(
        db=postgres_db, broker=celery_broker, log_path=tmp_path / "worker.log",
        name="test",
    )  # fmt: skip
    try:
        yield worker
    finally:
        stop_celery_worker(worker)


def wait_for(
    predicate, *, timeout: float = 60, interval: float = 0.2, message: str = ""
):
    """Poll until ``predicate()`` is truthy; fail the test after ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(message or "condition not met in time")

"""Project-wide fixtures: role users, API clients, and service detection.

Service tests (real PostgreSQL, Redis, Celery worker) skip when a service is
missing, except with REQUIRE_SERVICES=1 (CI), where a missing service fails.
Tests needing ../shared/data skip on a newcomer's clone, never under CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.crm.factories import StoreFactory, UserFactory

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
ONLINE_RETAIL_FILE = SHARED_DATA / "online_retail.csv.gz"


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
def _celery_runs_inline():
    """Tasks run in-process unless a test starts a real worker.

    The broker URL in the environment (CI sets one) must not make ordinary
    tests publish to Redis with nobody consuming.
    """
    from crm.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


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

"""The deterministic demo business behind ``manage.py demo``.

A chain of three department stores (Milano, Torino, Bologna), each selling
electronics, seasonal clothing and salon services, with about 5,000
customers and two years of orders shaped for the value ladders in
``crm.demo.catalogue.DEMO_LADDERS``.

Layout, so later issues (ladders, suggestions, campaigns) can extend it:

- ``catalogue``: stores, categories, products and the ladder SKU constants;
- ``generator``: pure functions that build the rows in memory from a seed;
- ``writer``: bulk inserts, demo users, and the reset;
- ``build_demo`` (here): the whole build in one transaction.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from . import catalogue
from .catalogue import DEMO_LADDERS, LADDER_SKUS
from .generator import build_plan
from .writer import (
    DEMO_USERS,
    DemoResetBlocked,
    delete_demo_data,
    demo_exists,
    refresh_demo_users,
    write_catalogue,
    write_plan,
    write_stores,
)

DEFAULT_CUSTOMERS = 5000
DEFAULT_SEED = 20240601
DEFAULT_PASSWORD = "ladder-demo"

__all__ = [
    "DEFAULT_CUSTOMERS",
    "DEFAULT_PASSWORD",
    "DEFAULT_SEED",
    "DEMO_LADDERS",
    "DEMO_USERS",
    "LADDER_SKUS",
    "DemoResetBlocked",
    "DemoSummary",
    "build_demo",
    "catalogue",
    "delete_demo_data",
    "demo_exists",
    "refresh_demo_users",
]


@dataclass
class DemoSummary:
    """What a build did: ``created`` is False when an existing demo was kept."""

    created: bool
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def build_demo(
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    stdout: TextIO | None = None,
    password: str = DEFAULT_PASSWORD,
    reset: bool = False,
    now: dt.datetime | None = None,
) -> DemoSummary:
    """Build the demo business, or only refresh the users if it already exists.

    Idempotent: with the marker store present and ``reset`` False, nothing but
    the demo users (passwords, groups, clerk stores) changes. With ``reset``,
    the demo rows are deleted and rebuilt in the same transaction, so a failed
    rebuild leaves the old demo in place. The same seed and customer count
    give the same counts on every run; dates end at ``now``.
    """
    started = time.perf_counter()
    now = now or timezone.now()

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    with transaction.atomic():
        if demo_exists() and not reset:
            refresh_demo_users(password=password)
            say("The demo already exists: users refreshed (use --reset to rebuild).")
            return DemoSummary(created=False, seconds=time.perf_counter() - started)
        if reset:
            say("Deleting the previous demo data…")
            delete_demo_data()
        say(f"Generating {customers} customers and two years of orders (seed {seed})…")
        plan = build_plan(customers=customers, seed=seed, now=now)
        stores = write_stores()
        products = write_catalogue()
        users = refresh_demo_users(password=password)
        say("Writing rows…")
        counts = write_plan(plan=plan, stores=stores, products=products, users=users)
    counts = {
        "stores": len(stores),
        "categories": len(catalogue.CATEGORIES),
        "products": len(products),
        **counts,
        "prospects": sum(1 for row in plan.customers if row.became_customer_at is None),
        "anonymous_orders": sum(1 for row in plan.orders if row.customer is None),
        "cancelled_orders": sum(1 for row in plan.orders if row.cancelled),
        "cancellations": sum(1 for row in plan.returns if row.kind == "cancellation"),
        "users": len(users),
    }
    return DemoSummary(
        created=True, seconds=time.perf_counter() - started, counts=counts
    )

"""The whole demo plan in memory: the entry point of the pure generator.

Each part (customers, orders, consents, interactions) lives in its own module
and draws from its own random stream; see ``crm.demo.rows`` for the
determinism rules every part follows.
"""

from __future__ import annotations

import datetime as dt
import random

from .consents import build_consents
from .customers import build_customers
from .interactions import build_interactions
from .orders import build_orders
from .rows import ConsentRow, CustomerRow, DemoPlan

__all__ = [
    "DemoPlan",
    "assign_created_at",
    "build_consents",
    "build_customers",
    "build_interactions",
    "build_orders",
    "build_plan",
]


def assign_created_at(
    *, customers: list[CustomerRow], consents: list[ConsentRow], now: dt.datetime
) -> None:
    """Set each customer's ``created_at``: the first purchase or consent.

    Prospects with neither were added 1-21 months ago, spread by index (no
    random draw, so the other parts' streams are untouched).
    """
    first_consent: dict[int, dt.datetime] = {}
    for consent in consents:
        when = min(event[2] for event in consent.events)
        if (
            consent.customer not in first_consent
            or when < first_consent[consent.customer]
        ):
            first_consent[consent.customer] = when
    for customer in customers:
        known = [
            moment
            for moment in (
                customer.became_customer_at,
                first_consent.get(customer.index),
            )
            if moment is not None
        ]
        customer.created_at = (
            min(known)
            if known
            else now - dt.timedelta(days=30 + (customer.index * 97) % 600)
        )


def build_plan(*, customers: int, seed: int, now: dt.datetime) -> DemoPlan:
    """The whole demo in memory. Each part has its own random stream, so adding
    draws to one part (a later issue's campaign history) leaves the others as
    they were."""
    customer_rows = build_customers(
        rng=random.Random(f"{seed}:customers"), count=customers, now=now
    )
    orders, returns = build_orders(
        rng=random.Random(f"{seed}:orders"), customers=customer_rows, now=now
    )
    consents = build_consents(
        rng=random.Random(f"{seed}:consents"), customers=customer_rows, now=now
    )
    assign_created_at(customers=customer_rows, consents=consents, now=now)
    interactions = build_interactions(
        rng=random.Random(f"{seed}:interactions"),
        customers=customer_rows,
        orders=orders,
        now=now,
    )
    return DemoPlan(
        customers=customer_rows,
        orders=orders,
        returns=returns,
        consents=consents,
        interactions=interactions,
    )

"""Shared pieces of the demo generator: row types, constants and helpers.

The generator is pure: functions take a seeded ``random.Random`` and ``now``
and return the dataclasses below, which refer to each other by list index,
store code, SKU or username; ``crm.demo.writer`` turns them into model rows.

Determinism: the same seed gives the same *structure* (customers, orders,
lines, returns, consents, interactions and their counts) whatever the date.
Dates are offsets from ``now``; where a choice depends on the calendar (a
swimsuit in July, a coat in December), the alternatives have the same shape
and consume the same random draws, so the counts never depend on the day the
demo is built. ``pick`` uses one draw whatever the list length for the same
reason (``Random.choice`` may consume a variable number of bits).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from . import catalogue as cat

HISTORY_DAYS = 730  # two years of orders, ending today
LOCAL_TZ = ZoneInfo("Europe/Rome")
CENT = Decimal("0.01")
MICRO_DEGREE = Decimal("0.000001")

PROSPECT_SHARE = 0.08
LOYALTY_SHARE = 0.60
HEAVY_RETURNER_SHARE = 0.05
ANONYMOUS_ORDER_SHARE = 0.10
INTERACTION_CUSTOMER_SHARE = 0.30
# Granted consent per channel; a further few per cent granted and later withdrew.
CONSENT_RATES = {"email": 0.65, "sms": 0.40, "phone": 0.30}
WITHDRAWN_RATE = 0.03
CONSENT_WORDING = "v1"
PARTNER_SOURCES = ("partner:palestra-fitlife", "partner:influencer-giulia-style")

# Staff usernames (created by the writer; interactions refer to them by name).
MANAGER_USER = "manager"
SALES_USER = "sales"
CLERK_USERS = {"MI01": "clerk_mi", "TO01": "clerk_to", "BO01": "clerk_bo"}
ADMIN_USER = "admin"


# --- Rows ---------------------------------------------------------------------


@dataclass
class CustomerRow:
    """A customer or prospect; ``index`` is its position in ``DemoPlan.customers``."""

    index: int
    external_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    birth_date: dt.date
    gender: str
    postcode: str
    latitude: Decimal
    longitude: Decimal
    home_store: str
    loyalty_card: str
    preferred_channel: str
    preferred_channel_source: str
    acquisition_source: str
    is_prospect: bool
    became_customer_at: dt.datetime | None = None
    # When the business first knew them: first purchase or first consent.
    created_at: dt.datetime | None = None


@dataclass
class LineRow:
    """One order line; ``returned_quantity`` is the sum of its returns' quantities."""

    sku: str
    quantity: int
    unit_price: Decimal
    returned_quantity: int = 0


@dataclass
class OrderRow:
    """An order; ``customer`` is a customer index or None for an anonymous till."""

    number: str
    customer: int | None
    store: str
    channel: str
    placed_at: dt.datetime
    cancelled: bool = False
    lines: list[LineRow] = field(default_factory=list)


@dataclass(frozen=True)
class ReturnRow:
    """A return (or cancellation) of part of one line, by order and line position."""

    order: int
    line: int
    kind: str
    quantity: int
    reason: str
    reference: str
    returned_at: dt.datetime


@dataclass(frozen=True)
class ConsentRow:
    """Current consent on one channel, with the evidence events behind it."""

    customer: int
    channel: str
    granted: bool
    legal_basis: str
    source: str
    changed_at: dt.datetime
    events: tuple[tuple[str, str, dt.datetime], ...]  # (action, source, when)


@dataclass(frozen=True)
class InteractionRow:
    """One logged touch point."""

    customer: int
    kind: str
    channel: str
    sku: str | None
    staff: str | None
    store: str | None
    occurred_at: dt.datetime
    outcome: str
    notes: str
    data: dict


@dataclass
class DemoPlan:
    """Everything the writer inserts, computed in memory first."""

    customers: list[CustomerRow]
    orders: list[OrderRow]
    returns: list[ReturnRow]
    consents: list[ConsentRow]
    interactions: list[InteractionRow]


# --- Helpers ------------------------------------------------------------------


def pick(rng: random.Random, items: Sequence):
    """One item, always consuming exactly one draw (see the module docstring)."""
    return items[min(int(rng.random() * len(items)), len(items) - 1)]


def weighted(rng: random.Random, weights: Sequence[tuple[object, float]]):
    """One key by weight, consuming exactly one draw."""
    total = sum(weight for _, weight in weights)
    target = rng.random() * total
    for key, weight in weights:
        target -= weight
        if target < 0:
            return key
    return weights[-1][0]


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def season_of(day: dt.date, draw: float) -> str:
    """The clothing season on sale that day; March and September go either way."""
    if day.month in (4, 5, 6, 7, 8):
        return cat.SPRING_SUMMER
    if day.month in (3, 9):
        return cat.SPRING_SUMMER if draw < 0.5 else cat.AUTUMN_WINTER
    return cat.AUTUMN_WINTER


class Clock:
    """Turns (days ago, minute of the shop day) into aware datetimes before now."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        local_now = now.astimezone(LOCAL_TZ)
        self.today = local_now.date()

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def at(self, days_ago: int, draw: float) -> dt.datetime:
        """A moment during opening hours (9:00-20:00 local) ``days_ago`` days ago."""
        minute = int(draw * 11 * 60)
        local = dt.datetime.combine(
            self.day(days_ago), dt.time(9 + minute // 60, minute % 60), LOCAL_TZ
        )
        moment = local.astimezone(dt.UTC)
        # Today's shop hours may lie ahead: such orders happened a little earlier.
        return min(moment, self.now - dt.timedelta(minutes=5 + minute % 50))

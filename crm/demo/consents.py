"""Demo marketing consents with their evidence events (pure)."""

from __future__ import annotations

import datetime as dt
import random

from .rows import CONSENT_RATES, WITHDRAWN_RATE, ConsentRow, CustomerRow

# --- Consents -----------------------------------------------------------------


def build_consents(
    *, rng: random.Random, customers: list[CustomerRow], now: dt.datetime
) -> list[ConsentRow]:
    """Consents per channel with their evidence (every row has at least one event).

    Buyers gave consent in store or on the web around their first purchase;
    marketing-database prospects arrived with imported e-mail consent.
    """
    rows: list[ConsentRow] = []
    for customer in customers:
        start = customer.became_customer_at or now - dt.timedelta(
            days=30 + int(rng.random() * 600)
        )
        for channel, rate in CONSENT_RATES.items():
            draw, delay_draw, withdraw_draw = rng.random(), rng.random(), rng.random()
            imported = (
                customer.acquisition_source == "marketing_db" and channel == "email"
            )
            if customer.is_prospect:
                source = (
                    "import" if customer.acquisition_source == "marketing_db" else "web"
                )
            else:
                source = "store" if customer.acquisition_source == "store" else "web"
            if imported:
                draw = 0.0  # the marketing database only holds opted-in contacts
            if draw >= rate + WITHDRAWN_RATE:
                continue
            granted_at = min(start + dt.timedelta(minutes=int(delay_draw * 30)), now)
            events = [("granted", source, granted_at)]
            granted = draw < rate
            if not granted:
                remaining = max((now - granted_at).days, 1)
                withdrawn_at = granted_at + dt.timedelta(
                    days=1 + int(withdraw_draw * remaining), minutes=1
                )
                withdrawn_at = min(withdrawn_at, now)
                events.append(("withdrawn", "web", withdrawn_at))
            rows.append(
                ConsentRow(
                    customer=customer.index,
                    channel=channel,
                    granted=granted,
                    legal_basis="consent",
                    source=events[-1][1],
                    changed_at=events[-1][2],
                    events=tuple(events),
                )
            )
    return rows

"""Demo customers and prospects: names, contacts, places (pure, no database)."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from . import catalogue as cat
from .people import (
    EMAIL_DOMAINS,
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    OTHER_FIRST_NAMES,
    ascii_slug,
)
from .rows import (
    LOYALTY_SHARE,
    MICRO_DEGREE,
    PARTNER_SOURCES,
    PROSPECT_SHARE,
    Clock,
    CustomerRow,
    pick,
    weighted,
)

# --- Customers ----------------------------------------------------------------


def build_customers(
    *, rng: random.Random, count: int, now: dt.datetime
) -> list[CustomerRow]:
    """``count`` customers, about 8 % of them prospects, spread over the stores."""
    clock = Clock(now)
    stores = [(spec, spec.customer_share) for spec in cat.STORES]
    prospect_count = round(count * PROSPECT_SHARE)
    # Prospects are spread evenly through the list rather than all at the end.
    prospect_every = count / prospect_count if prospect_count else math.inf
    prospect_indices = {int(k * prospect_every) for k in range(prospect_count)}
    rows: list[CustomerRow] = []
    for index in range(count):
        store = weighted(rng, stores)
        gender = weighted(rng, (("F", 0.49), ("M", 0.47), ("X", 0.02), ("", 0.02)))
        names = {"F": FEMALE_FIRST_NAMES, "M": MALE_FIRST_NAMES}.get(
            gender, OTHER_FIRST_NAMES
        )
        first_name = pick(rng, names)
        last_name = pick(rng, LAST_NAMES)
        domain = pick(rng, EMAIL_DOMAINS)
        email = f"{ascii_slug(first_name)}.{ascii_slug(last_name)}{index + 1}@{domain}"
        # Italian mobile numbers: +39 3xx xxxxxxx, unique through the index.
        phone = f"+393{pick(rng, '1234689')}{index + 1:08d}"
        age_days = int((18 + rng.random() * 67) * 365.25)
        birth_date = clock.today - dt.timedelta(days=age_days)
        low, high = store.postcode_range
        postcode = str(low + int(rng.random() * (high - low + 1)))
        # Scattered around the home store: about 6 km on average, some farther out.
        radius = abs(rng.gauss(0, 0.06))
        angle = rng.random() * 2 * math.pi
        latitude = store.latitude + Decimal(radius * math.sin(angle))
        longitude = store.longitude + Decimal(radius * math.cos(angle) * 1.4)
        has_card = rng.random() < LOYALTY_SHARE
        channel_draw = rng.random()
        preferred = weighted(
            rng, (("email", 0.40), ("sms", 0.20), ("phone", 0.15), ("in_store", 0.25))
        )
        is_prospect = index in prospect_indices
        source_draw = rng.random()
        if is_prospect:
            acquisition = (
                "marketing_db"
                if source_draw < 0.7
                else PARTNER_SOURCES[int(source_draw * 10) % 2]
            )
            has_card = False
        else:
            acquisition = "store" if source_draw < 0.75 else "web"
        rows.append(
            CustomerRow(
                index=index,
                external_id=f"DEMO-{index + 1:05d}",
                first_name=first_name,
                last_name=last_name,
                email=email,
                phone=phone,
                birth_date=birth_date,
                gender=gender,
                postcode=postcode,
                latitude=latitude.quantize(MICRO_DEGREE),
                longitude=longitude.quantize(MICRO_DEGREE),
                home_store=store.code,
                loyalty_card=f"27{index + 1:08d}" if has_card else "",
                preferred_channel=preferred if channel_draw < 0.6 else "",
                preferred_channel_source="declared" if channel_draw < 0.6 else "",
                acquisition_source=acquisition,
                is_prospect=is_prospect,
            )
        )
    return rows

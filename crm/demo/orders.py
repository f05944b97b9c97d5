"""Two years of demo orders, with co-purchases, ladder journeys and returns (pure)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from decimal import Decimal

from . import catalogue as cat
from .rows import (
    ANONYMOUS_ORDER_SHARE,
    HEAVY_RETURNER_SHARE,
    HISTORY_DAYS,
    Clock,
    CustomerRow,
    LineRow,
    OrderRow,
    ReturnRow,
    money,
    pick,
    season_of,
    weighted,
)

# --- Baskets ------------------------------------------------------------------

# (sku, probability) add-ons drawn with one draw each, whatever the outcome.
LAPTOP_ADD_ONS = (
    (cat.LAPTOP_CASE, 0.55),
    (cat.MOUSE, 0.50),
    (cat.EXTENDED_WARRANTY, 0.35),
    ("EL-SRV-SETUP", 0.15),
    ("EL-ACC-HUB", 0.12),
)
# Seasonal main items and their add-ons: both seasons have the same shape.
SEASON_MAINS = {
    cat.SPRING_SUMMER: (
        "AB-EST-COSTUME-D",
        "AB-EST-COSTUME-U",
        "AB-EST-BIKINI",
        "AB-EST-ABITO",
        "AB-EST-BERMUDA",
        "AB-EST-POLO",
        "AB-EST-SANDALI",
    ),
    cat.AUTUMN_WINTER: (
        "AB-INV-CAPPOTTO-D",
        "AB-INV-CAPPOTTO-U",
        "AB-INV-PIUMINO",
        "AB-INV-CAPPOTTO-U",
        "AB-INV-DOLCEVITA",
        "AB-INV-STIVALI",
        "AB-INV-PIUMINO",
    ),
}
# Position k has the same chance in both seasons, so a basket's size never
# depends on the date.
SEASON_ADD_ONS = {
    cat.SPRING_SUMMER: (
        ("AB-EST-TELO", 0.45),
        ("AB-EST-OCCHIALI", 0.40),
        ("AB-EST-INFRADITO", 0.25),
        ("AB-EST-CAPPELLO", 0.15),
    ),
    cat.AUTUMN_WINTER: (
        ("AB-INV-SCIARPA", 0.45),
        ("AB-INV-GUANTI", 0.40),
        ("AB-INV-BERRETTO", 0.25),
        ("AB-INV-OMBRELLO", 0.15),
    ),
}
SEASON_EXTRAS = {  # a third item for anonymous tills and small baskets
    cat.SPRING_SUMMER: ("AB-EST-OCCHIALI", "AB-EST-INFRADITO", "AB-EST-BORSA"),
    cat.AUTUMN_WINTER: ("AB-INV-SCIARPA", "AB-INV-BERRETTO", "AB-INV-PIGIAMA"),
}
ACCESSORIES = (
    "EL-ACC-CUFFIE",
    "EL-ACC-AURICOLARI",
    "EL-ACC-TASTIERA",
    "EL-ACC-MONITOR",
    "EL-ACC-SSD",
    "EL-ACC-CARICATORE",
    "EL-ACC-CAVO",
    "EL-ACC-WEBCAM",
    "EL-ACC-POWERBANK",
    "EL-ACC-PELLICOLA",
    "EL-ACC-SPEAKER",
    "EL-ACC-PULIZIA",
    "EL-ACC-MOUSE-PRO",
    "EL-ACC-ZAINO",
)
OTHER_LAPTOPS = ("EL-LAP-ULTRA", "EL-LAP-STUDIO", "EL-LAP-CHROME", "EL-TAB-10")
ELECTRONIC_SERVICES = (
    "EL-SRV-ASSIST",
    "EL-SRV-PULIZIA",
    "EL-SRV-CLOUD",
    "EL-SRV-SETUP",
)
OTHER_BASICS = tuple(
    s for s in cat.CLOTHING_BASICS_FAMILY if s != cat.CLOTHING_BASIC
) + (
    "AB-BAS-CALZE",
    "AB-BAS-INTIMO",
    "AB-BAS-CANOTTA",
    "AB-ACC-CINTURA",
)
OTHER_PREMIUM = tuple(
    s for s in cat.CLOTHING_PREMIUM_FAMILY if s != cat.CLOTHING_PREMIUM
) + (
    "AB-PRE-FOULARD",
    "AB-PRE-BORSA",
)
OTHER_HAIR = ("SA-PIEGA", "SA-COLORE", "SA-MECHES", "SA-TRATTAMENTO", "SA-ACCONCIATURA")
CARE_PRODUCTS = (
    "SA-CURA-SHAMPOO",
    "SA-CURA-BALSAMO",
    "SA-CURA-MASCHERA",
    "SA-CURA-OLIO-BARBA",
    "SA-CURA-CERA",
    "SA-CURA-SPRAY",
    "SA-CURA-PHON",
    "SA-CURA-SPAZZOLA",
)
TILL_ITEMS = (
    "EL-ACC-CAVO",
    "EL-ACC-PELLICOLA",
    "EL-ACC-CARICATORE",
    "AB-BAS-TSHIRT",
    "AB-BAS-CALZE",
    "AB-BAS-INTIMO",
    "SA-CURA-SHAMPOO",
    "SA-CURA-CERA",
    "SA-PIEGA",
    cat.CUT_SHAMPOO,
    cat.MOUSE,
    "SEASONAL",  # replaced by the season's small extra
)


class _OrderBook:
    """Collects one customer's orders as (days ago, store, channel, lines)."""

    def __init__(self, rng: random.Random, clock: Clock) -> None:
        self.rng = rng
        self.clock = clock
        self.orders: list[tuple[int, str, str, list[tuple[str, int]]]] = []

    def add(
        self, days_ago: int, store: str, channel: str, items: list[tuple[str, int]]
    ):
        self.orders.append((max(days_ago, 0), store, channel, items))

    def add_ons(self, table: Sequence[tuple[str, float]]) -> list[tuple[str, int]]:
        return [(sku, 1) for sku, chance in table if self.rng.random() < chance]

    def seasonal_basket(self, days_ago: int) -> list[tuple[str, int]]:
        """A clothing basket of the season on sale that day, with its add-ons."""
        season = season_of(self.clock.day(days_ago), self.rng.random())
        main = pick(self.rng, SEASON_MAINS[season])
        draws = [self.rng.random() for _ in SEASON_ADD_ONS[season]]
        extras = [
            (sku, 1)
            for (sku, chance), draw in zip(SEASON_ADD_ONS[season], draws, strict=True)
            if draw < chance
        ]
        return [(main, 1), *extras]


def _customer_orders(
    *,
    rng: random.Random,
    clock: Clock,
    customer: CustomerRow,
    heavy_returner: bool,
) -> list[tuple[int, str, str, list[tuple[str, int]]]]:
    """One customer's two years: ladder journeys, seasonal clothing, fillers."""
    book = _OrderBook(rng, clock)
    other_stores = [code for code in cat.STORE_CODES if code != customer.home_store]

    def store() -> str:
        draw = rng.random()
        return customer.home_store if draw < 0.85 else other_stores[int(draw * 100) % 2]

    def channel(web_share: float) -> str:
        return "web" if rng.random() < web_share else "in_store"

    # Long-standing customers buy across the whole window; newer ones recently.
    tenure = HISTORY_DAYS - 1 if rng.random() < 0.65 else 30 + int(rng.random() * 690)

    def day(limit: int = tenure) -> int:
        return int(rng.random() * (limit + 1))

    interests = [rng.random() < 0.45, rng.random() < 0.75, rng.random() < 0.40]
    if not any(interests):
        interests[1] = True
    electronics, clothing, salon = interests
    male = customer.gender == "M"

    if electronics:
        path = weighted(
            rng, (("basic", 0.40), ("climber", 0.20), ("pro", 0.15), ("other", 0.25))
        )
        gap = 60 + int(rng.random() * 240)  # pro bought 2-10 months after basic
        first = min(tenure, gap + day(max(tenure - gap, 0)))
        if path in ("basic", "climber"):
            book.add(
                first,
                store(),
                channel(0.2),
                [(cat.LAPTOP_BASIC, 1)] + book.add_ons(LAPTOP_ADD_ONS),
            )
        if path == "climber":
            book.add(
                first - gap,
                store(),
                channel(0.2),
                [(cat.LAPTOP_PRO, 1)] + book.add_ons(LAPTOP_ADD_ONS),
            )
        if path == "pro":
            book.add(
                first,
                store(),
                channel(0.2),
                [(cat.LAPTOP_PRO, 1)] + book.add_ons(LAPTOP_ADD_ONS),
            )
        if path == "other":
            book.add(
                first,
                store(),
                channel(0.3),
                [(pick(rng, OTHER_LAPTOPS), 1)] + book.add_ons(LAPTOP_ADD_ONS[1:3]),
            )
        for _ in range(int(rng.random() * 4)):
            items = [(pick(rng, ACCESSORIES), 1 + int(rng.random() < 0.1))]
            if rng.random() < 0.25:
                items.append((pick(rng, ELECTRONIC_SERVICES), 1))
            book.add(day(), store(), channel(0.3), items)

    if clothing:
        path = weighted(rng, (("basic", 0.55), ("climber", 0.30), ("premium", 0.15)))
        gap = 45 + int(rng.random() * 300)
        first = min(tenure, gap + day(max(tenure - gap, 0)))
        basic = cat.CLOTHING_BASIC if rng.random() < 0.6 else pick(rng, OTHER_BASICS)
        premium = (
            cat.CLOTHING_PREMIUM if rng.random() < 0.5 else pick(rng, OTHER_PREMIUM)
        )
        if path in ("basic", "climber"):
            items = [(basic, 1 + int(rng.random() * 2))]
            if rng.random() < 0.4:
                items.append((pick(rng, OTHER_BASICS), 1 + int(rng.random() * 3)))
            book.add(first, store(), channel(0.15), items)
            for _ in range(int(rng.random() * 3)):  # basics are bought again
                book.add(
                    day(),
                    store(),
                    channel(0.15),
                    [(pick(rng, OTHER_BASICS), 1 + int(rng.random() * 3))],
                )
        if path == "climber":
            items = [(premium, 1)] + book.add_ons((("AB-ACC-CINTURA", 0.2),))
            book.add(first - gap, store(), channel(0.15), items)
        if path == "premium":
            book.add(
                first,
                store(),
                channel(0.15),
                [(premium, 1), (pick(rng, OTHER_PREMIUM), 1)],
            )
        seasonal = int(rng.random() * 4) + (2 if heavy_returner else 0)
        for _ in range(seasonal):
            when = day()
            book.add(when, store(), channel(0.2), book.seasonal_basket(when))

    if salon:
        path = weighted(
            rng,
            (("cut", 0.45), ("subscriber", 0.30), ("premium", 0.12), ("other", 0.13)),
        )
        beard_chance = 0.45 if male else 0.0
        cuts = 1 + int(rng.random() * 5)
        start = day()
        if path in ("subscriber", "premium"):
            # Room for a few cuts, then months of subscription after them.
            start = min(tenure, 150 + day(max(tenure - 150, 0)))
        # Visits every 4-8 weeks, going back in time from the latest.
        for visit in range(cuts):
            when = start + visit * (28 + int(rng.random() * 28))
            service = cat.CUT_SHAMPOO if path != "other" else pick(rng, OTHER_HAIR)
            items = [(service, 1)] + book.add_ons(
                ((cat.BEARD_TRIM, beard_chance), ("SA-CURA-SHAMPOO", 0.2))
            )
            book.add(min(when, tenure), store(), "in_store", items)
        if path in ("subscriber", "premium"):
            months = 3 + int(rng.random() * 10)
            sub_start = max(start - 20 - int(rng.random() * 40), 0)
            upgrade_after = 2 + int(rng.random() * 4)  # premium subscribers upgrade
            for month in range(months):
                when = sub_start - month * 30
                if when < 0:
                    break
                sku = cat.CUT_SUBSCRIPTION
                if path == "premium" and month >= upgrade_after:
                    sku = cat.PREMIUM_CARE_SUBSCRIPTION
                book.add(
                    when,
                    customer.home_store,
                    "web" if month else "in_store",
                    [(sku, 1)],
                )
        for _ in range(int(rng.random() * 3)):
            book.add(
                day(),
                store(),
                "in_store",
                [(pick(rng, CARE_PRODUCTS), 1 + int(rng.random() < 0.3))],
            )

    return book.orders


def _till_orders(
    *, rng: random.Random, clock: Clock, count: int
) -> list[tuple[int, str, str, list[tuple[str, int]]]]:
    """Anonymous till receipts: small baskets, no customer."""
    stores = [(spec.code, spec.customer_share) for spec in cat.STORES]
    orders = []
    for _ in range(count):
        when = int(rng.random() * HISTORY_DAYS)
        store = weighted(rng, stores)
        season = season_of(clock.day(when), rng.random())
        items: list[tuple[str, int]] = []
        for _ in range(1 + int(rng.random() * 3)):
            sku = pick(rng, TILL_ITEMS)
            if sku == "SEASONAL":
                sku = pick(rng, SEASON_EXTRAS[season])
            if all(existing != sku for existing, _ in items):
                items.append((sku, 1))
        orders.append((when, store, "in_store", items))
    return orders


# --- Orders and returns -------------------------------------------------------

RETURN_REASONS = (
    "Taglia sbagliata",
    "Non corrisponde alla descrizione",
    "Difettoso",
    "Cambiato idea",
    "Colore diverso dalla foto",
    "Arrivato in ritardo",
)


def _unit_price(sku: str, day: dt.date, loyal: bool, draw: float) -> Decimal:
    """List price, less the January/July sales on seasonal clothing and a rare
    loyalty discount."""
    spec = cat.PRODUCTS_BY_SKU[sku]
    price = spec.price
    if spec.season != cat.ALL_YEAR and day.month in (1, 7):
        price = price * Decimal("0.70")
    elif loyal and spec.kind == cat.PRODUCT and draw < 0.08:
        price = price * Decimal("0.90")
    return money(price)


def build_orders(
    *, rng: random.Random, customers: list[CustomerRow], now: dt.datetime
) -> tuple[list[OrderRow], list[ReturnRow]]:
    """Two years of orders ending ``now``, plus returns and cancellations.

    Side effect on ``customers``: ``became_customer_at`` is set to each buyer's
    first placed order. Returns are concentrated: about 5 % of buyers return
    40-60 % of their goods, everyone else about 2 %.
    """
    clock = Clock(now)
    buyers = [c for c in customers if not c.is_prospect]
    heavy_count = max(1, round(len(buyers) * HEAVY_RETURNER_SHARE)) if buyers else 0
    heavy = {c.index for c in rng.sample(buyers, heavy_count)} if buyers else set()

    raw: list[tuple[int, float, str, str, list[tuple[str, int]], int | None]] = []
    for customer in buyers:
        for days_ago, store, channel, items in _customer_orders(
            rng=rng,
            clock=clock,
            customer=customer,
            heavy_returner=customer.index in heavy,
        ):
            raw.append((days_ago, rng.random(), store, channel, items, customer.index))
    till_count = round(len(raw) * ANONYMOUS_ORDER_SHARE / (1 - ANONYMOUS_ORDER_SHARE))
    for days_ago, store, channel, items in _till_orders(
        rng=rng, clock=clock, count=till_count
    ):
        raw.append((days_ago, rng.random(), store, channel, items, None))

    # Numbered in date order, oldest first, like a real invoice sequence.
    raw.sort(key=lambda row: (-row[0], row[1], row[5] if row[5] is not None else -1))
    orders: list[OrderRow] = []
    returns: list[ReturnRow] = []
    seen: set[int] = set()
    for number, (days_ago, minute_draw, store, channel, items, owner) in enumerate(
        raw, 1
    ):
        placed_at = clock.at(days_ago, minute_draw)
        order = OrderRow(
            number=f"DEMO-{number:07d}",
            customer=owner,
            store=store,
            channel=channel,
            placed_at=placed_at,
        )
        loyal = owner is not None and bool(customers[owner].loyalty_card)
        for sku, quantity in items:
            price = _unit_price(sku, clock.day(days_ago), loyal, rng.random())
            order.lines.append(LineRow(sku=sku, quantity=quantity, unit_price=price))
        first_order = owner is not None and owner not in seen
        if owner is not None:
            seen.add(owner)
        # A few whole orders cancelled (never a customer's first one).
        order.cancelled = not first_order and rng.random() < 0.006
        order_index = len(orders)
        orders.append(order)
        return_rate = 0.4 + 0.2 * rng.random() if owner in heavy else 0.02
        for line_index, line in enumerate(order.lines):
            draw, quantity_draw, day_draw = rng.random(), rng.random(), rng.random()
            spec = cat.PRODUCTS_BY_SKU[line.sku]
            if order.cancelled:
                continue
            reference = f"R{order.number[5:]}-{line_index + 1}"
            if spec.returnable and draw < return_rate:
                quantity = 1 + int(quantity_draw * line.quantity)
                returned_at = min(
                    placed_at + dt.timedelta(days=1 + int(day_draw * 27), hours=2),
                    now - dt.timedelta(minutes=1),
                )
                returns.append(
                    ReturnRow(
                        order=order_index,
                        line=line_index,
                        kind="return",
                        quantity=quantity,
                        reason=pick(rng, RETURN_REASONS),
                        reference=reference,
                        returned_at=max(returned_at, placed_at),
                    )
                )
                line.returned_quantity += quantity
            elif draw > 0.996:
                # A line cancelled at the till or before delivery: a credit note.
                returns.append(
                    ReturnRow(
                        order=order_index,
                        line=line_index,
                        kind="cancellation",
                        quantity=line.quantity,
                        reason="Annullato su richiesta del cliente",
                        reference=reference,
                        returned_at=min(placed_at + dt.timedelta(hours=1), now),
                    )
                )
                line.returned_quantity = line.quantity
    for order in orders:
        if order.customer is None or order.cancelled:
            continue
        customer = customers[order.customer]
        if (
            customer.became_customer_at is None
            or order.placed_at < customer.became_customer_at
        ):
            customer.became_customer_at = order.placed_at
    return orders, returns

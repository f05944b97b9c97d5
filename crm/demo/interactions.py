"""Demo calls, visits, notes and offers logged by staff (pure)."""

from __future__ import annotations

import datetime as dt
import random

from . import catalogue as cat
from .rows import (
    CLERK_USERS,
    INTERACTION_CUSTOMER_SHARE,
    MANAGER_USER,
    SALES_USER,
    CustomerRow,
    InteractionRow,
    OrderRow,
    pick,
    weighted,
)

# --- Interactions -------------------------------------------------------------

CALL_NOTES = (
    "Chiede informazioni sui tempi di consegna.",
    "Interessata alle novità della Linea Premium.",
    "Richiamare dopo le 18.",
    "Chiede se il laptop è compatibile con la docking station dell'ufficio.",
    "Soddisfatto dell'ultimo acquisto.",
    "Vuole sapere quando iniziano i saldi.",
)
NOTES = (
    "Preferisce essere contattato via e-mail.",
    "Cliente abituale del salone del sabato mattina.",
    "Ha segnalato un problema con un reso: risolto.",
    "Regalo per il compleanno della moglie a marzo.",
    "Allergica ad alcuni prodotti per capelli: usare linea delicata.",
)
NEXT_STEP = {
    cat.LAPTOP_BASIC: cat.LAPTOP_PRO,
    cat.CUT_SHAMPOO: cat.CUT_SUBSCRIPTION,
    cat.CUT_SUBSCRIPTION: cat.PREMIUM_CARE_SUBSCRIPTION,
    cat.CLOTHING_BASIC: cat.CLOTHING_PREMIUM,
}
OFFER_FALLBACKS = (cat.EXTENDED_WARRANTY, cat.BEARD_TRIM, cat.LAPTOP_CASE, cat.MOUSE)


def build_interactions(
    *,
    rng: random.Random,
    customers: list[CustomerRow],
    orders: list[OrderRow],
    now: dt.datetime,
) -> list[InteractionRow]:
    """A few calls, visits, notes and offers for about 30 % of customers.

    Offers are for the next ladder step of something the customer bought (or a
    complement), logged by the clerk of their home store or by sales.
    """
    bought: dict[int, set[str]] = {}
    for order in orders:
        if order.customer is not None and not order.cancelled:
            bought.setdefault(order.customer, set()).update(
                line.sku for line in order.lines
            )
    kinds = (
        ("call", 0.22),
        ("visit", 0.18),
        ("note", 0.12),
        ("email", 0.10),
        ("offer_shown", 0.16),
        ("offer_accepted", 0.10),
        ("offer_declined", 0.12),
    )
    rows: list[InteractionRow] = []
    for customer in customers:
        if rng.random() >= INTERACTION_CUSTOMER_SHARE:
            continue
        owned = bought.get(customer.index, set())
        offers = sorted(NEXT_STEP[sku] for sku in owned if sku in NEXT_STEP) or list(
            OFFER_FALLBACKS
        )
        clerk = CLERK_USERS[customer.home_store]
        for _ in range(1 + int(rng.random() * 4)):
            kind = weighted(rng, kinds)
            draw, text_draw = rng.random(), rng.random()
            occurred_at = now - dt.timedelta(
                minutes=10 + int(rng.random() * 365 * 24 * 60)
            )
            sku: str | None = None
            store: str | None = None
            outcome = ""
            notes = ""
            data: dict = {}
            if kind == "call":
                channel, staff = "phone", SALES_USER if draw < 0.8 else MANAGER_USER
                outcome = pick(rng, ("reached", "no_answer", "interested", "follow_up"))
                notes = CALL_NOTES[int(text_draw * len(CALL_NOTES))]
            elif kind == "visit":
                channel, staff, store = "in_store", clerk, customer.home_store
                notes = "Passato in negozio." if draw < 0.5 else ""
            elif kind == "note":
                channel, staff = "", SALES_USER if draw < 0.5 else clerk
                notes = NOTES[int(text_draw * len(NOTES))]
            elif kind == "email":
                channel, staff = "email", SALES_USER
                notes = (
                    "Inviata conferma appuntamento."
                    if draw < 0.5
                    else "Risposta a richiesta."
                )
            else:
                in_store = draw < 0.6
                channel = "in_store" if in_store else "phone"
                staff = clerk if in_store else SALES_USER
                store = customer.home_store if in_store else None
                sku = offers[int(text_draw * len(offers))]
                outcome = {
                    "offer_shown": "",
                    "offer_accepted": "interested",
                    "offer_declined": "not_interested",
                }[kind]
                data = {"source": "demo"}
            rows.append(
                InteractionRow(
                    customer=customer.index,
                    kind=kind,
                    channel=channel,
                    sku=sku,
                    staff=staff,
                    store=store,
                    occurred_at=occurred_at,
                    outcome=outcome,
                    notes=notes,
                    data=data,
                )
            )
    return rows

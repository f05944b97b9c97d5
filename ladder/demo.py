"""Demo ladders drawn from the demo shop's departments (see ``crm.demo``).

``build_demo_ladders`` is called by the demo command after the shop is
built: it creates the three ladders from the stable SKU constants of
``crm.demo.catalogue`` through the services (so the rules are checked and the
ladders published), then recomputes every customer's position.
"""

from __future__ import annotations

from typing import TextIO

from django.db import transaction

from crm.demo.catalogue import (
    CLOTHING_BASICS_FAMILY,
    CLOTHING_PREMIUM_FAMILY,
    DEMO_LADDERS,
)
from crm.models import Product
from ladder import services
from ladder.models import Ladder

DESCRIPTIONS = {
    "laptop": "Entry laptop to the pro model; cases, mice and the extended warranty "
    "go with either.",
    "salon": "Cut and shampoo, then the monthly cut subscription, then premium care; "
    "a beard trim is the cross-sell.",
    "clothing": "Seasonal basics to the premium line; any basic or premium garment "
    "counts for its step.",
}
# Products that also place a customer on a step (product families).
ALSO_COUNTS = {
    "clothing": (CLOTHING_BASICS_FAMILY, CLOTHING_PREMIUM_FAMILY),
}


@transaction.atomic
def build_demo_ladders(*, stdout: TextIO | None = None) -> list[Ladder]:
    """Create and publish the demo ladders, then recompute all positions.

    Idempotent: a ladder whose name already exists is left as it is. Needs the
    demo catalogue (``manage.py demo``); missing SKUs are reported and that
    ladder is skipped.
    """

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    wanted = {
        sku for spec in DEMO_LADDERS for sku in (*spec.step_skus, *spec.cross_sell_skus)
    } | {
        sku
        for families in ALSO_COUNTS.values()
        for family in families
        for sku in family
    }
    products = {p.sku: p for p in Product.objects.filter(sku__in=wanted)}
    ladders = []
    for spec in DEMO_LADDERS:
        existing = Ladder.objects.filter(name=spec.name).first()
        if existing is not None:
            say(f"Ladder “{spec.name}” already exists: kept.")
            ladders.append(existing)
            continue
        missing = [
            sku
            for sku in (*spec.step_skus, *spec.cross_sell_skus)
            if sku not in products
        ]
        if missing:
            say(f"Ladder “{spec.name}” skipped: missing SKUs {', '.join(missing)}.")
            continue
        ladder = services.create_ladder(
            name=spec.name, description=DESCRIPTIONS.get(spec.key, "")
        )
        families = ALSO_COUNTS.get(spec.key, ())
        for index, sku in enumerate(spec.step_skus):
            step = services.add_step(ladder=ladder, product=products[sku])
            for complement in spec.cross_sell_skus:
                services.add_step_offer(step=step, product=products[complement])
            if index < len(families):
                services.update_step(
                    step=step,
                    also_counts=[products[s] for s in families[index] if s in products],
                )
        services.update_ladder(ladder=ladder, active=True)
        say(f"Ladder “{spec.name}” created with {len(spec.step_skus)} steps.")
        ladders.append(ladder)
    result = services.recompute_all_positions()
    say(
        f"Ladder positions: {result.positions} for {result.customers} customers "
        f"in {result.seconds:.1f}s."
    )
    return ladders


@transaction.atomic
def delete_demo_ladders(*, stdout: TextIO | None = None) -> int:
    """Delete the demo ladders (steps, offers, positions cascade); returns how many.

    Call before ``crm.demo.build_demo(reset=True)``: steps and offers protect
    the demo products they sell, so the shop's reset would otherwise be blocked.
    """
    deleted = 0
    for ladder in Ladder.objects.filter(name__in=[spec.name for spec in DEMO_LADDERS]):
        services.delete_ladder(ladder=ladder)
        deleted += 1
    if stdout is not None:
        stdout.write(f"Deleted {deleted} demo ladders.\n")
    return deleted

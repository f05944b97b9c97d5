"""Demo campaigns: three past campaigns with results worth reading.

``build_demo_campaigns`` runs after the shop, the ladders and the first
suggestion run (see ``CampaignsConfig.demo_build``). Segments and
campaigns go through the services (so definitions are validated and the
audiences are frozen with the real split), then the customers' responses
are simulated with a seeded generator and written as ordinary orders
(numbers ``DEMO-CMP…``, so the shop's own reset deletes them):

1. *Salon subscription upsell* (e-mail, A/B, 10 % off): B wins, profitable.
2. *Bologna open day* (SMS, drive to store, an influencer's partner code):
   a modest but real uplift.
3. *Premium knitwear weekend* (e-mail, 30 % off) sent to frequent seasonal
   clothing buyers, with no return-rate limit. Heavy returners answered
   best and sent most of it back: more conversions than the control group,
   yet it lost money.

Nothing is sent: the campaigns are recorded as done in the past. When the
sending helper provides ``campaigns.sending.demo.record_demo_sends``, it is
called to record their (past) sends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

import numpy as np
from django.apps import apps
from django.db import transaction
from django.db.models import FloatField, Sum
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.module_loading import import_string

from campaigns import services
from campaigns.models import (
    AudienceMember,
    Campaign,
    CampaignResult,
    OfferCode,
    OfferRedemption,
    Segment,
)
from crm.demo import catalogue as cat
from crm.models import Category, Customer, Order, OrderLine, Product, Return, Store
from ladder.models import Step

SEED = 20240607
ORDER_PREFIX = "DEMO-CMP"
SEGMENTS = {
    "salon": "Salon: cut and shampoo, e-mail consent",
    "bologna": "Near Bologna, 25-60, SMS consent",
    "knitwear": "Frequent seasonal clothing buyers",
}
CAMPAIGNS = {
    "salon": "Salon subscription upsell",
    "bologna": "Bologna open day",
    "knitwear": "Premium knitwear weekend",
}
# Products a drive-to-store visitor buys (one to three of them).
VISIT_SKUS = (
    cat.MOUSE,
    cat.LAPTOP_CASE,
    cat.CLOTHING_BASIC,
    "AB-BAS-TSHIRT",
    "SA-PIEGA",
    cat.BEARD_TRIM,
)
HEAVY_RETURN_RATE = 0.25


@dataclass(frozen=True)
class Response:
    """How one group answers: chance to buy, and chance to return what it bought."""

    buy: float
    buy_heavy: float
    returns: float = 0.03
    returns_heavy: float = 0.75


def _say(stdout: TextIO | None, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")


def _return_rates() -> dict[int, float]:
    """Each demo buyer's share of units returned (one aggregate query)."""
    rows = (
        OrderLine.objects.filter(order__customer__isnull=False)
        .values("order__customer_id")
        .order_by()
        .annotate(
            bought=Cast(Sum("quantity"), FloatField()),
            returned=Cast(Sum("returned_quantity"), FloatField()),
        )
    )
    return {
        row["order__customer_id"]: row["returned"] / row["bought"]
        for row in rows
        if row["bought"]
    }


def _segment(key: str, definition: dict, description: str) -> Segment:
    return services.create_segment(
        name=SEGMENTS[key], definition=definition, description=description
    )


def _freeze_in_the_past(
    campaign: Campaign, *, launched_at: dt.datetime, days: int
) -> int:
    # A fixed seed per campaign, so the same shop always gets the same split.
    Campaign.objects.filter(pk=campaign.pk).update(audience_seed=SEED + days)
    size = services.freeze_audience(campaign=campaign, now=launched_at)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.DONE,
        launched_at=launched_at,
        finished_at=launched_at + dt.timedelta(hours=2),
        schedule_at=launched_at,
    )
    campaign.refresh_from_db()
    try:
        record = import_string("campaigns.sending.demo.record_demo_sends")
    except ImportError:
        record = None
    if record is not None:
        record(campaign)
    return size


class _OrderWriter:
    """Collects simulated orders, then writes them in bulk (orders, lines, returns)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.orders: list[Order] = []
        self.lines: list[list[tuple[Product, int, int]]] = []
        self.codes: dict[int, OfferCode] = {}
        self.count = 0

    def add(
        self,
        *,
        customer_id: int | None,
        store_id: int | None,
        placed_at: dt.datetime,
        lines: list[tuple[Product, int, int]],
        code: OfferCode | None = None,
    ) -> None:
        self.count += 1
        self.orders.append(
            Order(
                number=f"{ORDER_PREFIX}-{self.count:06d}",
                customer_id=customer_id,
                store_id=store_id,
                channel="in_store",
                placed_at=placed_at,
            )
        )
        self.lines.append(lines)
        if code is not None:
            self.codes[len(self.orders) - 1] = code

    def write(self) -> int:
        orders = Order.objects.bulk_create(self.orders, batch_size=2000)
        line_rows = []
        for order, lines in zip(orders, self.lines, strict=True):
            for number, (product, quantity, returned) in enumerate(lines, start=1):
                line_rows.append(
                    OrderLine(
                        order=order,
                        line_no=number,
                        product=product,
                        quantity=quantity,
                        unit_price=product.price,
                        returned_quantity=returned,
                    )
                )
        OrderLine.objects.bulk_create(line_rows, batch_size=2000)
        placed = {order.pk: order.placed_at for order in orders}
        Return.objects.bulk_create(
            (
                Return(
                    line=line,
                    quantity=line.returned_quantity,
                    reason="Demo: not as expected",
                    reference=f"{ORDER_PREFIX}-R{line.pk}",
                    returned_at=placed[line.order_id]
                    + dt.timedelta(days=int(self.rng.integers(3, 12))),
                )
                for line in line_rows
                if line.returned_quantity
            ),
            batch_size=2000,
        )
        OfferRedemption.objects.bulk_create(
            OfferRedemption(
                order=orders[i], offer_code=code, redeemed_at=orders[i].placed_at
            )
            for i, code in self.codes.items()
        )
        return len(orders)


def _simulate(
    campaign: Campaign,
    writer: _OrderWriter,
    *,
    treated: Response,
    control: Response,
    basket,
    heavy: set[int],
    store_of: dict[int, int | None],
    code: OfferCode | None = None,
) -> None:
    """Orders for the members who answer, inside the attribution window."""
    rng = writer.rng
    members = AudienceMember.objects.filter(campaign=campaign).values_list(
        "customer_id", "variant__label"
    )
    lift = {"A": 1.0, "B": 1.5}
    for customer_id, label in members.order_by("customer_id"):
        response = control if label is None else treated
        is_heavy = customer_id in heavy
        chance = response.buy_heavy if is_heavy else response.buy
        if label is not None:
            chance = min(1.0, chance * lift.get(label, 1.0))
        if rng.random() >= chance:
            continue
        back = response.returns_heavy if is_heavy else response.returns
        lines = []
        for product, quantity in basket(rng):
            returned = quantity if rng.random() < back else 0
            lines.append((product, quantity, returned))
        offset = dt.timedelta(
            days=float(rng.uniform(0.2, campaign.attribution_window_days - 0.5))
        )
        use_code = code is not None and label is not None and rng.random() < 0.3
        writer.add(
            customer_id=customer_id,
            store_id=campaign.store_id or store_of.get(customer_id),
            placed_at=campaign.launched_at + offset,
            lines=lines,
            code=code if use_code else None,
        )


@transaction.atomic
def build_demo_campaigns(
    *, stdout: TextIO | None = None, now: dt.datetime | None = None
) -> list[Campaign]:
    """Create the three demo campaigns with their past orders and results.

    Idempotent: when the first demo campaign exists, nothing is done. Needs
    the demo shop (``manage.py demo``): without its stores or products the
    campaigns are skipped with a message.
    """
    if Campaign.objects.filter(name__in=CAMPAIGNS.values()).exists():
        _say(stdout, "Demo campaigns already exist: kept.")
        return []
    products = {p.sku: p for p in Product.objects.filter(sku__in=cat.PRODUCTS_BY_SKU)}
    stores = {s.code: s for s in Store.objects.filter(code__in=cat.STORE_CODES)}
    if cat.CLOTHING_PREMIUM not in products or "BO01" not in stores:
        _say(stdout, "Demo campaigns skipped: build the demo shop first.")
        return []
    now = now or timezone.now()
    rng = np.random.default_rng(SEED)
    writer = _OrderWriter(rng)
    rates = _return_rates()
    heavy = {pk for pk, rate in rates.items() if rate >= HEAVY_RETURN_RATE}
    store_of = dict(Customer.objects.values_list("pk", "home_store_id"))
    created: list[Campaign] = []

    # 1. Salon: upsell the monthly subscription to cut-and-shampoo customers.
    subscription = Step.objects.filter(product__sku=cat.CUT_SUBSCRIPTION).first()
    first_step = Step.objects.filter(product__sku=cat.CUT_SHAMPOO).first()
    if subscription is not None and first_step is not None:
        segment = _segment(
            "salon",
            {
                "match": "all",
                "rules": [
                    {"field": "ladder_step", "state": "on", "step": first_step.pk},
                    {"field": "consent", "channel": "email"},
                ],
            },
            "Customers whose highest salon step is cut and shampoo.",
        )
        campaign = services.create_campaign(
            name=CAMPAIGNS["salon"],
            goal=Campaign.Goal.UPSELL,
            segment=segment,
            channel=Campaign.Channel.EMAIL,
            offer_step=subscription,
            discount_percent=Decimal("10"),
            control_share=Decimal("0.200"),
            attribution_window_days=21,
        )
        services.save_variant(
            campaign=campaign,
            label="A",
            name="Price",
            subject="{first_name}, your monthly cut for {discount} less",
            body="Dear {first_name}, switch to the {offer_name} at {store_name} "
            "and save {discount} on the first month.",
        )
        services.save_variant(
            campaign=campaign,
            label="B",
            name="Convenience",
            subject="Never book a haircut again, {first_name}",
            body="{first_name}, with the {offer_name} your chair at {store_name} "
            "is always waiting. First month {discount} off.",
        )
        if _freeze_in_the_past(
            campaign, launched_at=now - dt.timedelta(days=100), days=21
        ):
            offer = products[cat.CUT_SUBSCRIPTION]
            _simulate(
                campaign,
                writer,
                treated=Response(buy=0.08, buy_heavy=0.08),
                control=Response(buy=0.025, buy_heavy=0.025),
                basket=lambda rng, offer=offer: [(offer, 1)],
                heavy=set(),
                store_of=store_of,
            )
            created.append(campaign)

    # 2. Bologna: bring nearby customers into the store; an influencer helps.
    segment = _segment(
        "bologna",
        {
            "match": "all",
            "rules": [
                {"field": "distance", "store": stores["BO01"].pk, "max_km": 30},
                {"field": "age", "min": 25, "max": 60},
                {"field": "consent", "channel": "sms"},
                # Prospects are the acquisition campaigns' business; keeping
                # them out leaves the demo's prospects without orders.
                {"field": "prospect", "value": False},
            ],
        },
        "Customers within 30 km of the Bologna store, aged 25 to 60.",
    )
    campaign = services.create_campaign(
        name=CAMPAIGNS["bologna"],
        goal=Campaign.Goal.DRIVE_TO_STORE,
        segment=segment,
        channel=Campaign.Channel.SMS,
        store=stores["BO01"],
        control_share=Decimal("0.150"),
        attribution_window_days=14,
    )
    services.save_variant(
        campaign=campaign,
        label="A",
        body="{first_name}, open day at {store_name} this Saturday: "
        "coffee and previews. Code {offer_code}.",
    )
    code = services.create_offer_code(campaign=campaign, code="OPENDAY-BO")
    partner = services.create_partner_code(
        campaign=campaign, partner_name="Giulia (Instagram)", code="GIULIA-BO"
    )
    if _freeze_in_the_past(campaign, launched_at=now - dt.timedelta(days=45), days=14):
        visit = [products[sku] for sku in VISIT_SKUS if sku in products]

        def visit_basket(rng):
            picks = rng.choice(len(visit), size=int(rng.integers(1, 4)), replace=False)
            return [(visit[i], 1) for i in picks]

        _simulate(
            campaign,
            writer,
            treated=Response(buy=0.13, buy_heavy=0.13),
            control=Response(buy=0.08, buy_heavy=0.08),
            basket=visit_basket,
            heavy=set(),
            store_of=store_of,
            code=code,
        )
        members = set(campaign.audience.values_list("customer_id", flat=True))
        prospects = set(
            Customer.objects.filter(status=Customer.Status.PROSPECT).values_list(
                "pk", flat=True
            )
        )
        outsiders = [pk for pk in store_of if pk not in members | prospects]
        for customer_id in rng.choice(
            outsiders, size=min(14, len(outsiders)), replace=False
        ):
            writer.add(
                customer_id=int(customer_id),
                store_id=stores["BO01"].pk,
                placed_at=campaign.launched_at
                + dt.timedelta(days=float(rng.uniform(0.5, 13))),
                lines=[
                    (product, quantity, 0) for product, quantity in visit_basket(rng)
                ],
                code=partner,
            )
        created.append(campaign)

    # 3. Knitwear: a deep discount to frequent seasonal buyers, returns unchecked.
    seasonal = list(
        Category.objects.filter(
            slug__in=["clothing-summer", "clothing-winter"]
        ).values_list("pk", flat=True)
    )
    segment = _segment(
        "knitwear",
        {
            "match": "all",
            "rules": [
                {
                    "match": "any",
                    "rules": [
                        {"field": "bought", "category": pk, "within_days": 365}
                        for pk in seasonal
                    ],
                },
                {"field": "frequency", "min": 3},
                {"field": "consent", "channel": "email"},
            ],
        },
        "Bought seasonal clothing in the last year, three orders or more. "
        "No limit on returns.",
    )
    campaign = services.create_campaign(
        name=CAMPAIGNS["knitwear"],
        goal=Campaign.Goal.UPSELL,
        segment=segment,
        channel=Campaign.Channel.EMAIL,
        offer_product=products[cat.CLOTHING_PREMIUM],
        discount_percent=Decimal("30"),
        control_share=Decimal("0.300"),
        attribution_window_days=14,
    )
    services.save_variant(
        campaign=campaign,
        label="A",
        subject="{discount} off cashmere this weekend, {first_name}",
        body="{first_name}, the {offer_name} is {discount} off at {store_name} "
        "until Sunday.",
    )
    if _freeze_in_the_past(campaign, launched_at=now - dt.timedelta(days=75), days=14):
        knit = products[cat.CLOTHING_PREMIUM]
        _simulate(
            campaign,
            writer,
            treated=Response(buy=0.06, buy_heavy=0.5, returns_heavy=0.8),
            control=Response(buy=0.04, buy_heavy=0.2, returns_heavy=0.8),
            basket=lambda rng, knit=knit: [(knit, 1)],
            heavy=heavy,
            store_of=store_of,
        )
        created.append(campaign)

    written = writer.write()
    for campaign in created:
        services.refresh_campaign_results(campaign_id=campaign.pk, now=now)
    _say(
        stdout,
        f"Campaigns: {len(created)} past campaigns, {written:,} attributable orders.",
    )
    return created


@transaction.atomic
def delete_demo_campaigns(*, stdout: TextIO | None = None) -> None:
    """Delete the demo campaigns, their segments, codes and sends.

    Runs before the shop's own reset, because campaigns protect the products
    and stores they offer; the simulated ``DEMO-CMP`` orders are deleted too.
    """
    campaigns = Campaign.objects.filter(name__in=CAMPAIGNS.values())
    OfferRedemption.objects.filter(offer_code__campaign__in=campaigns).delete()
    try:
        send = apps.get_model("campaigns", "Send")
    except LookupError:
        send = None
    if send is not None:
        send.objects.filter(campaign__in=campaigns).delete()
    CampaignResult.objects.filter(campaign__in=campaigns).delete()
    AudienceMember.objects.filter(campaign__in=campaigns).delete()
    campaigns.delete()
    Segment.objects.filter(name__in=SEGMENTS.values(), campaigns__isnull=True).delete()
    # The simulated orders go too, so the campaigns can be built again.
    orders = Order.objects.filter(number__startswith=f"{ORDER_PREFIX}-")
    Return.objects.filter(line__order__in=orders).delete()
    OrderLine.objects.filter(order__in=orders).delete()
    orders.delete()
    _say(stdout, "Demo campaigns deleted.")

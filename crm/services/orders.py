"""Order, return and interaction writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import get_random_string

from crm.models import Customer, Interaction, Order, OrderLine, Product, Return, Store
from crm.services.customers import mark_first_purchase
from crm.signals import order_committed


@dataclass(frozen=True)
class LineInput:
    """One requested order line; ``unit_price`` None means the list price."""

    product_id: int
    quantity: int
    unit_price: Decimal | None = None


def _new_order_number() -> str:
    return f"O{timezone.now():%y%m%d}-{get_random_string(8, '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ')}"


@transaction.atomic
def place_order(
    *,
    lines: Sequence[LineInput],
    customer: Customer | None = None,
    store: Store | None = None,
    channel: str = Order.channel.field.default,
    placed_at: dt.datetime | None = None,
    number: str | None = None,
) -> Order:
    """Create an order with its lines in one transaction.

    Every product must exist and be active, quantities positive. The first
    order turns a prospect into a customer. After commit, ``order_committed``
    is sent so higher apps can enqueue their recomputes.
    """
    if not lines:
        raise ValidationError({"lines": "An order needs at least one line."})
    product_ids = {line.product_id for line in lines}
    products = Product.objects.in_bulk(product_ids)
    errors = []
    for index, line in enumerate(lines, start=1):
        product = products.get(line.product_id)
        if product is None:
            errors.append(f"Line {index}: product {line.product_id} does not exist.")
        elif not product.active:
            errors.append(f"Line {index}: product {product.sku} is not on sale.")
        if line.quantity <= 0:
            errors.append(f"Line {index}: quantity must be at least 1.")
        if line.unit_price is not None and line.unit_price < 0:
            errors.append(f"Line {index}: unit price cannot be negative.")
    if errors:
        raise ValidationError({"lines": errors})

    placed_at = placed_at or timezone.now()
    order = Order.objects.create(
        number=number or _new_order_number(),
        customer=customer,
        store=store,
        channel=channel,
        placed_at=placed_at,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_no=index,
            product_id=line.product_id,
            quantity=line.quantity,
            unit_price=(
                line.unit_price
                if line.unit_price is not None
                else products[line.product_id].price
            ),
        )
        for index, line in enumerate(lines, start=1)
    )
    if customer is not None:
        mark_first_purchase(customer=customer, placed_at=placed_at)
    transaction.on_commit(
        partial(
            order_committed.send,
            sender=Order,
            order_id=order.pk,
            customer_id=customer.pk if customer else None,
        )
    )
    return order


@transaction.atomic
def record_return(
    *,
    line: OrderLine,
    quantity: int,
    reason: str = "",
    kind: str = Return.Kind.RETURN,
    returned_at: dt.datetime | None = None,
    reference: str = "",
) -> Return:
    """Record goods given back for one line.

    The line's running ``returned_quantity`` is raised with an F() update under
    the database CHECK, so concurrent returns can never exceed the quantity
    bought: the loser gets a ValidationError, and nothing is written.
    """
    if quantity <= 0:
        raise ValidationError({"quantity": "Return at least one item."})
    locked = OrderLine.objects.select_for_update().get(pk=line.pk)
    remaining = locked.quantity - locked.returned_quantity
    if quantity > remaining:
        raise ValidationError(
            {"quantity": f"Only {remaining} of this line can still be returned."}
        )
    OrderLine.objects.filter(pk=line.pk).update(
        returned_quantity=F("returned_quantity") + quantity
    )
    # A full return can move the customer down a ladder: recompute on commit.
    order = Order.objects.only("id", "customer_id").get(pk=locked.order_id)
    transaction.on_commit(
        partial(
            order_committed.send,
            sender=Order,
            order_id=order.pk,
            customer_id=order.customer_id,
        )
    )
    return Return.objects.create(
        line=locked,
        quantity=quantity,
        reason=reason,
        kind=kind,
        reference=reference,
        returned_at=returned_at or timezone.now(),
    )


@transaction.atomic
def cancel_order(*, order: Order) -> Order:
    """Cancel a placed order; cancelled orders count for nothing downstream."""
    if order.status == Order.Status.CANCELLED:
        return order
    order.status = Order.Status.CANCELLED
    order.save(update_fields=["status"])
    transaction.on_commit(
        partial(
            order_committed.send,
            sender=Order,
            order_id=order.pk,
            customer_id=order.customer_id,
        )
    )
    return order


def record_interaction(
    *,
    customer: Customer,
    kind: str,
    channel: str = "",
    staff: AbstractBaseUser | None = None,
    store: Store | None = None,
    product: Product | None = None,
    outcome: str = "",
    notes: str = "",
    occurred_at: dt.datetime | None = None,
    data: dict | None = None,
) -> Interaction:
    """Log one touch point with a customer."""
    interaction = Interaction(
        customer=customer,
        kind=kind,
        channel=channel,
        staff=staff,
        store=store,
        product=product,
        outcome=outcome,
        notes=notes,
        occurred_at=occurred_at or timezone.now(),
        data=data or {},
    )
    interaction.full_clean(exclude=["customer", "staff", "store", "product"])
    interaction.save()
    return interaction

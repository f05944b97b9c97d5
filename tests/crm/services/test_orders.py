"""Order, return and interaction services."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm.models import Customer, Order, OrderLine, Return
from crm.services.orders import (
    LineInput,
    cancel_order,
    place_order,
    record_interaction,
    record_return,
)
from crm.signals import order_committed
from tests.crm.factories import (
    CustomerFactory,
    OrderLineFactory,
    ProductFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db


def test_an_order_is_placed_with_its_lines_and_list_prices():
    customer = CustomerFactory()
    laptop = ProductFactory(price=Decimal("899.00"))
    mouse = ProductFactory(price=Decimal("25.00"))
    order = place_order(
        customer=customer,
        store=customer.home_store,
        lines=[
            LineInput(product_id=laptop.pk, quantity=1),
            LineInput(product_id=mouse.pk, quantity=2, unit_price=Decimal("20.00")),
        ],
    )
    lines = list(order.lines.order_by("line_no"))
    assert [(line.line_no, line.quantity, line.unit_price) for line in lines] == [
        (1, 1, Decimal("899.00")),
        (2, 2, Decimal("20.00")),
    ]


def test_the_first_order_turns_a_prospect_into_a_customer():
    prospect = CustomerFactory(status=Customer.Status.PROSPECT)
    order = place_order(
        customer=prospect, lines=[LineInput(product_id=ProductFactory().pk, quantity=1)]
    )
    prospect.refresh_from_db()
    assert prospect.status == Customer.Status.CUSTOMER
    assert prospect.became_customer_at == order.placed_at


def test_a_bad_line_rejects_the_whole_order():
    inactive = ProductFactory(active=False)
    good = ProductFactory()
    with pytest.raises(ValidationError) as error:
        place_order(
            lines=[
                LineInput(product_id=good.pk, quantity=1),
                LineInput(product_id=inactive.pk, quantity=1),
                LineInput(product_id=good.pk, quantity=0),
                LineInput(product_id=999999, quantity=1),
            ]
        )
    messages = error.value.message_dict["lines"]
    assert len(messages) == 3
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0


def test_order_committed_is_sent_only_after_commit(django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, order_id, customer_id, **kwargs):
        received.append(order_id)

    order_committed.connect(receiver)
    try:
        product = ProductFactory()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            order = place_order(lines=[LineInput(product_id=product.pk, quantity=1)])
        assert received == []
        for callback in callbacks:
            callback()
        assert received == [order.pk]
    finally:
        order_committed.disconnect(receiver)


def test_anonymous_till_orders_have_no_customer():
    store = StoreFactory()
    order = place_order(
        store=store, lines=[LineInput(product_id=ProductFactory().pk, quantity=3)]
    )
    assert order.customer is None


def test_returns_never_exceed_what_was_bought():
    line = OrderLineFactory(quantity=3)
    record_return(line=line, quantity=2, reason="too small")
    with pytest.raises(ValidationError):
        record_return(line=line, quantity=2)
    record_return(line=line, quantity=1, kind=Return.Kind.CANCELLATION)
    line.refresh_from_db()
    assert line.returned_quantity == 3
    assert Return.objects.filter(line=line).count() == 2


def test_the_database_itself_refuses_over_returns_and_bad_quantities():
    line = OrderLineFactory(quantity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(returned_quantity=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLineFactory(quantity=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Return.objects.create(line=line, quantity=0, returned_at=line.order.placed_at)


def test_cancelled_orders_are_marked_once():
    line = OrderLineFactory()
    cancel_order(order=line.order)
    cancel_order(order=line.order)
    line.order.refresh_from_db()
    assert line.order.status == Order.Status.CANCELLED


def test_interactions_are_logged_with_validated_kind():
    customer = CustomerFactory()
    interaction = record_interaction(
        customer=customer, kind="call", channel="phone", outcome="reached", notes="ok"
    )
    assert interaction.pk is not None
    with pytest.raises(ValidationError):
        record_interaction(customer=customer, kind="telepathy")

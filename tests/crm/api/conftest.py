"""API scenarios: two stores with a customer, an order and a consent each."""

from __future__ import annotations

import pytest

from crm.services.customers import set_consent
from tests.crm.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)


@pytest.fixture
def product(db):
    return ProductFactory(sku="MUG-01", name="Mug")


@pytest.fixture
def inactive_product(db):
    return ProductFactory(sku="OLD-01", name="Old mug", active=False)


@pytest.fixture
def customer_a(store_a):
    return CustomerFactory(
        first_name="Anna", last_name="Alpha", home_store=store_a, loyalty_card="LA1"
    )


@pytest.fixture
def customer_b(store_b):
    return CustomerFactory(
        first_name="Bruno", last_name="Beta", home_store=store_b, loyalty_card="LB1"
    )


@pytest.fixture
def order_a(customer_a, product):
    order = OrderFactory(customer=customer_a, store=customer_a.home_store)
    OrderLineFactory(order=order, line_no=1, product=product, quantity=3)
    return order


@pytest.fixture
def order_b(customer_b, product):
    order = OrderFactory(customer=customer_b, store=customer_b.home_store)
    OrderLineFactory(order=order, line_no=1, product=product, quantity=3)
    return order


@pytest.fixture
def two_stores(customer_a, customer_b, order_a, order_b):
    """Each store with a customer, an order, an interaction and a consent."""
    for customer in (customer_a, customer_b):
        InteractionFactory(customer=customer, store=customer.home_store)
        set_consent(customer=customer, channel="email", granted=True, source="store")
    return {"a": customer_a, "b": customer_b, "order_a": order_a, "order_b": order_b}

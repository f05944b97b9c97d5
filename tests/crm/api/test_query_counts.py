"""List endpoints cost the same queries for 1 row and for 50 (PERF-01).

Each role is measured with a user freshly loaded from the database, as in a
real request, so cached roles and permissions do not hide queries.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from crm.services.customers import set_consent
from crm.services.orders import record_return
from tests.crm.factories import (
    CategoryFactory,
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db

API_LIST_BUDGET = 8  # RELIABILITY.md PERF-01, API list ≤ 8
ROLES = ["manager", "sales", "clerk_a"]


def add_customers(store, n):
    CustomerFactory.create_batch(n, home_store=store)


def add_orders(store, n):
    for _ in range(n):
        order = OrderFactory(customer=CustomerFactory(home_store=store), store=store)
        OrderLineFactory(order=order, line_no=1)
        OrderLineFactory(order=order, line_no=2)


def add_returns(store, n):
    for _ in range(n):
        order = OrderFactory(customer=CustomerFactory(home_store=store), store=store)
        record_return(line=OrderLineFactory(order=order, quantity=2), quantity=1)


def add_interactions(store, n):
    for _ in range(n):
        InteractionFactory(
            customer=CustomerFactory(home_store=store),
            store=store,
            product=ProductFactory(),
        )


def add_consents(store, n):
    for customer in CustomerFactory.create_batch(n, home_store=store):
        set_consent(customer=customer, channel="email", granted=True, source="store")


def add_categories(store, n):
    parent = CategoryFactory()
    CategoryFactory.create_batch(n, parent=parent)


def add_products(store, n):
    ProductFactory.create_batch(n)


def add_stores(store, n):
    StoreFactory.create_batch(n)


BUILDERS = {
    "/api/customers/": add_customers,
    "/api/orders/": add_orders,
    "/api/returns/": add_returns,
    "/api/interactions/": add_interactions,
    "/api/consents/": add_consents,
    "/api/consent-events/": add_consents,
    "/api/categories/": add_categories,
    "/api/products/": add_products,
    "/api/stores/": add_stores,
}


def count_queries(user_pk: int, url: str) -> tuple[int, int]:
    """(queries, rows) for one GET by a user loaded fresh from the database."""
    client = APIClient()
    client.force_authenticate(user=get_user_model().objects.get(pk=user_pk))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


@pytest.mark.parametrize("url", list(BUILDERS))
def test_list_queries_do_not_grow_with_rows(request, store_a, url):
    users = {role: request.getfixturevalue(role).pk for role in ROLES}
    build = BUILDERS[url]

    build(store_a, 1)
    small = {role: count_queries(pk, url) for role, pk in users.items()}
    build(store_a, 49)
    large = {role: count_queries(pk, url) for role, pk in users.items()}

    for role in ROLES:
        (few_queries, few_rows), (many_queries, many_rows) = small[role], large[role]
        assert many_rows >= 50 > few_rows, (role, few_rows, many_rows)
        assert few_queries == many_queries, (role, few_queries, many_queries)
        assert many_queries <= API_LIST_BUDGET, (role, many_queries)

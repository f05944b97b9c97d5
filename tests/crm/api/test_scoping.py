"""A clerk of store A never sees nor changes store B data (SEC-08).

Scoping lives in ``get_queryset()`` (crm.selectors), so every path is
covered: lists, search, filters, ordering, pagination, details, nested
routes and the ids a create or update may name.
"""

from __future__ import annotations

import pytest

from crm.models import ChannelConsent, ConsentEvent, Customer, Interaction, Order
from crm.services.orders import record_return
from tests.crm.factories import UserFactory

pytestmark = pytest.mark.django_db

SCOPED_LISTS = [
    "/api/customers/",
    "/api/consents/",
    "/api/consent-events/",
    "/api/orders/",
    "/api/returns/",
    "/api/interactions/",
]

QUERY_STRINGS = [
    "",
    "?home_store={store_b}",
    "?store={store_b}",
    "?customer={customer_b}",
    "?search=Beta",
    "?search=LB1",
    "?q=Beta",
    "?ordering=-id",
    "?ordering=id&page=1",
    "?page_size=1000",
]


@pytest.fixture
def with_returns(two_stores):
    for order in (two_stores["order_a"], two_stores["order_b"]):
        record_return(line=order.lines.get(), quantity=1)
    return two_stores


def store_b_ids(url, two_stores):
    """Ids of the rows of store B that the list at ``url`` could show."""
    customer_b, order_b = two_stores["b"], two_stores["order_b"]
    return {
        "/api/customers/": {customer_b.pk},
        "/api/consents/": set(
            ChannelConsent.objects.filter(customer=customer_b).values_list(
                "pk", flat=True
            )
        ),
        "/api/consent-events/": set(
            ConsentEvent.objects.filter(customer=customer_b).values_list(
                "pk", flat=True
            )
        ),
        "/api/orders/": {order_b.pk},
        "/api/returns/": set(order_b.lines.get().returns.values_list("pk", flat=True)),
        "/api/interactions/": set(
            Interaction.objects.filter(customer=customer_b).values_list("pk", flat=True)
        ),
    }[url]


@pytest.mark.parametrize("url", SCOPED_LISTS)
@pytest.mark.parametrize("query", QUERY_STRINGS)
def test_clerk_a_never_lists_store_b_rows(
    api_client_for, clerk_a, store_b, with_returns, url, query
):
    query = query.format(store_b=store_b.pk, customer_b=with_returns["b"].pk)

    response = api_client_for(clerk_a).get(url + query)

    assert response.status_code == 200
    seen = {row["id"] for row in response.json()["results"]}
    forbidden = store_b_ids(url, with_returns)
    assert forbidden, "the scenario must have store B rows to hide"
    assert not seen & forbidden


@pytest.mark.parametrize("url", SCOPED_LISTS)
def test_clerk_a_lists_store_a_rows(api_client_for, clerk_a, with_returns, url):
    response = api_client_for(clerk_a).get(url)

    assert response.json()["count"] >= 1


@pytest.mark.parametrize("url", SCOPED_LISTS)
def test_managers_list_both_stores(api_client_for, manager, with_returns, url):
    response = api_client_for(manager).get(url)

    assert store_b_ids(url, with_returns) <= {
        r["id"] for r in response.json()["results"]
    }


@pytest.mark.parametrize("url", SCOPED_LISTS)
def test_store_b_details_are_404_for_clerk_a(
    api_client_for, clerk_a, with_returns, url
):
    for pk in store_b_ids(url, with_returns):
        assert api_client_for(clerk_a).get(f"{url}{pk}/").status_code == 404


def test_store_b_consents_route_is_404_for_clerk_a(api_client_for, clerk_a, two_stores):
    client = api_client_for(clerk_a)
    url = f"/api/customers/{two_stores['b'].pk}/consents/"
    events_before = ConsentEvent.objects.count()

    assert client.get(url).status_code == 404
    payload = {"channel": "sms", "granted": True, "source": "store"}
    assert client.post(url, payload, format="json").status_code == 404
    assert ConsentEvent.objects.count() == events_before


def test_clerk_a_cannot_change_or_delete_store_b_customers(
    api_client_for, clerk_a, two_stores
):
    customer_b = two_stores["b"]
    client = api_client_for(clerk_a)

    response = client.patch(
        f"/api/customers/{customer_b.pk}/", {"first_name": "Hacked"}, format="json"
    )

    assert response.status_code == 404
    customer_b.refresh_from_db()
    assert customer_b.first_name == "Bruno"


def test_creating_a_customer_in_store_b_is_rejected(api_client_for, clerk_a, store_b):
    before = Customer.objects.count()

    response = api_client_for(clerk_a).post(
        "/api/customers/",
        {"first_name": "Sneaky", "home_store": store_b.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"home_store": ["Clerks act for their own store."]}
    assert Customer.objects.count() == before


def test_a_clerks_customer_lands_in_their_store(api_client_for, clerk_a, store_a):
    response = api_client_for(clerk_a).post(
        "/api/customers/", {"first_name": "Local"}, format="json"
    )

    assert response.status_code == 201
    assert Customer.objects.get(pk=response.json()["id"]).home_store == store_a


def test_moving_a_customer_to_store_b_is_rejected(
    api_client_for, clerk_a, two_stores, store_b
):
    customer_a = two_stores["a"]

    response = api_client_for(clerk_a).patch(
        f"/api/customers/{customer_a.pk}/", {"home_store": store_b.pk}, format="json"
    )

    assert response.status_code == 400
    customer_a.refresh_from_db()
    assert customer_a.home_store_id != store_b.pk


def test_ordering_for_store_b_is_rejected(
    api_client_for, clerk_a, two_stores, store_b, product
):
    before = Order.objects.count()
    lines = [{"sku": product.sku, "quantity": 1}]

    response = api_client_for(clerk_a).post(
        "/api/orders/",
        {"customer": two_stores["a"].pk, "store": store_b.pk, "lines": lines},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"store": ["Clerks act for their own store."]}
    assert Order.objects.count() == before


def test_ordering_for_a_store_b_customer_is_rejected(
    api_client_for, clerk_a, two_stores, product
):
    before = Order.objects.count()

    response = api_client_for(clerk_a).post(
        "/api/orders/",
        {
            "customer": two_stores["b"].pk,
            "lines": [{"sku": product.sku, "quantity": 1}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert "customer" in response.json()
    assert Order.objects.count() == before


def test_returning_a_store_b_line_is_rejected(api_client_for, clerk_a, two_stores):
    line_b = two_stores["order_b"].lines.get()

    response = api_client_for(clerk_a).post(
        "/api/returns/", {"line": line_b.pk, "quantity": 1}, format="json"
    )

    assert response.status_code == 400
    assert "line" in response.json()
    line_b.refresh_from_db()
    assert line_b.returned_quantity == 0


def test_logging_a_store_b_interaction_is_rejected(api_client_for, clerk_a, two_stores):
    before = Interaction.objects.count()

    response = api_client_for(clerk_a).post(
        "/api/interactions/",
        {"customer": two_stores["b"].pk, "kind": "call"},
        format="json",
    )

    assert response.status_code == 400
    assert Interaction.objects.count() == before


@pytest.mark.parametrize("url", SCOPED_LISTS)
def test_a_clerk_without_a_store_sees_nothing(api_client_for, with_returns, url):
    clerk = UserFactory(username="clerk_nowhere", role="clerk")

    response = api_client_for(clerk).get(url)

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_clerk_without_a_store_cannot_create(api_client_for, db):
    clerk = UserFactory(username="clerk_nowhere", role="clerk")

    response = api_client_for(clerk).post(
        "/api/customers/", {"first_name": "Orphan"}, format="json"
    )

    assert response.status_code == 403
    assert not Customer.objects.filter(first_name="Orphan").exists()


def test_clerk_b_sees_only_store_b(api_client_for, clerk_b, two_stores):
    response = api_client_for(clerk_b).get("/api/customers/")

    assert [row["id"] for row in response.json()["results"]] == [two_stores["b"].pk]

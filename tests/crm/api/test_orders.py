"""Orders placed with their lines in one call, cancellations and returns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Customer, Order, OrderLine, Return
from tests.crm.factories import CustomerFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_an_order_is_placed_with_its_lines(api_client_for, clerk_a, store_a, product):
    # given
    prospect = CustomerFactory(home_store=store_a)
    scarf = ProductFactory(sku="SCARF-1", price=Decimal("35.00"))
    payload = {
        "customer": prospect.pk,
        "channel": "in_store",
        "lines": [
            {"sku": product.sku, "quantity": 2},
            {"product": scarf.pk, "quantity": 1, "unit_price": "30.00"},
        ],
    }

    # when
    response = api_client_for(clerk_a).post("/api/orders/", payload, format="json")

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["total"] == "70.00"
    assert body["store"] == store_a.pk
    assert body["status"] == "placed"
    assert [(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in body["lines"]] == [
        (product.sku, 2, "20.00"),
        ("SCARF-1", 1, "30.00"),
    ]
    order = Order.objects.get(pk=body["id"])
    assert order.lines.count() == 2
    prospect.refresh_from_db()
    assert prospect.status == Customer.Status.CUSTOMER
    assert prospect.became_customer_at == order.placed_at


def test_an_anonymous_till_sale_has_no_customer(api_client_for, sales, product):
    response = api_client_for(sales).post(
        "/api/orders/", {"lines": [{"sku": product.sku, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["customer"] is None


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([{"sku": "NOPE", "quantity": 1}], [{"sku": ["Unknown SKU “NOPE”."]}]),
        (
            [{"sku": "MUG-01", "quantity": 1}, {"sku": "OLD-01", "quantity": 1}],
            [{}, {"sku": ["Product OLD-01 is not on sale."]}],
        ),
        (
            [{"product": 999999, "quantity": 1}],
            [{"product": ["Unknown product 999999."]}],
        ),
        (
            [{"sku": "MUG-01", "quantity": 0}],
            [{"quantity": ["Quantity must be at least 1."]}],
        ),
        (
            [{"sku": "MUG-01", "quantity": -2}],
            [{"quantity": ["Quantity must be at least 1."]}],
        ),
    ],
)
def test_invalid_lines_are_reported_per_line(
    api_client_for, manager, product, inactive_product, lines, expected
):
    response = api_client_for(manager).post(
        "/api/orders/", {"lines": lines}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"lines": expected}
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"lines": []},
        {"lines": "MUG-01"},
        {"lines": [{"quantity": 1}]},
        {"lines": [{"sku": "MUG-01", "product": 1, "quantity": 1}]},
        {"lines": [{"sku": "MUG-01"}]},
        {"lines": [{"sku": "MUG-01", "quantity": 10**12}]},
        {"lines": [{"sku": "MUG-01", "quantity": "two"}]},
        {"lines": [{"sku": "MUG-01", "quantity": 1, "unit_price": "-1.00"}]},
        {"lines": [{"sku": "MUG-01", "quantity": 1, "unit_price": "1e20"}]},
        {"lines": [{"sku": "MUG\x00", "quantity": 1}]},
        {"lines": [{"sku": "MUG-01", "quantity": 1}], "channel": "telepathy"},
        {"lines": [{"sku": "MUG-01", "quantity": 1}], "customer": 999999},
        {"lines": [{"sku": "MUG-01", "quantity": 1}], "store": 999999},
    ],
)
def test_malformed_orders_are_400(api_client_for, manager, product, payload):
    response = api_client_for(manager).post("/api/orders/", payload, format="json")

    assert response.status_code == 400
    assert not Order.objects.exists()


def test_server_owned_order_fields_are_ignored(api_client_for, manager, product):
    payload = {
        "lines": [{"sku": product.sku, "quantity": 1}],
        "number": "FORGED-1",
        "status": "cancelled",
        "placed_at": "2000-01-01T00:00:00Z",
    }

    response = api_client_for(manager).post("/api/orders/", payload, format="json")

    assert response.status_code == 201
    order = Order.objects.get()
    assert order.number != "FORGED-1"
    assert order.status == Order.Status.PLACED
    assert order.placed_at.year == timezone.now().year


def test_the_list_shows_lines_nested(api_client_for, sales, order_a):
    response = api_client_for(sales).get("/api/orders/")

    (row,) = response.json()["results"]
    assert row["number"] == order_a.number
    assert row["total"] == "60.00"
    assert [line["quantity"] for line in row["lines"]] == [3]


def test_orders_filter_by_date_and_status(api_client_for, manager, customer_a):
    old = OrderFactory(
        customer=customer_a, placed_at=timezone.now() - dt.timedelta(days=40)
    )
    new = OrderFactory(customer=customer_a, status=Order.Status.CANCELLED)
    cutoff = (timezone.now() - dt.timedelta(days=10)).isoformat()
    client = api_client_for(manager)

    def ids(query):
        response = client.get("/api/orders/", query)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids({"placed_before": cutoff}) == {old.pk}
    assert ids({"placed_after": cutoff}) == {new.pk}
    assert ids({"status": "cancelled"}) == {new.pk}
    assert ids({"customer": customer_a.pk}) == {old.pk, new.pk}
    assert client.get("/api/orders/", {"placed_after": "yesterday"}).status_code == 400


def test_cancelling_an_order(api_client_for, manager, order_a):
    response = api_client_for(manager).post(f"/api/orders/{order_a.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    order_a.refresh_from_db()
    assert order_a.status == Order.Status.CANCELLED


# --- returns ------------------------------------------------------------------------


def test_a_return_raises_the_returned_quantity(api_client_for, clerk_a, order_a):
    line = order_a.lines.get()

    response = api_client_for(clerk_a).post(
        "/api/returns/",
        {"line": line.pk, "quantity": 2, "reason": "Too small", "kind": "return"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["order"] == order_a.pk
    line.refresh_from_db()
    assert line.returned_quantity == 2


def test_returning_more_than_remains_is_a_400(api_client_for, sales, order_a):
    line = order_a.lines.get()
    client = api_client_for(sales)
    client.post("/api/returns/", {"line": line.pk, "quantity": 2}, format="json")

    response = client.post(
        "/api/returns/", {"line": line.pk, "quantity": 2}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "quantity": ["Only 1 of this line can still be returned."]
    }
    line.refresh_from_db()
    assert line.returned_quantity == 2
    assert Return.objects.count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"line": None, "quantity": 1},
        {"line": 999999, "quantity": 1},
        {"line": "abc", "quantity": 1},
        {"quantity": 0},
        {"quantity": -1},
        {"quantity": 4},
        {"quantity": 1, "kind": "theft"},
        {"quantity": 1, "reason": "x" * 201},
    ],
)
def test_invalid_returns_are_400(api_client_for, manager, order_a, payload):
    payload = {"line": order_a.lines.get().pk, **payload}

    response = api_client_for(manager).post("/api/returns/", payload, format="json")

    assert response.status_code == 400
    assert OrderLine.objects.get().returned_quantity == 0


def test_a_duplicate_return_reference_is_a_400(api_client_for, manager, order_a):
    line = order_a.lines.get()
    client = api_client_for(manager)
    payload = {"line": line.pk, "quantity": 1, "reference": "CN-1"}
    client.post("/api/returns/", payload, format="json")

    response = client.post("/api/returns/", payload, format="json")

    assert response.status_code == 400
    line.refresh_from_db()
    assert line.returned_quantity == 1

"""Hostile query strings give a 4xx, never a 500 (SEC-12)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/customers/?search=a%00b",
        "/api/customers/?q=a%00b",
        "/api/customers/?ordering=%00",
        "/api/customers/?home_store=%00",
        "/api/customers/?home_store=99999999999999999999999",
        "/api/customers/?has_email=perhaps",
        "/api/customers/?page=%00",
        "/api/customers/?page=999",
        "/api/orders/?number=%00",
        "/api/orders/?placed_after=%00",
        "/api/orders/?customer=-1",
        "/api/products/?sku=%00",
        "/api/stores/?code=%00",
        "/api/returns/?reference=%00",
        "/api/interactions/?occurred_after=2026-13-45",
        "/api/consent-events/?channel=fax",
    ],
)
def test_hostile_query_strings_are_not_server_errors(
    api_client_for, manager, customer_a, url
):
    response = api_client_for(manager).get(url)

    assert 200 <= response.status_code < 500


HUGE = 99999999999999999999999


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [
        ("get", f"/api/customers/{HUGE}/", None),
        ("post", "/api/orders/", {"lines": [{"product": HUGE, "quantity": 1}]}),
        (
            "post",
            "/api/orders/",
            {"customer": HUGE, "lines": [{"sku": "X", "quantity": 1}]},
        ),
        ("post", "/api/returns/", {"line": HUGE, "quantity": 1}),
        ("post", "/api/interactions/", {"customer": HUGE, "kind": "call"}),
        ("post", "/api/customers/", {"home_store": HUGE}),
        ("post", "/api/categories/", {"name": "x", "slug": "x", "parent": HUGE}),
    ],
)
def test_out_of_range_ids_are_not_server_errors(
    api_client_for, manager, customer_a, method, url, payload
):
    client = api_client_for(manager)

    response = getattr(client, method)(url, payload, format="json")

    assert 400 <= response.status_code < 500

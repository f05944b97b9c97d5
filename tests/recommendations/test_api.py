"""The recommendations API: customer suggestions, outcomes, basket, runs.

Covers the role matrix (SEC-07), store scoping (SEC-08) and query budgets
(PERF-01: the same number of queries for 1 and for many rows).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recommendations.models import Suggestion
from tests.crm.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.recommendations.urls")]


def _customer_url(customer):
    return f"/api/customers/{customer.pk}/suggestions/"


@pytest.mark.parametrize("role", ["manager", "sales", "clerk_a"])
def test_staff_read_a_visible_customers_suggestions(
    computed_shop, api_client_for, role, request
):
    user = request.getfixturevalue(role)
    customer = computed_shop.singles_a[0]
    response = api_client_for(user).get(_customer_url(customer))
    assert response.status_code == 200
    body = response.json()
    assert body and {row["customer"] for row in body} == {customer.pk}
    first = body[0]
    assert first["rank"] == 1
    assert {"reason", "reason_code", "channel", "expected_value", "kind"} <= set(first)


def test_clerk_gets_404_for_another_stores_customer(
    computed_shop, api_client_for, clerk_a
):
    response = api_client_for(clerk_a).get(_customer_url(computed_shop.singles_b[0]))
    assert response.status_code == 404


def test_clerk_lists_only_own_store_suggestions(computed_shop, api_client_for, clerk_a):
    response = api_client_for(clerk_a).get("/api/suggestions/?page_size=500")
    assert response.status_code == 200
    customers = {row["customer"] for row in response.json()["results"]}
    store_a = computed_shop.singles_a[0].home_store_id
    assert customers
    from crm.models import Customer

    assert set(
        Customer.objects.filter(pk__in=customers).values_list(
            "home_store_id", flat=True
        )
    ) == {store_a}
    other = Suggestion.objects.filter(customer=computed_shop.singles_b[0]).first()
    assert (
        api_client_for(clerk_a).get(f"/api/suggestions/{other.pk}/").status_code == 404
    )


def test_anonymous_and_roleless_users_are_refused(computed_shop, api_client_for):
    customer = computed_shop.singles_a[0]
    assert api_client_for(None).get(_customer_url(customer)).status_code in (401, 403)
    nobody = UserFactory(username="nobody")
    assert api_client_for(nobody).get(_customer_url(customer)).status_code == 403
    assert (
        api_client_for(nobody)
        .post("/api/suggestions/basket/", {"skus": ["BREAD"]}, format="json")
        .status_code
        == 403
    )


def test_outcome_endpoint_records_and_scopes(
    computed_shop, api_client_for, sales, clerk_a
):
    offer = Suggestion.objects.filter(
        customer=computed_shop.singles_a[0], status="new"
    ).first()
    response = api_client_for(sales).post(
        f"/api/suggestions/{offer.pk}/outcome/",
        {"outcome": "accepted", "note": "liked it"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    # a clerk: an e-mail offer is refused, an in-store one of their store works
    other = (
        Suggestion.objects.filter(customer__home_store__code="A", status="new")
        .exclude(pk=offer.pk)
        .first()
    )
    Suggestion.objects.filter(pk=other.pk).update(channel="email")
    client = api_client_for(clerk_a)
    url = f"/api/suggestions/{other.pk}/outcome/"
    assert client.post(url, {"outcome": "shown"}, format="json").status_code == 403
    Suggestion.objects.filter(pk=other.pk).update(channel="in_store")
    assert client.post(url, {"outcome": "shown"}, format="json").status_code == 200
    foreign = Suggestion.objects.filter(customer__home_store__code="B").first()
    response = client.post(
        f"/api/suggestions/{foreign.pk}/outcome/", {"outcome": "shown"}, format="json"
    )
    assert response.status_code == 404
    bad = client.post(url, {"outcome": "maybe"}, format="json")
    assert bad.status_code == 400


def test_manager_may_not_record_unknown_transitions(
    computed_shop, api_client_for, manager
):
    offer = Suggestion.objects.filter(status="new").first()
    client = api_client_for(manager)
    url = f"/api/suggestions/{offer.pk}/outcome/"
    assert client.post(url, {"outcome": "declined"}, format="json").status_code == 200
    assert client.post(url, {"outcome": "accepted"}, format="json").status_code == 400


def test_basket_returns_cross_sells_with_reasons_for_anonymous_baskets(
    computed_shop, api_client_for, clerk_a
):
    response = api_client_for(clerk_a).post(
        "/api/suggestions/basket/", {"skus": ["BREAD", "NOPE"]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["run"] == computed_shop.run.pk
    assert body["unknown_skus"] == ["NOPE"]
    assert body["suggestions"][0]["sku"] == "BUTTER"
    assert "Bread" in body["suggestions"][0]["reason"]


def test_basket_leaves_out_what_the_customer_owns(computed_shop, api_client_for, sales):
    owner = computed_shop.pairs[0]
    response = api_client_for(sales).post(
        "/api/suggestions/basket/",
        {"skus": ["BREAD"], "customer": owner.pk},
        format="json",
    )
    assert response.status_code == 200
    assert "BUTTER" not in [row["sku"] for row in response.json()["suggestions"]]


def test_basket_customer_of_another_store_is_404(
    computed_shop, api_client_for, clerk_a
):
    response = api_client_for(clerk_a).post(
        "/api/suggestions/basket/",
        {"skus": ["BREAD"], "customer": computed_shop.singles_b[0].pk},
        format="json",
    )
    assert response.status_code == 404


def test_basket_validates_input(computed_shop, api_client_for, sales):
    client = api_client_for(sales)
    assert client.post("/api/suggestions/basket/", {}, format="json").status_code == 400
    assert (
        client.post("/api/suggestions/basket/", {"skus": []}, format="json").status_code
        == 400
    )


def test_runs_api_for_managers_and_staff_view(
    computed_shop, api_client_for, manager, clerk_a
):
    response = api_client_for(manager).get("/api/suggestion-runs/")
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "completed"
    assert api_client_for(clerk_a).get("/api/suggestion-runs/").status_code == 200


def _count(client, url, method="get", data=None):
    with CaptureQueriesContext(connection) as queries:
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(url, data, format="json")
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize("role", ["manager", "sales", "clerk_a"])
def test_query_counts_do_not_grow_with_rows(
    computed_shop, api_client_for, role, request
):
    user = request.getfixturevalue(role)
    client = api_client_for(user)
    customer = computed_shop.singles_a[0]
    client.get("/api/suggestions/")  # warm the user's role and permission caches
    list_url = f"/api/suggestions/?customer={customer.pk}"
    one = Suggestion.objects.filter(customer=customer, status="new")
    keep = one.first()
    one.exclude(pk=keep.pk).delete()
    single = _count(client, _customer_url(customer))
    list_single = _count(client, list_url)
    Suggestion.objects.bulk_create(
        [
            Suggestion(
                run=computed_shop.run,
                customer=customer,
                product=product,
                kind="cross_sell",
                channel="in_store",
                reason_code="popular",
                reason="x",
                rank=rank,
            )
            for rank, product in enumerate(
                [computed_shop.jam, computed_shop.bread, computed_shop.butter], start=2
            )
        ]
    )
    many = _count(client, _customer_url(customer))
    list_many = _count(client, list_url)
    assert single == many <= 8
    assert list_single == list_many <= 8
    basket = _count(client, "/api/suggestions/basket/", "post", {"skus": ["BREAD"]})
    assert basket <= 8

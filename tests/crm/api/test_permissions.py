"""Per-role permission matrix of the API (SEC-06, SEC-07).

Roles come from the groups of crm/migrations/0002_roles.py: managers may do
everything, sales and clerks may read and add but not delete, and only
managers change the catalogue and the stores.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from crm.models import Customer, Interaction, Order, Product, Store
from tests.crm.factories import (
    CategoryFactory,
    CustomerFactory,
    InteractionFactory,
    StoreFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST_URLS = [
    "/api/stores/",
    "/api/categories/",
    "/api/products/",
    "/api/customers/",
    "/api/consents/",
    "/api/consent-events/",
    "/api/orders/",
    "/api/returns/",
    "/api/interactions/",
]


@pytest.fixture
def user_for(request):
    """The user of a role name; clerk means clerk_a (of store A)."""

    def get(role):
        fixture = {"clerk": "clerk_a"}.get(role, role)
        return request.getfixturevalue(fixture)

    return get


@pytest.mark.parametrize(
    "url", [*LIST_URLS, "/api/schema/", "/api/docs/", "/api/redoc/"]
)
def test_anonymous_callers_are_refused(url):
    response = APIClient().get(url)

    assert response.status_code in (401, 403)


@pytest.mark.parametrize("url", LIST_URLS)
def test_anonymous_writes_are_refused(url):
    response = APIClient().post(url, {}, format="json")

    assert response.status_code in (401, 403)


def test_a_bad_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    # 403 rather than 401 while SessionAuthentication is listed first in
    # REST_FRAMEWORK (DRF takes the WWW-Authenticate header from the first).
    assert client.get("/api/customers/").status_code in (401, 403)


@pytest.mark.parametrize("url", LIST_URLS)
def test_a_user_without_a_role_is_refused(api_client_for, url):
    user = UserFactory(username="nobody")

    assert api_client_for(user).get(url).status_code == 403


def test_an_inactive_manager_is_refused(api_client_for):
    user = UserFactory(username="gone", role="manager", is_active=False)

    assert api_client_for(user).get("/api/customers/").status_code == 403


@pytest.mark.parametrize("role", ["manager", "sales", "clerk"])
@pytest.mark.parametrize("url", LIST_URLS)
def test_every_role_may_list(api_client_for, user_for, role, url):
    assert api_client_for(user_for(role)).get(url).status_code == 200


@pytest.mark.parametrize(
    ("role", "expected"), [("manager", 201), ("sales", 403), ("clerk", 403)]
)
def test_only_managers_create_stores(api_client_for, user_for, role, expected):
    response = api_client_for(user_for(role)).post(
        "/api/stores/", {"code": "NEW", "name": "New store"}, format="json"
    )

    assert response.status_code == expected
    assert Store.objects.filter(code="NEW").exists() == (expected == 201)


@pytest.mark.parametrize(
    ("role", "expected"), [("manager", 201), ("sales", 403), ("clerk", 403)]
)
def test_only_managers_create_products(api_client_for, user_for, role, expected):
    category = CategoryFactory()
    payload = {"sku": "NEW-1", "name": "New", "price": "9.90", "category": category.pk}

    response = api_client_for(user_for(role)).post(
        "/api/products/", payload, format="json"
    )

    assert response.status_code == expected
    assert Product.objects.filter(sku="NEW-1").exists() == (expected == 201)


@pytest.mark.parametrize(
    ("role", "expected"), [("manager", 200), ("sales", 403), ("clerk", 403)]
)
def test_only_managers_change_categories(api_client_for, user_for, role, expected):
    category = CategoryFactory(name="Old")

    response = api_client_for(user_for(role)).patch(
        f"/api/categories/{category.pk}/", {"name": "Renamed"}, format="json"
    )

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"), [("manager", 204), ("sales", 403), ("clerk", 403)]
)
def test_only_managers_delete_stores(api_client_for, user_for, role, expected):
    user = user_for(role)
    store = StoreFactory(code="GONE")

    response = api_client_for(user).delete(f"/api/stores/{store.pk}/")

    assert response.status_code == expected
    assert Store.objects.filter(pk=store.pk).exists() == (expected != 204)


@pytest.mark.parametrize("role", ["manager", "sales", "clerk"])
def test_every_role_creates_customers(api_client_for, user_for, role):
    response = api_client_for(user_for(role)).post(
        "/api/customers/", {"first_name": "New"}, format="json"
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("role", "expected"), [("manager", 204), ("sales", 403), ("clerk", 403)]
)
def test_only_managers_delete_customers(
    api_client_for, user_for, store_a, role, expected
):
    user = user_for(role)
    customer = CustomerFactory(home_store=store_a)

    response = api_client_for(user).delete(f"/api/customers/{customer.pk}/")

    assert response.status_code == expected
    assert Customer.objects.filter(pk=customer.pk).exists() == (expected != 204)


@pytest.mark.parametrize(
    ("role", "expected"), [("manager", 204), ("sales", 403), ("clerk", 403)]
)
def test_only_managers_delete_orders(api_client_for, user_for, order_a, role, expected):
    response = api_client_for(user_for(role)).delete(f"/api/orders/{order_a.pk}/")

    assert response.status_code == expected
    assert Order.objects.filter(pk=order_a.pk).exists() == (expected != 204)


@pytest.mark.parametrize(
    ("role", "expected"), [("manager", 200), ("sales", 403), ("clerk", 403)]
)
def test_only_managers_cancel_orders(api_client_for, user_for, order_a, role, expected):
    response = api_client_for(user_for(role)).post(f"/api/orders/{order_a.pk}/cancel/")

    assert response.status_code == expected
    order_a.refresh_from_db()
    assert (order_a.status == Order.Status.CANCELLED) == (expected == 200)


def test_orders_are_never_edited(api_client_for, manager, order_a):
    response = api_client_for(manager).patch(
        f"/api/orders/{order_a.pk}/", {"channel": "web"}, format="json"
    )

    assert response.status_code == 405


@pytest.mark.parametrize(
    ("role", "expected"), [("manager", 200), ("sales", 200), ("clerk", 403)]
)
def test_clerks_do_not_edit_interactions(
    api_client_for, user_for, customer_a, role, expected
):
    interaction = InteractionFactory(customer=customer_a)

    response = api_client_for(user_for(role)).patch(
        f"/api/interactions/{interaction.pk}/", {"notes": "edited"}, format="json"
    )

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"), [("manager", 204), ("sales", 403), ("clerk", 403)]
)
def test_only_managers_delete_interactions(
    api_client_for, user_for, customer_a, role, expected
):
    interaction = InteractionFactory(customer=customer_a)

    response = api_client_for(user_for(role)).delete(
        f"/api/interactions/{interaction.pk}/"
    )

    assert response.status_code == expected
    assert Interaction.objects.filter(pk=interaction.pk).exists() == (expected != 204)


@pytest.mark.parametrize("role", ["manager", "sales", "clerk"])
def test_consent_evidence_is_read_only(api_client_for, user_for, role):
    response = api_client_for(user_for(role)).post(
        "/api/consent-events/", {"channel": "email"}, format="json"
    )

    assert response.status_code in (403, 405)

"""Customers and consents through the API: services, validation, mass assignment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import ChannelConsent, ConsentEvent, Customer
from tests.crm.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_create_normalises_contact_fields(api_client_for, sales, store_a):
    response = api_client_for(sales).post(
        "/api/customers/",
        {
            "first_name": "Giulia",
            "email": "  Giulia@Example.COM ",
            "phone": "06 1234 5678",
            "home_store": store_a.pk,
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "giulia@example.com"
    assert body["phone"] == "+390612345678"
    assert body["status"] == Customer.Status.PROSPECT
    assert body["acquisition_source"] == "manual"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "not a phone"),
        ("phone", "12"),
        ("email", "nobody@"),
        ("birth_date", (timezone.localdate() + dt.timedelta(days=2)).isoformat()),
        ("birth_date", "1850-01-01"),
        ("birth_date", "31/12/1990"),
        ("first_name", "Nul\x00Byte"),
        ("email", "a\x00@example.com"),
        ("phone", "+39\x0006"),
        ("first_name", "x" * 81),
        ("gender", "Q"),
        ("preferred_channel", "carrier-pigeon"),
        ("latitude", "91"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(api_client_for, manager, field, value):
    response = api_client_for(manager).post(
        "/api/customers/", {"first_name": "Ok", field: value}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not Customer.objects.exists()


def test_a_duplicate_loyalty_card_is_a_400(api_client_for, manager, customer_a):
    response = api_client_for(manager).post(
        "/api/customers/",
        {"first_name": "Copy", "loyalty_card": customer_a.loyalty_card},
        format="json",
    )

    assert response.status_code == 400
    assert Customer.objects.filter(loyalty_card=customer_a.loyalty_card).count() == 1


def test_update_goes_through_the_service(api_client_for, sales, customer_a):
    response = api_client_for(sales).patch(
        f"/api/customers/{customer_a.pk}/", {"phone": "+39 333 123 4567"}, format="json"
    )

    assert response.status_code == 200
    customer_a.refresh_from_db()
    assert customer_a.phone == "+393331234567"


def test_server_owned_fields_are_ignored_on_patch(api_client_for, manager, customer_a):
    # given
    before = Customer.objects.values().get(pk=customer_a.pk)
    payload = {
        "id": 9999,
        "status": "customer",
        "became_customer_at": "2000-01-01T00:00:00Z",
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
        "acquisition_source": "forged",
        "full_name": "Forged Name",
        "email_consent_at": "2000-01-01",
        "role": "manager",
        "is_staff": True,
    }

    # when
    response = api_client_for(manager).patch(
        f"/api/customers/{customer_a.pk}/", payload, format="json"
    )

    # then
    assert response.status_code == 200
    after = Customer.objects.values().get(pk=customer_a.pk)
    for key in (
        "id",
        "status",
        "became_customer_at",
        "created_at",
        "acquisition_source",
    ):
        assert after[key] == before[key], key
    assert after["first_name"] == before["first_name"]


def test_deleting_a_customer_with_orders_erases_them_and_keeps_the_orders(
    api_client_for, manager, order_a
):
    response = api_client_for(manager).delete(f"/api/customers/{order_a.customer_id}/")

    assert response.status_code == 204
    kept = Customer.objects.get(pk=order_a.customer_id)
    assert (kept.first_name, kept.last_name, kept.email) == ("", "", "")
    assert kept.orders.filter(pk=order_a.pk).exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?has_email=true", {"with_email"}),
        ("?has_email=false", {"with_phone", "no_contact"}),
        ("?has_email=false&has_phone=false", {"no_contact"}),
        ("?has_phone=true", {"with_phone"}),
        ("?status=customer", {"with_phone"}),
        ("?search=333", {"with_phone"}),
        ("?q=333%20123%204567", {"with_phone"}),
        ("?search=EXT-1", {"with_email"}),
    ],
)
def test_customer_filters(api_client_for, manager, store_a, query, expected):
    customers = {
        "with_email": CustomerFactory(
            email="a@example.com", external_id="EXT-1", home_store=store_a
        ),
        "with_phone": CustomerFactory(
            email="", phone="+393331234567", home_store=store_a
        ),
        "no_contact": CustomerFactory(email="", home_store=store_a),
    }
    customers["with_phone"].status = Customer.Status.CUSTOMER
    customers["with_phone"].became_customer_at = timezone.now()
    customers["with_phone"].save()

    response = api_client_for(manager).get("/api/customers/" + query)

    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {customers[name].pk for name in expected}


def test_a_non_integer_store_filter_is_a_400(api_client_for, manager):
    response = api_client_for(manager).get("/api/customers/?home_store=1.5")

    assert response.status_code == 400


def test_ordering_by_an_unlisted_field_is_ignored(api_client_for, manager, customer_a):
    response = api_client_for(manager).get("/api/customers/?ordering=home_store__name")

    assert response.status_code == 200


# --- consents -------------------------------------------------------------------


def test_granting_consent_records_evidence_with_the_actor(
    api_client_for, clerk_a, customer_a
):
    response = api_client_for(clerk_a).post(
        f"/api/customers/{customer_a.pk}/consents/",
        {
            "channel": "sms",
            "granted": True,
            "source": "store",
            "legal_basis": "consent",
            "wording_version": "v2",
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["granted"] is True
    event = ConsentEvent.objects.get(customer=customer_a, channel="sms")
    assert event.actor == clerk_a
    assert event.action == ConsentEvent.Action.GRANTED
    assert event.wording_version == "v2"
    assert event.source == "store"


def test_repeating_the_current_state_adds_no_evidence(
    api_client_for, sales, customer_a
):
    client = api_client_for(sales)
    url = f"/api/customers/{customer_a.pk}/consents/"
    payload = {"channel": "email", "granted": True, "source": "web"}

    client.post(url, payload, format="json")
    client.post(url, payload, format="json")

    assert ConsentEvent.objects.filter(customer=customer_a).count() == 1


def test_withdrawing_consent(api_client_for, sales, customer_a):
    client = api_client_for(sales)
    url = f"/api/customers/{customer_a.pk}/consents/"
    client.post(url, {"channel": "email", "granted": True, "source": "web"})

    client.post(url, {"channel": "email", "granted": False, "source": "web"})

    assert not ChannelConsent.objects.get(customer=customer_a, channel="email").granted
    actions = list(
        ConsentEvent.objects.filter(customer=customer_a).values_list(
            "action", flat=True
        )
    )
    assert actions == ["withdrawn", "granted"]


def test_consents_are_listed_per_customer(api_client_for, sales, customer_a):
    client = api_client_for(sales)
    url = f"/api/customers/{customer_a.pk}/consents/"
    client.post(url, {"channel": "sms", "granted": True, "source": "store"})
    client.post(url, {"channel": "email", "granted": False, "source": "store"})

    response = client.get(url)

    assert response.status_code == 200
    assert [(c["channel"], c["granted"]) for c in response.json()] == [
        ("email", False),
        ("sms", True),
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"channel": "fax", "granted": True, "source": "store"}, "channel"),
        ({"channel": "sms", "granted": True}, "source"),
        ({"channel": "sms", "granted": True, "source": ""}, "source"),
        ({"channel": "sms", "source": "store"}, "granted"),
        ({"channel": "sms", "granted": True, "source": "a\x00b"}, "source"),
        (
            {"channel": "sms", "granted": True, "source": "s", "legal_basis": "whim"},
            "legal_basis",
        ),
    ],
)
def test_invalid_consent_changes_are_400(
    api_client_for, sales, customer_a, payload, field
):
    response = api_client_for(sales).post(
        f"/api/customers/{customer_a.pk}/consents/", payload, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not ConsentEvent.objects.exists()


def test_consent_events_filter_by_customer(api_client_for, manager, two_stores):
    customer_a = two_stores["a"]

    response = api_client_for(manager).get(
        f"/api/consent-events/?customer={customer_a.pk}"
    )

    rows = response.json()["results"]
    assert rows and {row["customer"] for row in rows} == {customer_a.pk}

"""Interactions: staff and store are the server's to set."""

from __future__ import annotations

import pytest

from crm.models import Interaction
from tests.crm.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_staff_and_store_come_from_the_request(
    api_client_for, clerk_a, store_a, customer_a, manager
):
    other_store = StoreFactory(code="ELSEWHERE")
    payload = {
        "customer": customer_a.pk,
        "kind": "call",
        "channel": "phone",
        "outcome": "reached",
        "notes": "Asked about scarves",
        "staff": manager.pk,
        "store": other_store.pk,
    }

    response = api_client_for(clerk_a).post(
        "/api/interactions/", payload, format="json"
    )

    assert response.status_code == 201, response.json()
    interaction = Interaction.objects.get(pk=response.json()["id"])
    assert interaction.staff == clerk_a
    assert interaction.store == store_a
    assert interaction.occurred_at is not None


def test_a_manager_without_a_store_logs_no_store(api_client_for, manager, customer_a):
    response = api_client_for(manager).post(
        "/api/interactions/", {"customer": customer_a.pk, "kind": "note"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["store"] is None
    assert response.json()["staff"] == manager.pk


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "gossip"},
        {"kind": "call", "outcome": "maybe"},
        {"kind": "call", "notes": "a\x00b"},
        {"kind": "call", "data": {"key": "a\x00b"}},
        {"kind": "call", "data": {"a\x00": 1}},
        {"kind": "call", "data": [1, 2]},
        {"kind": "call", "data": {"big": "x" * 30_000}},
        {"kind": "call", "notes": "x" * 4001},
        {"kind": "call", "occurred_at": "not a date"},
    ],
)
def test_invalid_interactions_are_400(api_client_for, sales, customer_a, payload):
    response = api_client_for(sales).post(
        "/api/interactions/", {"customer": customer_a.pk, **payload}, format="json"
    )

    assert response.status_code == 400
    assert not Interaction.objects.exists()


def test_editing_keeps_staff_and_store(api_client_for, sales, manager, customer_a):
    client = api_client_for(sales)
    created = client.post(
        "/api/interactions/", {"customer": customer_a.pk, "kind": "call"}, format="json"
    ).json()

    response = client.patch(
        f"/api/interactions/{created['id']}/",
        {"notes": "Call back Friday", "staff": manager.pk},
        format="json",
    )

    assert response.status_code == 200
    interaction = Interaction.objects.get(pk=created["id"])
    assert interaction.notes == "Call back Friday"
    assert interaction.staff == sales

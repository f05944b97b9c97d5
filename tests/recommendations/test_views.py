"""Pages: the manager's runs page and the customer page's offers panel."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from recommendations import services
from recommendations.models import Suggestion

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.recommendations.urls")]


def _login(client, user):
    client.force_login(user)
    return client


def test_runs_page_shows_runs_and_performance_to_managers(
    computed_shop, client, manager, sales
):
    offer = Suggestion.objects.filter(status="new").first()
    services.record_outcome(suggestion_id=offer.pk, outcome="accepted", user=manager)
    response = _login(client, manager).get("/suggestions/runs/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Suggestion runs" in text and "completed" in text.lower()
    assert "Cross-sell" in text
    fragment = client.get("/suggestions/runs/", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()


@pytest.mark.parametrize("role", ["sales", "clerk_a"])
def test_runs_page_is_for_managers_only(computed_shop, client, role, request):
    user = request.getfixturevalue(role)
    assert _login(client, user).get("/suggestions/runs/").status_code == 403


def test_runs_page_query_count_does_not_grow(shop, client, manager, settings):
    settings.RECOMMENDATIONS_SHARD_SIZE = 6
    services.run_all()
    _login(client, manager).get("/suggestions/runs/")
    with CaptureQueriesContext(connection) as one:
        client.get("/suggestions/runs/")
    for _ in range(3):
        services.run_all()
    with CaptureQueriesContext(connection) as many:
        client.get("/suggestions/runs/")
    assert len(one) == len(many) <= 12


def test_panel_shows_offers_with_reasons_and_records_outcomes(
    computed_shop, client, sales
):
    customer = computed_shop.singles_a[0]
    _login(client, sales)
    response = client.get(f"/suggestions/customers/{customer.pk}/")
    assert response.status_code == 200
    assert "Butter" in response.content.decode()
    offer = Suggestion.objects.filter(customer=customer, status="new").first()
    response = client.post(
        f"/suggestions/{offer.pk}/outcome/",
        {"outcome": "declined", "note": "not today"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    offer.refresh_from_db()
    assert offer.status == "declined" and offer.note == "not today"


def test_panel_and_outcome_are_scoped_for_clerks(computed_shop, client, clerk_a):
    other = computed_shop.singles_b[0]
    _login(client, clerk_a)
    assert client.get(f"/suggestions/customers/{other.pk}/").status_code == 404
    offer = Suggestion.objects.filter(customer=other).first()
    response = client.post(f"/suggestions/{offer.pk}/outcome/", {"outcome": "shown"})
    assert response.status_code == 404
    own = Suggestion.objects.filter(customer=computed_shop.singles_a[0]).first()
    Suggestion.objects.filter(pk=own.pk).update(channel="email")
    response = client.post(f"/suggestions/{own.pk}/outcome/", {"outcome": "shown"})
    assert response.status_code == 403


def test_panel_query_count_does_not_grow(computed_shop, client, sales):
    customer = computed_shop.singles_a[0]
    _login(client, sales)
    url = f"/suggestions/customers/{customer.pk}/"
    client.get(url)
    Suggestion.objects.filter(customer=customer).exclude(
        pk=Suggestion.objects.filter(customer=customer).first().pk
    ).delete()
    with CaptureQueriesContext(connection) as one:
        client.get(url)
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
                [computed_shop.jam, computed_shop.bread], start=5
            )
        ]
    )
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(one) == len(many) <= 15


def test_anonymous_is_sent_to_login(computed_shop, client):
    response = client.get("/suggestions/runs/")
    assert response.status_code in (302, 403)


def test_italian_words_agree_with_what_they_describe(computed_shop, manager):
    # The same English word is a button on an offer ("offerta", feminine) and
    # a column counting suggestions ("suggerimenti", masculine plural).
    client = Client(headers={"Accept-Language": "it"})
    client.force_login(manager)
    customer = computed_shop.singles_a[0]
    panel = client.get(f"/suggestions/customers/{customer.pk}/").content.decode()
    assert ">Proposta</button>" in panel and ">Rifiutata</button>" in panel
    runs = client.get("/suggestions/runs/").content.decode()
    assert '<th scope="col">Accettati</th>' in runs
    assert '<th scope="col">Convertiti</th>' in runs

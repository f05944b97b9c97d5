"""The customer list sorts and filters spend by the last run's stored value.

Summing every customer's order lines per request takes seconds at 100,000
customers, so when a suggestion run has scored the customers the list sorts
and filters by that run's value (crm.hooks ``customer_value``), says so with
the run's date, and keeps the live lifetime value in its own column. Before
any run it falls back to the live figure (tests/crm/test_customer_pages.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from recommendations.models import CustomerScore, RecommendationRun
from tests.crm.factories import CustomerFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

LIST_BUDGET = 12


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def list_url(**params) -> str:
    return f"{reverse('crm:customer_list')}?{urlencode(params)}"


def buy(customer, price: str) -> None:
    order = OrderFactory(
        customer=customer,
        store=customer.home_store,
        placed_at=timezone.now() - dt.timedelta(days=5),
    )
    OrderLineFactory(order=order, line_no=1, unit_price=Decimal(price))


def run_with(values: dict, *, current: bool = True) -> RecommendationRun:
    run = RecommendationRun.objects.create(
        status=RecommendationRun.Status.COMPLETED,
        is_current=current,
        finished_at=timezone.now() - dt.timedelta(hours=2),
        scope="all" if current else f"old-{RecommendationRun.objects.count()}",
    )
    CustomerScore.objects.bulk_create(
        CustomerScore(run=run, customer=customer, value=value, eligibility="eligible")
        for customer, value in values.items()
    )
    return run


@pytest.fixture
def people(store_a, store_b):
    names = ("Anna", "Bea", "Carlo", "Dino")
    return {
        name: CustomerFactory(first_name=name, last_name="Test", home_store=store_a)
        for name in names
    } | {
        "Elio": CustomerFactory(first_name="Elio", last_name="Test", home_store=store_b)
    }


def pks(response) -> list[int]:
    return [c.pk for c in response.context["customers"]]


def test_spend_sort_follows_the_runs_value_with_unscored_customers_last(
    manager, people
):
    p = people
    run_with({p["Anna"]: 40.0, p["Bea"]: 900.0, p["Carlo"]: 510.0, p["Elio"]: 75.0})
    client = client_for(manager)
    response = client.get(list_url(sort="-spend"))
    expected = [p["Bea"].pk, p["Carlo"].pk, p["Elio"].pk, p["Anna"].pk, p["Dino"].pk]
    assert pks(response) == expected
    response = client.get(list_url(sort="spend"))
    assert pks(response) == [
        p["Anna"].pk, p["Elio"].pk, p["Carlo"].pk, p["Bea"].pk, p["Dino"].pk
    ]  # fmt: skip
    body = response.content.decode()
    assert "as of the last suggestion run" in body
    assert "not computed yet" in body  # Dino, a customer the run did not score
    assert "Value at last computation, highest first" in body


def test_spend_filters_compare_the_runs_value(manager, people):
    p = people
    run_with({p["Anna"]: 40.0, p["Bea"]: 900.0, p["Carlo"]: 500.0, p["Elio"]: 75.0})
    # Live spend disagrees on purpose: the filter must use the run's value,
    # the figure the sort uses and the column shows.
    buy(p["Anna"], "2000.00")
    client = client_for(manager)
    found = set(pks(client.get(list_url(spend_min="500"))))
    assert found == {p["Bea"].pk, p["Carlo"].pk}
    found = set(pks(client.get(list_url(spend_max="100"))))
    assert found == {p["Anna"].pk, p["Elio"].pk}
    found = set(pks(client.get(list_url(spend_min="50", spend_max="600"))))
    assert found == {p["Carlo"].pk, p["Elio"].pk}
    # The live column still tells the truth about today.
    row = next(c for c in client.get(list_url(q="Anna Test")).context["customers"])
    assert row.lifetime_value >= Decimal("2000") and row.stored_value == 40.0


def test_only_the_current_runs_values_count(manager, people):
    p = people
    run_with({p["Anna"]: 999.0, p["Bea"]: 1.0}, current=False)
    run_with({p["Anna"]: 10.0, p["Bea"]: 20.0})
    found = pks(client_for(manager).get(list_url(sort="-spend", spend_min="5")))
    assert found == [p["Bea"].pk, p["Anna"].pk]


def test_a_clerk_sorts_only_their_store(clerk_a, people):
    p = people
    run_with({p["Bea"]: 900.0, p["Elio"]: 5000.0})
    found = pks(client_for(clerk_a).get(list_url(sort="-spend")))
    assert found[0] == p["Bea"].pk and p["Elio"].pk not in found


def test_without_a_run_the_list_sorts_by_the_live_figure(manager, people):
    p = people
    buy(p["Carlo"], "300.00")
    buy(p["Anna"], "100.00")
    response = client_for(manager).get(list_url(sort="-spend", spend_min="50"))
    assert pks(response) == [p["Carlo"].pk, p["Anna"].pk]
    assert "as of the last suggestion run" not in response.content.decode()


@pytest.mark.parametrize("role", ["manager", "clerk_a"])
def test_stored_sort_costs_the_same_queries_for_1_and_50_rows(request, role, store_a):
    client = client_for(request.getfixturevalue(role))
    first = CustomerFactory(home_store=store_a)
    run = run_with({first: 10.0})

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(list_url(sort="-spend", spend_min="1"))
        assert response.status_code == 200
        statements = [
            q["sql"]
            for q in queries.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO"))
        ]
        return len(statements), len(response.context["customers"])

    one, rows = count()
    assert rows == 1
    more = [CustomerFactory(home_store=store_a) for _ in range(60)]
    CustomerScore.objects.bulk_create(
        CustomerScore(run=run, customer=c, value=20.0 + n, eligibility="eligible")
        for n, c in enumerate(more)
    )
    fifty, rows = count()
    assert rows == 50
    assert one == fifty <= LIST_BUDGET

"""Ladder API: managers write, others read; positions scoped; query budgets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ladder.models import Ladder, Step, StepOffer
from tests.crm.factories import CustomerFactory, ProductFactory
from tests.ladder.factories import (
    CustomerLadderPositionFactory,
    LadderFactory,
    StepFactory,
    StepOfferFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ladder.urls")]


def test_managers_build_a_ladder_through_the_api(api_client_for, manager):
    client = api_client_for(manager)
    ladder = client.post("/api/ladders/", {"name": "Laptop", "description": ""})
    assert ladder.status_code == 201, ladder.data
    ladder_id = ladder.data["id"]
    basic, pro, case = (
        ProductFactory(price=Decimal(p)) for p in ("500.00", "1500.00", "30.00")
    )
    first = client.post("/api/ladder-steps/", {"ladder": ladder_id, "product": pro.pk})
    assert first.status_code == 201, first.data
    second = client.post(
        "/api/ladder-steps/", {"ladder": ladder_id, "product": basic.pk, "position": 1}
    )
    assert second.status_code == 201
    assert second.data["position"] == 1
    detail = client.get(f"/api/ladders/{ladder_id}/").data
    assert [step["product"] for step in detail["steps"]] == [basic.pk, pro.pk]
    assert detail["publishable"] is False
    assert [v["code"] for v in detail["violations"]] == ["top_without_cross_sells"]
    refused = client.patch(f"/api/ladders/{ladder_id}/", {"active": True})
    assert refused.status_code == 400
    offer = client.post(
        "/api/ladder-offers/",
        {"step": first.data["id"], "product": case.pk, "note": "fits"},
    )
    assert offer.status_code == 201, offer.data
    published = client.patch(f"/api/ladders/{ladder_id}/", {"active": True})
    assert published.status_code == 200, published.data
    assert published.data["active"] is True


def test_moving_a_step_through_the_api_keeps_positions_dense(api_client_for, manager):
    ladder = LadderFactory()
    steps = [StepFactory(ladder=ladder, position=n) for n in (1, 2, 3)]
    response = api_client_for(manager).patch(
        f"/api/ladder-steps/{steps[2].pk}/", {"position": 1}
    )
    assert response.status_code == 200, response.data
    assert list(ladder.steps.values_list("id", flat=True)) == [
        steps[2].pk,
        steps[0].pk,
        steps[1].pk,
    ]


@pytest.mark.parametrize("role", ["sales", "clerk_a"])
def test_sales_and_clerks_read_but_cannot_write(
    request, api_client_for, laptop_ladder, role
):
    client = api_client_for(request.getfixturevalue(role))
    assert client.get("/api/ladders/").status_code == 200
    assert client.get("/api/ladder-steps/").status_code == 200
    assert client.get("/api/ladder-offers/").status_code == 200
    step = laptop_ladder.steps.get(position=1)
    assert client.post("/api/ladders/", {"name": "X"}).status_code == 403
    assert (
        client.patch(f"/api/ladders/{laptop_ladder.pk}/", {"name": "X"}).status_code
        == 403
    )
    assert client.delete(f"/api/ladder-steps/{step.pk}/").status_code == 403
    assert (
        client.post(
            "/api/ladder-offers/", {"step": step.pk, "product": ProductFactory().pk}
        ).status_code
        == 403
    )
    assert client.get(f"/api/ladders/{laptop_ladder.pk}/report/").status_code == 403
    assert Ladder.objects.get().name == "Laptop"
    assert Step.objects.count() == 2 and StepOffer.objects.count() == 1


def test_server_owned_fields_cannot_be_written(api_client_for, manager, laptop_ladder):
    response = api_client_for(manager).patch(
        f"/api/ladders/{laptop_ladder.pk}/",
        {"created_at": "2000-01-01T00:00:00Z", "violations": [], "publishable": True},
    )
    assert response.status_code == 200
    laptop_ladder.refresh_from_db()
    assert laptop_ladder.created_at.year != 2000


def test_positions_show_next_step_and_complements(api_client_for, sales, laptop_ladder):
    laptop_ladder.active = True
    laptop_ladder.save()
    basic, pro = laptop_ladder.steps.order_by("position")
    StepOfferFactory(step=basic, note="a bag")
    customer = CustomerFactory()
    CustomerLadderPositionFactory(customer=customer, step=basic)
    response = api_client_for(sales).get(
        f"/api/ladder-positions/?customer={customer.pk}"
    )
    assert response.status_code == 200
    [position] = response.data["results"]
    assert position["step"]["id"] == basic.pk
    assert position["next_step"]["id"] == pro.pk
    assert [c["note"] for c in position["complements"]] == ["a bag"]


def test_a_clerk_sees_only_positions_of_their_store(
    api_client_for, clerk_a, store_a, store_b, laptop_ladder
):
    laptop_ladder.active = True
    laptop_ladder.save()
    step = laptop_ladder.steps.get(position=1)
    mine = CustomerLadderPositionFactory(
        customer=CustomerFactory(home_store=store_a), step=step
    )
    theirs = CustomerLadderPositionFactory(
        customer=CustomerFactory(home_store=store_b), step=step
    )
    client = api_client_for(clerk_a)
    ids = [row["id"] for row in client.get("/api/ladder-positions/").data["results"]]
    assert ids == [mine.pk]
    assert client.get(f"/api/ladder-positions/{theirs.pk}/").status_code == 404
    assert (
        client.get(f"/api/ladder-positions/?customer={theirs.customer_id}").data[
            "count"
        ]
        == 0
    )


def test_the_report_endpoint_gives_the_figures(api_client_for, manager, laptop_ladder):
    basic = laptop_ladder.steps.get(position=1)
    CustomerLadderPositionFactory(
        step=basic, reached_at=timezone.now() - dt.timedelta(days=200), stalled=True
    )
    response = api_client_for(manager).get(
        f"/api/ladders/{laptop_ladder.pk}/report/?start=2020-01-01"
    )
    assert response.status_code == 200, response.data
    assert response.data["total_customers"] == 1
    assert response.data["steps"][0]["stalled"] == 1
    bad = api_client_for(manager).get(
        f"/api/ladders/{laptop_ladder.pk}/report/?start=2030-01-01&end=2020-01-01"
    )
    assert bad.status_code == 400


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.data
    return len(queries)


def _grow_ladders(count):
    for _ in range(count):
        ladder = LadderFactory(active=True)
        top = StepFactory(ladder=ladder, position=1)
        StepOfferFactory(step=top)
        CustomerLadderPositionFactory(step=top)


@pytest.mark.parametrize(
    "url",
    [
        "/api/ladders/",
        "/api/ladder-steps/",
        "/api/ladder-offers/",
        "/api/ladder-positions/",
    ],
)
def test_api_lists_cost_the_same_queries_for_1_and_50_rows(
    api_client_for, manager, url
):
    def fresh_client():
        # A fresh user object per request, as in production: nothing cached.
        return api_client_for(type(manager).objects.get(pk=manager.pk))

    _grow_ladders(1)
    one = _queries(fresh_client(), url)
    _grow_ladders(49)
    fifty = _queries(fresh_client(), url)
    assert one == fifty <= 8

"""Ladder pages: permissions, the editor's actions, htmx fragments, query budgets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ladder.models import Step
from tests.crm.factories import CustomerFactory, ProductFactory
from tests.ladder.factories import (
    CustomerLadderPositionFactory,
    CustomerStepReachFactory,
    LadderFactory,
    StepFactory,
    StepOfferFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ladder.urls")]


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


# --- Permissions -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["sales", "clerk_a"])
def test_sales_and_clerks_cannot_open_the_manager_pages(
    request, client, laptop_ladder, role
):
    client.force_login(request.getfixturevalue(role))
    for name in ["ladder:ladder_list", "ladder:ladder_create"]:
        assert client.get(reverse(name)).status_code == 403
    for name in ["ladder:ladder_edit", "ladder:ladder_report"]:
        assert client.get(reverse(name, args=[laptop_ladder.pk])).status_code == 403


def test_a_clerk_cannot_edit_a_ladder(client, clerk_a, laptop_ladder):
    client.force_login(clerk_a)
    product = ProductFactory()
    step = laptop_ladder.steps.get(position=1)
    responses = [
        client.post(
            reverse("ladder:ladder_edit", args=[laptop_ladder.pk]), {"name": "X"}
        ),
        client.post(
            reverse("ladder:step_create", args=[laptop_ladder.pk]),
            {"product": product.pk},
        ),
        client.post(reverse("ladder:step_move", args=[step.pk]), {"position": 2}),
        client.post(reverse("ladder:step_delete", args=[step.pk])),
        client.post(
            reverse("ladder:offer_create", args=[step.pk]), {"product": product.pk}
        ),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    laptop_ladder.refresh_from_db()
    assert laptop_ladder.name == "Laptop"
    assert laptop_ladder.steps.count() == 2
    assert not step.offers.exists()


def test_anonymous_users_are_sent_to_log_in(client, laptop_ladder):
    response = client.get(reverse("ladder:ladder_list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Pages ---------------------------------------------------------------------------


def test_the_list_shows_ladders_and_their_rule_check(manager_client, laptop_ladder):
    LadderFactory(name="Empty one")
    response = manager_client.get(reverse("ladder:ladder_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Laptop" in body and "Empty one" in body
    assert "1 error" in body


def test_creating_a_ladder_leads_to_the_editor(manager_client):
    response = manager_client.post(
        reverse("ladder:ladder_create"), {"name": "New", "description": ""}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/ladders/")


def test_the_editor_shows_rule_violations_inline(manager_client):
    ladder = LadderFactory()
    StepFactory(ladder=ladder, position=1, product=ProductFactory(price=Decimal("100")))
    StepFactory(ladder=ladder, position=2, product=ProductFactory(price=Decimal("105")))
    body = manager_client.get(
        reverse("ladder:ladder_edit", args=[ladder.pk])
    ).content.decode()
    assert "a climb needs at least +10" in body
    assert "must carry cross-sells" in body


def test_adding_moving_and_removing_steps_in_the_editor(manager_client):
    ladder = LadderFactory()
    a, b = ProductFactory(name="Alpha"), ProductFactory(name="Beta")
    url = reverse("ladder:step_create", args=[ladder.pk])
    assert manager_client.post(url, {"product": a.pk}).status_code == 302
    assert manager_client.post(url, {"product": b.pk, "position": 1}).status_code == 302
    assert list(ladder.steps.values_list("name", flat=True)) == ["Beta", "Alpha"]
    beta = ladder.steps.get(name="Beta")
    manager_client.post(reverse("ladder:step_move", args=[beta.pk]), {"position": 2})
    assert list(ladder.steps.values_list("name", flat=True)) == ["Alpha", "Beta"]
    manager_client.post(reverse("ladder:step_delete", args=[beta.pk]))
    assert list(ladder.steps.values_list("name", "position")) == [("Alpha", 1)]


def test_an_htmx_action_answers_with_the_editor_fragment(manager_client, laptop_ladder):
    step = laptop_ladder.steps.get(position=1)
    product = ProductFactory(name="Mouse")
    response = manager_client.post(
        reverse("ladder:offer_create", args=[step.pk]),
        {"product": product.pk, "note": "goes with it"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="ladder-editor"')
    assert "<html" not in body
    assert step.offers.get().note == "goes with it"


def test_publishing_a_broken_ladder_shows_the_errors(manager_client):
    ladder = LadderFactory(name="Broken")
    StepFactory(ladder=ladder, position=1)
    response = manager_client.post(
        reverse("ladder:ladder_edit", args=[ladder.pk]),
        {"name": "Broken", "description": "", "active": "on"},
    )
    assert response.status_code == 400
    assert "cannot be published" in response.content.decode()
    ladder.refresh_from_db()
    assert not ladder.active


def test_a_refused_action_explains_why(manager_client, laptop_ladder):
    laptop_ladder.active = True
    laptop_ladder.save()
    offer = Step.objects.get(ladder=laptop_ladder, position=2).offers.get()
    response = manager_client.post(
        reverse("ladder:offer_delete", args=[offer.pk]), HTTP_HX_REQUEST="true"
    )
    assert "must carry cross-sells" in response.content.decode()
    assert Step.objects.get(ladder=laptop_ladder, position=2).offers.exists()


def _report_data(ladder, customers):
    basic, pro = ladder.steps.order_by("position")
    old = timezone.now() - dt.timedelta(days=200)
    for index in range(customers):
        customer = CustomerFactory()
        step = basic if index % 2 else pro
        CustomerLadderPositionFactory(
            customer=customer, step=step, reached_at=old, stalled=step == basic
        )
        CustomerStepReachFactory(
            customer=customer, step=basic, reached_at=old, revenue=500
        )
        if step == pro:
            CustomerStepReachFactory(
                customer=customer, step=pro, reached_at=timezone.now(), revenue=1500
            )


def test_the_report_shows_funnel_conversion_and_stalled_customers(
    manager_client, laptop_ladder
):
    _report_data(laptop_ladder, 4)
    response = manager_client.get(
        reverse("ladder:ladder_report", args=[laptop_ladder.pk])
    )
    assert response.status_code == 200
    report = response.context["report"]
    basic, pro = report.steps
    assert (basic.customers, basic.stalled, pro.customers) == (2, 2, 2)
    assert basic.revenue == Decimal("2000")
    body = response.content.decode()
    assert "<svg" in body and 'role="img"' in body
    stalled = basic.stalled_customers[0]
    assert reverse("crm:customer_detail", args=[stalled.customer_id]) in body
    assert "/admin/crm/customer/" not in body


def _count_report_queries(client, ladder):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("ladder:ladder_report", args=[ladder.pk]))
    assert response.status_code == 200
    return len(queries)


def test_the_report_costs_the_same_queries_for_1_and_50_customers(
    manager_client, laptop_ladder
):
    _report_data(laptop_ladder, 1)
    manager_client.get(reverse("ladder:ladder_report", args=[laptop_ladder.pk]))  # warm
    one = _count_report_queries(manager_client, laptop_ladder)
    _report_data(laptop_ladder, 49)
    fifty = _count_report_queries(manager_client, laptop_ladder)
    assert one == fifty
    assert fifty <= 20


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_list_and_editor_cost_the_same_queries_for_1_and_50_rows(manager_client):
    ladder = LadderFactory()
    top = StepFactory(ladder=ladder)
    StepOfferFactory(step=top)
    manager_client.get(reverse("ladder:ladder_list"))  # warm the session
    list_one = _count(manager_client, reverse("ladder:ladder_list"))
    editor_one = _count(manager_client, reverse("ladder:ladder_edit", args=[ladder.pk]))
    for _ in range(49):
        LadderFactory()
        StepOfferFactory(step=StepFactory(ladder=ladder))
    list_fifty = _count(manager_client, reverse("ladder:ladder_list"))
    editor_fifty = _count(
        manager_client, reverse("ladder:ladder_edit", args=[ladder.pk])
    )
    assert list_one == list_fifty <= 12
    assert editor_one == editor_fifty <= 15


def test_the_editor_sets_the_products_that_also_count(manager_client, laptop_ladder):
    step = laptop_ladder.steps.get(position=1)
    sibling = ProductFactory(name="Sibling")
    response = manager_client.post(
        reverse("ladder:step_update", args=[step.pk]),
        {"name": step.name, "price": "500.00", "also_counts": [sibling.pk]},
    )
    assert response.status_code == 302
    assert list(step.also_counts.all()) == [sibling]


def test_a_manager_deletes_a_ladder_and_a_clerk_cannot(
    client, manager, clerk_a, laptop_ladder
):
    url = reverse("ladder:ladder_delete", args=[laptop_ladder.pk])
    client.force_login(clerk_a)
    assert client.post(url).status_code == 403
    client.force_login(manager)
    assert client.post(url).status_code == 302
    assert not type(laptop_ladder).objects.exists()

"""Selectors: the customer's ladder view and the report, with query budgets."""

import datetime as dt

import pytest
from django.utils import timezone

from ladder.selectors import get_ladder_report, list_customer_positions
from tests.crm.factories import CustomerFactory
from tests.ladder.factories import (
    CustomerLadderPositionFactory,
    CustomerStepReachFactory,
    LadderFactory,
    StepFactory,
    StepOfferFactory,
)

pytestmark = pytest.mark.django_db


def test_a_customer_sees_step_next_step_and_complements(laptop_ladder):
    laptop_ladder.active = True
    laptop_ladder.save()
    basic, pro = laptop_ladder.steps.order_by("position")
    bag = StepOfferFactory(step=basic, note="fits 14 inch")
    customer = CustomerFactory()
    CustomerLadderPositionFactory(customer=customer, step=basic)
    [view] = list_customer_positions(customer_id=customer.pk)
    assert view.step == basic
    assert view.next_step == pro
    assert view.complements == (bag,)


def test_the_next_step_skips_cross_sell_only_steps():
    ladder = LadderFactory(active=True)
    entry = StepFactory(ladder=ladder, position=1)
    StepFactory(ladder=ladder, position=2, cross_sell_only=True)
    upsell = StepFactory(ladder=ladder, position=3)
    customer = CustomerFactory()
    CustomerLadderPositionFactory(customer=customer, step=entry)
    assert list_customer_positions(customer_id=customer.pk)[0].next_step == upsell


def test_the_top_step_has_no_next_step_and_drafts_are_hidden(laptop_ladder):
    draft = LadderFactory(active=False)
    customer = CustomerFactory()
    CustomerLadderPositionFactory(customer=customer, step=StepFactory(ladder=draft))
    laptop_ladder.active = True
    laptop_ladder.save()
    top = laptop_ladder.steps.get(position=2)
    CustomerLadderPositionFactory(customer=customer, step=top)
    [view] = list_customer_positions(customer_id=customer.pk)
    assert view.ladder == laptop_ladder
    assert view.next_step is None
    assert len(view.complements) == 1


def test_the_customer_view_costs_three_queries_however_many_ladders(
    django_assert_num_queries,
):
    customer = CustomerFactory()
    for _ in range(5):
        ladder = LadderFactory(active=True)
        step = StepFactory(ladder=ladder, position=1)
        StepFactory(ladder=ladder, position=2)
        StepOfferFactory(step=step)
        CustomerLadderPositionFactory(customer=customer, step=step)
    with django_assert_num_queries(3):
        views = list_customer_positions(customer_id=customer.pk)
        assert all(view.next_step and view.complements for view in views)


def test_the_report_counts_conversion_inside_the_period(laptop_ladder):
    basic, pro = laptop_ladder.steps.order_by("position")
    now = timezone.now()
    start, end = now - dt.timedelta(days=30), now
    climbed_in = CustomerFactory()
    CustomerStepReachFactory(
        customer=climbed_in,
        step=basic,
        reached_at=now - dt.timedelta(days=50),
        climbed_at=now - dt.timedelta(days=10),
        days_to_climb=40,
    )
    climbed_before = CustomerFactory()
    CustomerStepReachFactory(
        customer=climbed_before,
        step=basic,
        reached_at=now - dt.timedelta(days=90),
        climbed_at=now - dt.timedelta(days=60),
        days_to_climb=30,
    )
    waiting = CustomerFactory()
    CustomerStepReachFactory(
        customer=waiting, step=basic, reached_at=now - dt.timedelta(days=5)
    )
    report = get_ladder_report(ladder=laptop_ladder, start=start, end=end)
    basic_figures = report.steps[0]
    assert (basic_figures.reached, basic_figures.eligible, basic_figures.climbed) == (
        3,
        2,
        1,
    )
    assert basic_figures.conversion == 0.5
    assert basic_figures.median_days_to_climb == 40


def test_the_customer_panel_partial_renders_without_extending(laptop_ladder):
    from django.template.loader import render_to_string

    laptop_ladder.active = True
    laptop_ladder.save()
    basic, pro = laptop_ladder.steps.order_by("position")
    customer = CustomerFactory()
    CustomerLadderPositionFactory(customer=customer, step=basic, stalled=True)
    html = render_to_string(
        "ladder/partials/customer_ladders.html",
        {"ladder_positions": list_customer_positions(customer_id=customer.pk)},
    )
    assert "<html" not in html
    assert pro.name in html and "Stalled" in html

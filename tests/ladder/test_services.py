"""Ladder services against the database: steps, publishing, positions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.services.orders import LineInput, cancel_order, place_order, record_return
from ladder import services
from ladder.models import CustomerLadderPosition, CustomerStepReach, Step
from tests.crm.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from tests.ladder.factories import LadderFactory

pytestmark = pytest.mark.django_db


def positions_of(ladder):
    return list(
        Step.objects.filter(ladder=ladder)
        .order_by("position")
        .values_list("name", "position")
    )


def buy(customer, product, *, days_ago=10, quantity=1):
    return OrderLineFactory(
        order=OrderFactory(
            customer=customer, placed_at=timezone.now() - dt.timedelta(days=days_ago)
        ),
        product=product,
        quantity=quantity,
    )


# --- Steps ---------------------------------------------------------------------


def test_steps_are_appended_and_inserted_with_dense_positions():
    ladder = LadderFactory()
    services.add_step(ladder=ladder, product=ProductFactory(), name="A")
    services.add_step(ladder=ladder, product=ProductFactory(), name="C")
    services.add_step(ladder=ladder, product=ProductFactory(), name="B", position=2)
    assert positions_of(ladder) == [("A", 1), ("B", 2), ("C", 3)]


def test_moving_a_step_keeps_positions_dense_and_unique():
    ladder = LadderFactory()
    steps = [
        services.add_step(ladder=ladder, product=ProductFactory(), name=name)
        for name in "ABCD"
    ]
    services.move_step(step=steps[3], position=1)
    assert positions_of(ladder) == [("D", 1), ("A", 2), ("B", 3), ("C", 4)]
    services.move_step(step=steps[3], position=99)
    assert positions_of(ladder) == [("A", 1), ("B", 2), ("C", 3), ("D", 4)]


def test_removing_a_step_closes_the_gap():
    ladder = LadderFactory()
    steps = [
        services.add_step(ladder=ladder, product=ProductFactory(), name=name)
        for name in "ABC"
    ]
    services.remove_step(step=steps[0])
    assert positions_of(ladder) == [("B", 1), ("C", 2)]


def test_reorder_needs_every_step_once():
    ladder = LadderFactory()
    a, b = (
        services.add_step(ladder=ladder, product=ProductFactory(), name=name)
        for name in "AB"
    )
    services.reorder_steps(ladder=ladder, step_ids=[b.pk, a.pk])
    assert positions_of(ladder) == [("B", 1), ("A", 2)]
    with pytest.raises(ValidationError):
        services.reorder_steps(ladder=ladder, step_ids=[a.pk])


def test_a_step_price_defaults_to_the_product_price():
    step = services.add_step(
        ladder=LadderFactory(), product=ProductFactory(price=Decimal("12.50"))
    )
    assert step.price == Decimal("12.50")


def test_an_inactive_product_cannot_become_a_step():
    with pytest.raises(ValidationError):
        services.add_step(ladder=LadderFactory(), product=ProductFactory(active=False))


# --- Publishing ------------------------------------------------------------------


def test_a_ladder_breaking_a_rule_cannot_be_published():
    ladder = LadderFactory()
    services.add_step(ladder=ladder, product=ProductFactory(price=Decimal("100")))
    services.add_step(ladder=ladder, product=ProductFactory(price=Decimal("200")))
    with pytest.raises(ValidationError) as error:
        services.update_ladder(ladder=ladder, active=True)
    assert "cross-sells" in str(error.value)
    ladder.refresh_from_db()
    assert ladder.active is False


def test_a_valid_ladder_can_be_published(laptop_ladder):
    services.update_ladder(ladder=laptop_ladder, active=True)
    laptop_ladder.refresh_from_db()
    assert laptop_ladder.active is True


def test_a_change_that_breaks_a_published_ladder_is_refused(laptop_ladder):
    services.update_ladder(ladder=laptop_ladder, active=True)
    offer = Step.objects.get(ladder=laptop_ladder, position=2).offers.get()
    with pytest.raises(ValidationError):
        services.remove_step_offer(offer=offer)
    assert Step.objects.get(ladder=laptop_ladder, position=2).offers.count() == 1


def test_a_warning_does_not_block_publishing():
    ladder = LadderFactory()
    services.add_step(ladder=ladder, product=ProductFactory(price=Decimal("10")))
    top = services.add_step(ladder=ladder, product=ProductFactory(price=Decimal("100")))
    services.add_step_offer(step=top, product=ProductFactory())
    services.update_ladder(ladder=ladder, active=True)
    assert ladder.active


# --- Positions -------------------------------------------------------------------


def test_a_customer_stands_on_the_highest_step_bought(laptop_ladder):
    basic, pro = laptop_ladder.steps.order_by("position")
    customer = CustomerFactory()
    buy(customer, basic.product, days_ago=40)
    buy(customer, pro.product, days_ago=10)
    services.recompute_customer_positions(customer_id=customer.pk)
    position = CustomerLadderPosition.objects.get(customer=customer)
    assert position.step == pro
    assert not position.stalled
    reach = CustomerStepReach.objects.get(customer=customer, step=basic)
    assert reach.days_to_climb == 30


def test_a_cancelled_order_does_not_count(laptop_ladder):
    basic, pro = laptop_ladder.steps.order_by("position")
    customer = CustomerFactory()
    buy(customer, basic.product, days_ago=40)
    line = buy(customer, pro.product, days_ago=10)
    cancel_order(order=line.order)
    services.recompute_customer_positions(customer_id=customer.pk)
    assert CustomerLadderPosition.objects.get(customer=customer).step == basic


def test_a_fully_returned_purchase_does_not_count_but_a_partial_one_does(laptop_ladder):
    basic, pro = laptop_ladder.steps.order_by("position")
    customer = CustomerFactory()
    buy(customer, basic.product, days_ago=40)
    line = buy(customer, pro.product, days_ago=10, quantity=2)
    record_return(line=line, quantity=1)
    services.recompute_customer_positions(customer_id=customer.pk)
    assert CustomerLadderPosition.objects.get(customer=customer).step == pro
    record_return(line=line, quantity=1)
    services.recompute_customer_positions(customer_id=customer.pk)
    assert CustomerLadderPosition.objects.get(customer=customer).step == basic


def test_a_customer_who_returned_everything_has_no_position(laptop_ladder):
    basic = laptop_ladder.steps.get(position=1)
    customer = CustomerFactory()
    line = buy(customer, basic.product)
    services.recompute_customer_positions(customer_id=customer.pk)
    assert CustomerLadderPosition.objects.filter(customer=customer).exists()
    record_return(line=line, quantity=1)
    services.recompute_customer_positions(customer_id=customer.pk)
    assert not CustomerLadderPosition.objects.filter(customer=customer).exists()
    assert not CustomerStepReach.objects.filter(customer=customer).exists()


def test_an_active_subscription_counts_while_it_runs(subscription_ladder):
    ladder, (cut, monthly, premium) = subscription_ladder
    customer = CustomerFactory()
    buy(customer, cut.product, days_ago=100)
    buy(customer, monthly.product, days_ago=10)
    services.recompute_customer_positions(customer_id=customer.pk)
    assert CustomerLadderPosition.objects.get(customer=customer).step == monthly


def test_a_lapsed_subscription_drops_the_customer_back(subscription_ladder):
    ladder, (cut, monthly, premium) = subscription_ladder
    customer = CustomerFactory()
    buy(customer, cut.product, days_ago=100)
    buy(customer, monthly.product, days_ago=60)
    services.recompute_customer_positions(customer_id=customer.pk)
    position = CustomerLadderPosition.objects.get(customer=customer)
    assert position.step == cut
    assert position.stalled  # on the cut for 100 days without a climb still running


def test_stalled_follows_the_configured_time(laptop_ladder, settings):
    basic = laptop_ladder.steps.get(position=1)
    customer = CustomerFactory()
    buy(customer, basic.product, days_ago=40)
    settings.LADDER_STALL_DAYS = 30
    services.recompute_customer_positions(customer_id=customer.pk)
    assert CustomerLadderPosition.objects.get(customer=customer).stalled
    settings.LADDER_STALL_DAYS = 60
    services.recompute_customer_positions(customer_id=customer.pk)
    assert not CustomerLadderPosition.objects.get(customer=customer).stalled


def test_recompute_all_is_idempotent_and_drops_stale_rows(laptop_ladder):
    basic, pro = laptop_ladder.steps.order_by("position")
    first, second = CustomerFactory(), CustomerFactory()
    buy(first, basic.product)
    line = buy(second, pro.product)
    result = services.recompute_all_positions()
    assert result.positions == 2
    snapshot = list(
        CustomerLadderPosition.objects.order_by("customer_id").values_list(
            "customer_id", "step_id", "reached_at", "stalled"
        )
    )
    services.recompute_all_positions()
    assert snapshot == list(
        CustomerLadderPosition.objects.order_by("customer_id").values_list(
            "customer_id", "step_id", "reached_at", "stalled"
        )
    )
    cancel_order(order=line.order)
    services.recompute_all_positions()
    assert list(
        CustomerLadderPosition.objects.values_list("customer_id", flat=True)
    ) == [first.pk]


def test_a_one_customer_recompute_leaves_the_others_alone(laptop_ladder):
    basic = laptop_ladder.steps.get(position=1)
    first, second = CustomerFactory(), CustomerFactory()
    buy(first, basic.product)
    buy(second, basic.product)
    services.recompute_all_positions()
    services.recompute_customer_positions(customer_id=first.pk)
    assert CustomerLadderPosition.objects.count() == 2


def test_an_also_counts_product_places_the_customer_on_the_step(laptop_ladder):
    basic = laptop_ladder.steps.get(position=1)
    sibling = ProductFactory()
    services.update_step(step=basic, also_counts=[sibling])
    customer = CustomerFactory()
    buy(customer, sibling)
    services.recompute_customer_positions(customer_id=customer.pk)
    assert CustomerLadderPosition.objects.get(customer=customer).step == basic


def test_placing_an_order_recomputes_the_customer_after_commit(
    laptop_ladder, django_capture_on_commit_callbacks
):
    basic = laptop_ladder.steps.get(position=1)
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        place_order(
            customer=customer,
            lines=[LineInput(product_id=basic.product_id, quantity=1)],
        )
    assert len(callbacks) == 1
    assert CustomerLadderPosition.objects.get(customer=customer).step == basic


def test_a_rolled_back_order_enqueues_nothing(
    laptop_ladder, django_capture_on_commit_callbacks
):
    from django.db import transaction

    basic = laptop_ladder.steps.get(position=1)
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            place_order(
                customer=customer,
                lines=[LineInput(product_id=basic.product_id, quantity=1)],
            )
            raise RuntimeError("rolled back")
    assert callbacks == []
    assert not CustomerLadderPosition.objects.filter(customer=customer).exists()


def test_an_older_full_run_never_overwrites_a_newer_customer_recompute(
    laptop_ladder, monkeypatch
):
    from django.db import connection

    from ladder import selectors

    if connection.vendor != "postgresql":
        pytest.skip("the computed_at guard is in the PostgreSQL writer")
    basic, pro = laptop_ladder.steps.order_by("position")
    customer = CustomerFactory()
    buy(customer, basic.product, days_ago=20)
    started = timezone.now()
    services.recompute_positions(now=started - dt.timedelta(seconds=10))
    # the customer climbs, and their own recompute runs after the nightly began
    buy(customer, pro.product, days_ago=0)
    services.recompute_positions(customer_ids=[customer.pk], now=started)
    # the nightly run, which read the lines before that order, writes late
    read_lines = selectors.build_kept_lines_frame

    def lines_before_the_order(**kwargs):
        lines = read_lines(**kwargs)
        return lines[lines["product_id"] != pro.product_id]

    monkeypatch.setattr(selectors, "build_kept_lines_frame", lines_before_the_order)
    services.recompute_positions(now=started - dt.timedelta(seconds=5))
    assert CustomerLadderPosition.objects.get(customer=customer).step == pro

"""Ladder tasks on a real Celery worker (PostgreSQL + Redis), and in-process."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.services.orders import LineInput, place_order
from ladder.models import CustomerLadderPosition
from ladder.tasks import recompute_all_positions_task, recompute_customer_positions_task
from tests.conftest import wait_for
from tests.crm.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from tests.ladder.factories import LadderFactory, StepFactory, StepOfferFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _ladder():
    ladder = LadderFactory(active=True)
    basic = StepFactory(
        ladder=ladder, position=1, product=ProductFactory(price=Decimal("100"))
    )
    pro = StepFactory(
        ladder=ladder, position=2, product=ProductFactory(price=Decimal("300"))
    )
    StepOfferFactory(step=pro)
    return basic, pro


def _bought(customer, product, days_ago):
    OrderLineFactory(
        order=OrderFactory(
            customer=customer, placed_at=timezone.now() - dt.timedelta(days=days_ago)
        ),
        product=product,
    )


def test_the_tasks_have_stable_names_and_safe_retry_settings():
    for task in (recompute_all_positions_task, recompute_customer_positions_task):
        assert task.name.startswith("ladder.recompute_")
        assert task.acks_late is True
        assert task.max_retries == 5


def test_the_tasks_run_in_process_with_ids():
    basic, _ = _ladder()
    customer = CustomerFactory()
    _bought(customer, basic.product, 5)
    recompute_customer_positions_task.delay(customer.pk)
    assert CustomerLadderPosition.objects.get(customer=customer).step == basic
    CustomerLadderPosition.objects.all().delete()
    recompute_all_positions_task.delay()
    assert CustomerLadderPosition.objects.count() == 1


def test_the_scheduled_job_recomputes_everyone_on_a_real_worker(celery_worker_process):
    # given: customers on both steps, one of them stalled
    basic, pro = _ladder()
    customers = [CustomerFactory() for _ in range(3)]
    _bought(customers[0], basic.product, 200)
    _bought(customers[1], basic.product, 20)
    _bought(customers[1], pro.product, 5)
    _bought(customers[2], pro.product, 3)
    # when: the beat entry's task is published to Redis
    recompute_all_positions_task.delay()
    # then: the worker wrote every position
    wait_for(
        lambda: CustomerLadderPosition.objects.count() == 3,
        timeout=60,
        message=f"positions were not written:\n{celery_worker_process.log_path.read_text()}",
    )
    by_customer = {
        p.customer_id: p for p in CustomerLadderPosition.objects.select_related("step")
    }
    assert by_customer[customers[0].pk].step == basic
    assert by_customer[customers[0].pk].stalled
    assert by_customer[customers[1].pk].step == pro
    assert by_customer[customers[2].pk].step == pro


def test_a_committed_order_recomputes_its_customer_on_a_real_worker(
    celery_worker_process,
):
    basic, _ = _ladder()
    customer = CustomerFactory()
    place_order(
        customer=customer, lines=[LineInput(product_id=basic.product_id, quantity=1)]
    )
    wait_for(
        lambda: CustomerLadderPosition.objects.filter(customer=customer).exists(),
        timeout=60,
        message=f"no position:\n{celery_worker_process.log_path.read_text()}",
    )

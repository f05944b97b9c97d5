"""The demo ladders: built from the demo catalogue, published, customers placed."""

import io

import pytest

from crm.demo import build_demo
from ladder.demo import build_demo_ladders, delete_demo_ladders
from ladder.models import CustomerLadderPosition, Ladder

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_shop(django_db_setup, django_db_blocker):
    """A small demo shop, built once for the module."""
    with django_db_blocker.unblock():
        build_demo(customers=300, seed=7)
        build_demo_ladders()
        yield
        from crm.demo import delete_demo_data

        Ladder.objects.all().delete()
        delete_demo_data()
        # The demo's users (manager, sales, …) would otherwise outlive the
        # module and clash with the role fixtures of later tests.
        from django.contrib.auth import get_user_model

        from crm.demo import DEMO_USERS

        get_user_model().objects.filter(username__in=list(DEMO_USERS)).delete()


def test_the_three_demo_ladders_are_published(demo_shop):
    ladders = Ladder.objects.order_by("name")
    assert [ladder.name for ladder in ladders] == [
        "Clothing line",
        "Laptop",
        "Salon care",
    ]
    assert all(ladder.active for ladder in ladders)
    assert [ladder.steps.count() for ladder in ladders] == [2, 2, 3]


def test_demo_customers_stand_on_every_step_and_some_are_stalled(demo_shop):
    for ladder in Ladder.objects.all():
        steps_with_customers = set(
            CustomerLadderPosition.objects.filter(ladder=ladder).values_list(
                "step_id", flat=True
            )
        )
        assert steps_with_customers == set(ladder.steps.values_list("id", flat=True)), (
            ladder.name
        )
    assert CustomerLadderPosition.objects.filter(stalled=True).exists()


def test_building_the_demo_ladders_again_changes_nothing(demo_shop):
    before = list(CustomerLadderPosition.objects.values_list("id", "step_id"))
    out = io.StringIO()
    build_demo_ladders(stdout=out)
    assert "already exists" in out.getvalue()
    assert Ladder.objects.count() == 3
    assert sorted(before) == sorted(
        CustomerLadderPosition.objects.values_list("id", "step_id")
    )


def test_the_demo_can_be_reset_once_its_ladders_are_deleted(demo_shop):
    # given: the shop's products are used by ladder steps
    # when
    assert delete_demo_ladders() == 3
    build_demo(customers=300, seed=7, reset=True)
    build_demo_ladders()
    # then
    assert Ladder.objects.filter(active=True).count() == 3
    assert CustomerLadderPosition.objects.exists()

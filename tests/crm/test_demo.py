"""``manage.py demo``: the demo business, its shape, and its idempotency."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F, Sum

from crm.demo import catalogue as cat
from crm.demo.generator import build_plan
from crm.models import (
    Category,
    ChannelConsent,
    ConsentEvent,
    Customer,
    Interaction,
    Order,
    OrderLine,
    Product,
    Return,
    StaffProfile,
    Store,
)

pytestmark = pytest.mark.django_db

CUSTOMERS = 300
COUNTED_MODELS = (
    Store,
    Category,
    Product,
    Customer,
    Order,
    OrderLine,
    Return,
    ChannelConsent,
    ConsentEvent,
    Interaction,
)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # The demo sets six passwords per build; the default hasher makes that slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--customers", str(CUSTOMERS), *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED_MODELS}


def buyers_of(sku: str) -> set[int]:
    """Customers with a placed order containing ``sku``."""
    return set(
        OrderLine.objects.filter(
            product__sku=sku,
            order__status=Order.Status.PLACED,
            order__customer__isnull=False,
        ).values_list("order__customer_id", flat=True)
    )


@pytest.fixture
def demo() -> str:
    return run_demo()


def test_three_department_stores_with_coordinates(demo):
    stores = Store.objects.order_by("code")
    assert [store.code for store in stores] == ["BO01", "MI01", "TO01"]
    assert {store.city for store in stores} == {"Milano", "Torino", "Bologna"}
    assert all(store.latitude and store.longitude for store in stores)
    # Every store sells in every department.
    for store in stores:
        roots = set(
            OrderLine.objects.filter(order__store=store).values_list(
                "product__category__parent__slug", flat=True
            )
        )
        assert set(cat.DEPARTMENTS) <= roots


def test_category_tree_and_catalogue(demo):
    roots = Category.objects.filter(parent__isnull=True)
    assert set(roots.values_list("slug", flat=True)) == set(cat.DEPARTMENTS)
    children = Category.objects.filter(parent__slug="salon").values_list(
        "name", flat=True
    )
    assert set(children) == {"Hair services", "Beard", "Subscriptions", "Care products"}
    assert 80 <= Product.objects.count() <= 150
    assert Product.objects.filter(sku__in=cat.LADDER_SKUS).count() == len(
        cat.LADDER_SKUS
    )
    assert Product.objects.filter(season=Product.Season.SPRING_SUMMER).exists()
    assert Product.objects.filter(
        kind=Product.Kind.SUBSCRIPTION, subscription_months__isnull=False
    ).exists()
    assert Product.objects.filter(is_consumable=True).exists()
    assert Product.objects.get(sku=cat.CUT_SUBSCRIPTION).subscription_months == 1
    assert all(p.unit_cost < p.price for p in Product.objects.all())


def test_customers_stand_on_every_ladder_step(demo):
    laptop_basic, laptop_pro = buyers_of(cat.LAPTOP_BASIC), buyers_of(cat.LAPTOP_PRO)
    assert laptop_basic - laptop_pro, "stalled on the basic laptop"
    assert laptop_basic & laptop_pro, "climbed from basic to pro"
    cut, subscription = buyers_of(cat.CUT_SHAMPOO), buyers_of(cat.CUT_SUBSCRIPTION)
    premium = buyers_of(cat.PREMIUM_CARE_SUBSCRIPTION)
    assert cut - subscription - premium
    assert subscription - premium
    assert premium
    assert buyers_of(cat.BEARD_TRIM)
    basic, premium_line = buyers_of(cat.CLOTHING_BASIC), buyers_of(cat.CLOTHING_PREMIUM)
    assert basic - premium_line
    assert basic & premium_line


def test_climbers_bought_the_pro_laptop_after_the_basic_one(demo):
    climbers = buyers_of(cat.LAPTOP_BASIC) & buyers_of(cat.LAPTOP_PRO)
    for customer_id in climbers:
        dates = {
            sku: min(
                Order.objects.filter(
                    customer_id=customer_id, lines__product__sku=sku
                ).values_list("placed_at", flat=True)
            )
            for sku in (cat.LAPTOP_BASIC, cat.LAPTOP_PRO)
        }
        assert dates[cat.LAPTOP_BASIC] < dates[cat.LAPTOP_PRO]


def test_prospects_have_no_orders_and_buyers_are_customers(demo):
    prospects = Customer.objects.filter(status=Customer.Status.PROSPECT)
    assert prospects.count() == round(CUSTOMERS * 0.08)
    assert not Order.objects.filter(customer__in=prospects).exists()
    assert prospects.filter(acquisition_source="marketing_db").exists()
    assert prospects.filter(acquisition_source__startswith="partner:").exists()
    imported = ConsentEvent.objects.filter(
        customer__acquisition_source="marketing_db", source="import"
    )
    assert imported.exists()
    buyers = Customer.objects.filter(status=Customer.Status.CUSTOMER)
    assert buyers.count() == CUSTOMERS - prospects.count()
    for customer in buyers.order_by("id")[:50]:
        first = customer.orders.filter(status=Order.Status.PLACED).earliest("placed_at")
        assert customer.became_customer_at == first.placed_at
    assert not buyers.filter(created_at__gt=F("became_customer_at")).exists()
    anonymous = Order.objects.filter(customer__isnull=True).count()
    assert 0.08 < anonymous / Order.objects.count() < 0.12


def test_returns_are_concentrated_in_a_few_customers(demo):
    per_customer = Counter(
        Return.objects.filter(
            kind=Return.Kind.RETURN, line__order__customer__isnull=False
        ).values_list("line__order__customer_id", flat=True)
    )
    buyers = Customer.objects.filter(status=Customer.Status.CUSTOMER).count()
    top = math.ceil(buyers * 0.05)
    total = sum(per_customer.values())
    assert total > 0
    assert sum(count for _, count in per_customer.most_common(top)) / total > 0.5
    assert Return.objects.filter(kind=Return.Kind.CANCELLATION).exists()
    assert Order.objects.filter(status=Order.Status.CANCELLED).exists()


def test_returned_quantity_matches_return_rows(demo):
    lines = OrderLine.objects.annotate(returned=Sum("returns__quantity"))
    assert lines.filter(returned__isnull=False).exists()
    assert not lines.filter(returned__isnull=True).exclude(returned_quantity=0).exists()
    assert (
        not lines.filter(returned__isnull=False)
        .exclude(returned_quantity=F("returned"))
        .exists()
    )
    assert not OrderLine.objects.filter(returned_quantity__gt=F("quantity")).exists()


def test_every_consent_has_evidence(demo):
    consents = ChannelConsent.objects.all()
    assert consents.exists()
    for consent in consents:
        events = ConsentEvent.objects.filter(
            customer_id=consent.customer_id, channel=consent.channel
        )
        assert events.exists()
        latest = events.order_by("-occurred_at", "-id").first()
        assert latest.action == ("granted" if consent.granted else "withdrawn")
    assert set(ConsentEvent.objects.values_list("wording_version", flat=True)) == {"v1"}
    granted = Counter(consents.filter(granted=True).values_list("channel", flat=True))
    assert granted["email"] > granted["sms"] > granted["phone"] > 0


def test_interactions_for_some_customers_with_staff(demo):
    customers = Interaction.objects.values("customer").distinct().count()
    assert 0.2 < customers / CUSTOMERS < 0.4
    assert Interaction.objects.filter(
        kind="offer_accepted", product__isnull=False
    ).exists()
    assert Interaction.objects.filter(staff__username="clerk_mi").exists()


def test_users_groups_and_clerk_stores(demo):
    users = {user.username: user for user in get_user_model().objects.all()}
    assert users["admin"].is_superuser
    for username, group in (("manager", "manager"), ("sales", "sales")):
        assert list(users[username].groups.values_list("name", flat=True)) == [group]
        assert users[username].check_password("ladder-demo")
    for username, code in (
        ("clerk_mi", "MI01"),
        ("clerk_to", "TO01"),
        ("clerk_bo", "BO01"),
    ):
        assert list(users[username].groups.values_list("name", flat=True)) == ["clerk"]
        assert StaffProfile.objects.get(user=users[username]).store.code == code
    assert "http://127.0.0.1:8000/" in demo
    assert "ladder-demo" in demo


def test_second_run_adds_nothing_but_refreshes_users(demo):
    # given
    before = row_counts()
    clerk = get_user_model().objects.get(username="clerk_to")
    clerk.set_password("changed")
    clerk.save()
    # when
    output = run_demo("--password", "another-pass")
    # then
    assert row_counts() == before
    assert "already exists" in output
    clerk.refresh_from_db()
    assert clerk.check_password("another-pass")


def test_reset_rebuilds_the_same_counts(demo):
    before = row_counts()
    run_demo("--reset")
    assert row_counts() == before
    assert Customer.objects.filter(external_id="DEMO-00001").exists()


def test_plan_counts_do_not_depend_on_the_day():
    # given builds on days in every season (and the March/September crossovers)
    days = [dt.datetime(2026, month, 15, 12, tzinfo=dt.UTC) for month in (1, 3, 7, 9)]
    # when
    plans = [build_plan(customers=200, seed=7, now=now) for now in days]
    # then the structure is the same; only dates, seasonal items and prices differ
    shapes = {
        (
            len(plan.customers),
            len(plan.orders),
            sum(len(order.lines) for order in plan.orders),
            len(plan.returns),
            len(plan.consents),
            len(plan.interactions),
        )
        for plan in plans
    }
    assert len(shapes) == 1

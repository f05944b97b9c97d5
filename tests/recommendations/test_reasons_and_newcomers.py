"""Reasons name the ladder and read in the reader's language; newcomer offers
are cached per store scope without leaking one store's figures to another."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.roles import role_of
from recommendations import selectors, services
from recommendations.models import Suggestion
from tests.crm.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from tests.crm.i18n_support import compile_catalogues
from tests.ladder.factories import (
    CustomerLadderPositionFactory,
    LadderFactory,
    StepFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.recommendations.urls")]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _buy(customer, *products):
    order = OrderFactory(customer=customer)
    for number, product in enumerate(products, start=1):
        OrderLineFactory(order=order, product=product, line_no=number)
    return order


@pytest.fixture
def ladder_shop(db, store_a):
    """A published "Hair care" ladder; a customer on its first step."""
    ladder = LadderFactory(active=True, name="Hair care")
    first = StepFactory(ladder=ladder, position=1, product=ProductFactory(name="Cut"))
    second = StepFactory(
        ladder=ladder, position=2, product=ProductFactory(name="Colour")
    )
    customer = CustomerFactory(home_store=store_a)
    _buy(customer, first.product)
    CustomerLadderPositionFactory(customer=customer, step=first)
    return customer, second


def _upsell(customer, product):
    return Suggestion.objects.get(
        customer=customer, product=product, reason_code="upsell"
    )


def test_run_reason_names_the_ladder(ladder_shop):
    customer, second = ladder_shop
    services.run_all()
    offer = _upsell(customer, second.product)
    assert offer.reason_params["ladder"] == "Hair care"
    assert offer.reason == "Next step on the Hair care ladder: Colour, after Cut."
    assert "#" not in offer.reason


def test_one_customer_recompute_names_the_ladder(ladder_shop):
    customer, second = ladder_shop
    services.recompute_customer_suggestions(customer_id=customer.pk)
    offer = _upsell(customer, second.product)
    assert offer.reason.startswith("Next step on the Hair care ladder")


@pytest.fixture(scope="module")
def _italian_catalogue():
    compile_catalogues()


def test_panel_shows_the_reason_in_italian(_italian_catalogue, ladder_shop, sales):
    customer, second = ladder_shop
    services.run_all()
    client = Client(headers={"Accept-Language": "it"})
    client.force_login(sales)
    url = f"/suggestions/customers/{customer.pk}/"
    italian = client.get(url).content.decode()
    assert "Gradino successivo della scala Hair care: Colour, dopo Cut." in italian
    assert "Next step on the" not in italian
    english = Client(headers={"Accept-Language": "en"})
    english.force_login(sales)
    assert "Next step on the Hair care ladder" in english.get(url).content.decode()


def test_panel_falls_back_to_the_stored_sentence(ladder_shop, sales):
    customer, second = ladder_shop
    services.run_all()
    Suggestion.objects.filter(customer=customer).update(
        reason_params={}, reason="Stored sentence."
    )
    client = Client()
    client.force_login(sales)
    body = client.get(f"/suggestions/customers/{customer.pk}/").content.decode()
    assert "Stored sentence." in body


# --- newcomer offers ------------------------------------------------------------


@pytest.fixture
def two_stores(db, store_a, store_b):
    """Store A's customers buy scarves; store B's many more buy gloves."""
    scarf = ProductFactory(sku="SCARF", name="Scarf")
    gloves = ProductFactory(sku="GLOVES", name="Gloves")
    for _ in range(2):
        _buy(CustomerFactory(home_store=store_a), scarf)
    for _ in range(4):
        _buy(CustomerFactory(home_store=store_b), gloves)
    return scarf, gloves


def _skus(offers):
    return [offer.sku for offer in offers]


def test_newcomer_best_sellers_are_cached_one_query_after(two_stores, sales):
    now = timezone.now()
    role_of(sales)  # the page has loaded the user's groups already
    with CaptureQueriesContext(connection) as first:
        offers = selectors.list_newcomer_offers(limit=2, user=sales, now=now)
    assert _skus(offers) == ["GLOVES", "SCARF"]
    with CaptureQueriesContext(connection) as second:
        again = selectors.list_newcomer_offers(limit=2, user=sales, now=now)
    assert _skus(again) == ["GLOVES", "SCARF"]
    assert len(first) == 2 and len(second) == 1


def test_newcomer_cache_never_gives_a_clerk_another_stores_figures(
    two_stores, sales, clerk_a
):
    now = timezone.now()
    # The salesperson fills the cache with every store's best sellers first.
    assert _skus(selectors.list_newcomer_offers(limit=2, user=sales, now=now)) == [
        "GLOVES",
        "SCARF",
    ]
    offers = selectors.list_newcomer_offers(limit=2, user=clerk_a, now=now)
    assert _skus(offers) == ["SCARF"]
    assert "2" in offers[0].reason


def test_newcomer_cache_expires_by_day_and_can_be_turned_off(
    two_stores, sales, settings, store_a
):
    now = timezone.now()
    selectors.list_newcomer_offers(limit=1, user=sales, now=now)
    hats = ProductFactory(sku="HATS", name="Hats")
    for _ in range(6):
        _buy(CustomerFactory(home_store=store_a), hats)
    # Same day: the cached answer; the next day: recomputed.
    assert _skus(selectors.list_newcomer_offers(limit=1, user=sales, now=now)) == [
        "GLOVES"
    ]
    tomorrow = now + dt.timedelta(days=1)
    assert _skus(selectors.list_newcomer_offers(limit=1, user=sales, now=tomorrow)) == [
        "HATS"
    ]
    settings.RECOMMENDATIONS_NEWCOMER_CACHE_SECONDS = 0
    cache.clear()
    selectors.list_newcomer_offers(limit=1, user=sales, now=now)
    with CaptureQueriesContext(connection) as uncached:
        selectors.list_newcomer_offers(limit=1, user=sales, now=now)
    assert len(uncached) == 2

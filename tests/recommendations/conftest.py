"""Scenarios for the recommendations tests: a small shop with a planted pattern.

Most customers buy bread with butter; a few buy bread alone, so the rules say
"bread -> butter" and those few are offered butter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.crm.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)


@dataclass
class Shop:
    bread: object
    butter: object
    jam: object
    pairs: list = field(default_factory=list)
    singles_a: list = field(default_factory=list)
    singles_b: list = field(default_factory=list)


def _buy(customer, *products):
    order = OrderFactory(customer=customer)
    for number, product in enumerate(products, start=1):
        OrderLineFactory(order=order, product=product, line_no=number)
    return order


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Per-process caches must not carry one test's rows into the next."""
    from recommendations import selectors, services

    services.clear_reference_cache()
    services._RULES_CACHE.clear()
    services.clear_run_states()
    selectors._BASKET_RULES.clear()
    yield
    services.clear_reference_cache()
    services._RULES_CACHE.clear()
    services.clear_run_states()
    selectors._BASKET_RULES.clear()


@pytest.fixture
def shop(db, store_a, store_b):
    bread = ProductFactory(sku="BREAD", name="Bread")
    butter = ProductFactory(sku="BUTTER", name="Butter")
    jam = ProductFactory(sku="JAM", name="Jam")
    result = Shop(bread=bread, butter=butter, jam=jam)
    for number in range(8):
        customer = CustomerFactory(home_store=store_a if number % 2 else store_b)
        _buy(customer, bread, butter)
        if number < 3:
            _buy(customer, jam)
        result.pairs.append(customer)
    for store, bucket in ((store_a, result.singles_a), (store_b, result.singles_b)):
        for _ in range(2):
            customer = CustomerFactory(home_store=store)
            _buy(customer, bread)
            bucket.append(customer)
    return result


@pytest.fixture
def computed_shop(shop, settings):
    """The shop after one completed run (two shards)."""
    from recommendations.services import run_all

    settings.RECOMMENDATIONS_SHARD_SIZE = 7
    shop.run = run_all()
    return shop

"""Ladder scenarios composed from factories."""

from decimal import Decimal

import pytest

from tests.crm.factories import ProductFactory
from tests.ladder.factories import LadderFactory, StepFactory, StepOfferFactory


@pytest.fixture
def laptop_ladder(db):
    """Basic (500) → pro (1500), with a case as the top step's complement."""
    ladder = LadderFactory(name="Laptop")
    StepFactory(
        ladder=ladder, position=1, product=ProductFactory(price=Decimal("500.00"))
    )
    pro = StepFactory(
        ladder=ladder, position=2, product=ProductFactory(price=Decimal("1500.00"))
    )
    StepOfferFactory(step=pro, product=ProductFactory(price=Decimal("30.00")))
    return ladder


@pytest.fixture
def subscription_ladder(db):
    """Cut (28) → monthly subscription (35) → premium subscription (59)."""
    ladder = LadderFactory(name="Salon")
    cut = StepFactory(
        ladder=ladder,
        position=1,
        product=ProductFactory(price=Decimal("28.00"), kind="service"),
    )
    monthly = StepFactory(
        ladder=ladder,
        position=2,
        product=ProductFactory(
            price=Decimal("35.00"), kind="subscription", subscription_months=1
        ),
    )
    premium = StepFactory(
        ladder=ladder,
        position=3,
        product=ProductFactory(
            price=Decimal("59.00"), kind="subscription", subscription_months=1
        ),
    )
    StepOfferFactory(step=premium, product=ProductFactory(price=Decimal("15.00")))
    return ladder, (cut, monthly, premium)

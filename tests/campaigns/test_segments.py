"""Segment rules, each against a hand-built set of customers."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.segment_rules import (
    birth_date_bounds,
    haversine_km,
    lookalike_customer_ids,
)
from campaigns.segments import (
    count_segment,
    sample_segment,
    segment_customer_ids,
    validate_definition,
)
from crm.models import ChannelConsent, Customer, Return
from recommendations.models import CustomerScore, RecommendationRun
from tests.campaigns.factories import SegmentFactory
from tests.crm.factories import (
    CategoryFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StoreFactory,
)
from tests.ladder.factories import (
    CustomerLadderPositionFactory,
    LadderFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


def ids(definition, now=NOW):
    return set(segment_customer_ids(definition, now=now))


def one(rule):
    return {"match": "all", "rules": [rule]}


def buy(customer, product, *, days_ago, quantity=1, price=None, returned=0):
    order = OrderFactory(customer=customer, placed_at=NOW - dt.timedelta(days=days_ago))
    line = OrderLineFactory(
        order=order,
        product=product,
        quantity=quantity,
        unit_price=price if price is not None else product.price,
        returned_quantity=returned,
    )
    return line


# --- pure helpers -----------------------------------------------------------


def test_haversine_matches_known_city_distance():
    # Milano Duomo → Torino Porta Nuova is about 126 km as the crow flies.
    distance = haversine_km(45.4642, 9.1900, 45.0625, 7.6786)
    assert 124 < float(distance) < 128


def test_age_bounds_are_inclusive_on_both_ends():
    today = dt.date(2026, 6, 15)
    earliest, latest = birth_date_bounds(today=today, min_age=30, max_age=39)
    # Turned 30 today → in; 40 tomorrow → still 39 today → in; 40 today → out.
    assert latest == dt.date(1996, 6, 15)
    assert earliest == dt.date(1986, 6, 16)


def test_lookalikes_rank_closest_profiles_and_skip_seeds():
    pairs = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3, 3, 4],
            "feature": [10, 11, 10, 11, 10, 12, 99],
        }
    )
    found = lookalike_customer_ids(pairs, [1], limit=5, min_similarity=0.1)
    # 2 has the same profile as the seed, 3 shares one of two, 4 nothing.
    assert found.tolist() == [2, 3]
    assert lookalike_customer_ids(pairs, [1], limit=1, min_similarity=0.1).tolist() == [
        2
    ]
    assert lookalike_customer_ids(pairs, [42], limit=5, min_similarity=0).size == 0


def test_haversine_is_vectorised():
    result = haversine_km(np.array([0.0, 0.0]), np.array([0.0, 0.0]), 0.0, 1.0)
    assert result.shape == (2,)
    assert abs(result[0] - 111.19) < 0.1


# --- rules against the database ----------------------------------------------


def test_distance_from_store(db):
    store = StoreFactory(
        code="MI", latitude=Decimal("45.464200"), longitude=Decimal("9.190000")
    )
    near = CustomerFactory(
        latitude=Decimal("45.480000"), longitude=Decimal("9.200000")
    )  # ~2 km
    mid = CustomerFactory(
        latitude=Decimal("45.600000"), longitude=Decimal("9.300000")
    )  # ~17 km
    CustomerFactory(
        latitude=Decimal("45.062500"), longitude=Decimal("7.678600")
    )  # Torino
    CustomerFactory(latitude=None, longitude=None)
    assert ids(one({"field": "distance", "store": store.pk, "max_km": 10})) == {near.pk}
    assert ids(one({"field": "distance", "store": store.pk, "max_km": 30})) == {
        near.pk,
        mid.pk,
    }
    ring = one({"field": "distance", "store": store.pk, "min_km": 10, "max_km": 30})
    assert ids(ring) == {mid.pk}


def test_distance_needs_a_located_store(db):
    store = StoreFactory(code="NOWHERE", latitude=None, longitude=None)
    with pytest.raises(ValidationError, match="no coordinates"):
        validate_definition(one({"field": "distance", "store": store.pk, "max_km": 5}))


def test_age_band(db):
    today = NOW.date()
    thirty = CustomerFactory(birth_date=today.replace(year=today.year - 30))
    forty = CustomerFactory(birth_date=today.replace(year=today.year - 40))
    CustomerFactory(birth_date=today.replace(year=today.year - 20))
    CustomerFactory(birth_date=None)
    assert ids(one({"field": "age", "min": 25, "max": 40})) == {thirty.pk, forty.pk}
    assert ids(one({"field": "age", "min": 35})) == {forty.pk}


def test_gender_and_home_store(db):
    store = StoreFactory(code="TO")
    woman = CustomerFactory(gender="F", home_store=store)
    man = CustomerFactory(gender="M")
    assert ids(one({"field": "gender", "values": ["F"]})) == {woman.pk}
    assert ids(one({"field": "home_store", "stores": [store.pk]})) == {woman.pk}
    either = {
        "match": "any",
        "rules": [
            {"field": "gender", "values": ["M"]},
            {"field": "home_store", "stores": [store.pk]},
        ],
    }
    assert ids(either) == {woman.pk, man.pk}


def test_ladder_step_states(db):
    ladder = LadderFactory()
    first = StepFactory(ladder=ladder, position=1)
    second = StepFactory(ladder=ladder, position=2)
    on_first = CustomerLadderPositionFactory(step=first, stalled=True).customer
    on_second = CustomerLadderPositionFactory(step=second).customer
    nowhere = CustomerFactory()
    assert ids(one({"field": "ladder_step", "state": "on", "step": first.pk})) == {
        on_first.pk
    }
    assert ids(one({"field": "ladder_step", "state": "reached", "step": first.pk})) == {
        on_first.pk,
        on_second.pk,
    }
    assert ids(
        one({"field": "ladder_step", "state": "not_yet_on", "step": second.pk})
    ) == {
        on_first.pk,
        nowhere.pk,
    }
    assert ids(
        one({"field": "ladder_step", "state": "stalled", "ladder": ladder.pk})
    ) == {on_first.pk}


def test_bought_and_not_bought_product_or_category_in_window(db):
    shoes = CategoryFactory(slug="shoes")
    boots = CategoryFactory(slug="boots", parent=shoes)
    boot = ProductFactory(category=boots)
    other = ProductFactory()
    recent = CustomerFactory()
    buy(recent, boot, days_ago=10)
    old = CustomerFactory()
    buy(old, boot, days_ago=200)
    returned_it = CustomerFactory()
    buy(returned_it, boot, days_ago=5, returned=1)
    never = CustomerFactory()
    buy(never, other, days_ago=3)
    # The parent category includes its sub-category; a fully returned line
    # does not count as bought.
    assert ids(one({"field": "bought", "category": shoes.pk})) == {recent.pk, old.pk}
    assert ids(one({"field": "bought", "product": boot.pk, "within_days": 30})) == {
        recent.pk
    }
    not_recent = one({"field": "not_bought", "product": boot.pk, "within_days": 30})
    assert ids(not_recent) == {old.pk, returned_it.pk, never.pk}


def test_recency_frequency_and_spend(db):
    product = ProductFactory(price=Decimal("50.00"))
    loyal = CustomerFactory()
    for days in (5, 40, 80):
        buy(loyal, product, days_ago=days)
    lapsed = CustomerFactory()
    buy(lapsed, product, days_ago=400, quantity=4)
    prospect = CustomerFactory()
    assert ids(one({"field": "recency", "max_days": 30})) == {loyal.pk}
    assert ids(one({"field": "recency", "min_days": 365})) == {lapsed.pk}
    assert ids(one({"field": "frequency", "min": 2})) == {loyal.pk}
    assert ids(one({"field": "frequency", "max": 1})) == {lapsed.pk, prospect.pk}
    assert ids(one({"field": "frequency", "min": 1, "within_days": 100})) == {loyal.pk}
    # loyal 150, lapsed 200 (4 × 50), prospect 0.
    assert ids(one({"field": "spend", "min": 160})) == {lapsed.pk}
    assert ids(one({"field": "spend", "max": 160})) == {loyal.pk, prospect.pk}
    assert ids(one({"field": "spend", "min": 100, "within_days": 365})) == {loyal.pk}


def test_spend_is_net_of_returns(db):
    product = ProductFactory(price=Decimal("100.00"))
    customer = CustomerFactory()
    line = buy(customer, product, days_ago=5, quantity=3)
    line.returned_quantity = 2
    line.save()
    Return.objects.create(line=line, quantity=2, returned_at=NOW)
    assert ids(one({"field": "spend", "min": 150})) == set()
    assert ids(one({"field": "spend", "min": 100})) == {customer.pk}


def test_maximum_return_rate_uses_the_current_run(db):
    run = RecommendationRun.objects.create(is_current=True, status="completed")
    old_run = RecommendationRun.objects.create(is_current=False, status="completed")
    returner = CustomerFactory()
    careful = CustomerFactory()
    unscored = CustomerFactory()
    CustomerScore.objects.create(
        run=run, customer=returner, return_rate=0.6, eligibility="excluded"
    )
    CustomerScore.objects.create(
        run=run, customer=careful, return_rate=0.05, eligibility="eligible"
    )
    CustomerScore.objects.create(
        run=old_run, customer=unscored, return_rate=0.9, eligibility="excluded"
    )
    assert ids(one({"field": "return_rate", "max": 0.3})) == {careful.pk, unscored.pk}


def test_consent_per_channel_and_imported_rows_without_evidence(db):
    emailable = CustomerFactory()
    texting = CustomerFactory()
    withdrawn = CustomerFactory()
    CustomerFactory(acquisition_source="import")  # imported, no consent evidence
    for customer, channel, granted in (
        (emailable, "email", True),
        (texting, "sms", True),
        (withdrawn, "email", False),
    ):
        ChannelConsent.objects.create(
            customer=customer,
            channel=channel,
            granted=granted,
            source="test",
            changed_at=timezone.now(),
        )
    assert ids(one({"field": "consent", "channel": "email"})) == {emailable.pk}
    assert ids(one({"field": "consent", "channel": "sms"})) == {texting.pk}


def test_prospects(db):
    prospect = CustomerFactory(status=Customer.Status.PROSPECT)
    CustomerFactory(status=Customer.Status.CUSTOMER, became_customer_at=NOW)
    assert ids(one({"field": "prospect", "value": True})) == {prospect.pk}
    assert prospect.pk not in ids(one({"field": "prospect", "value": False}))


def test_lookalikes_of_a_saved_segment(db):
    tents = CategoryFactory(slug="tents")
    stoves = CategoryFactory(slug="stoves")
    dresses = CategoryFactory(slug="dresses")
    camper = CustomerFactory(gender="X")
    similar = CustomerFactory()
    different = CustomerFactory()
    for customer, categories in (
        (camper, (tents, stoves)),
        (similar, (tents, stoves)),
        (different, (dresses,)),
    ):
        for category in categories:
            buy(customer, ProductFactory(category=category), days_ago=10)
    seed = SegmentFactory(definition=one({"field": "gender", "values": ["X"]}))
    rule = {"field": "lookalike", "segment": seed.pk, "limit": 10}
    assert ids(one(rule)) == {similar.pk}
    assert ids(one({"field": "lookalike", "customers": [camper.pk]})) == {similar.pk}


def test_negated_groups_and_empty_definition(db):
    a = CustomerFactory(gender="F")
    b = CustomerFactory(gender="M")
    assert ids({}) == {a.pk, b.pk}
    negated = {
        "match": "all",
        "rules": [{"field": "gender", "values": ["F"], "negate": True}],
    }
    assert ids(negated) == {b.pk}


def test_validation_names_every_problem(db):
    definition = {
        "match": "all",
        "rules": [
            {"field": "age", "min": 50, "max": 20},
            {"field": "teleport"},
            {"field": "gender", "values": ["F"], "colour": "red"},
            {"field": "bought"},
        ],
    }
    with pytest.raises(ValidationError) as error:
        validate_definition(definition)
    text = " ".join(error.value.messages)
    assert "Rule 1" in text and "greater than" in text
    assert "unknown rule “teleport”" in text
    assert "colour" in text
    assert "Rule 4" in text


def test_missing_references_are_reported(db):
    with pytest.raises(ValidationError, match="does not exist"):
        validate_definition(one({"field": "home_store", "stores": [999999]}))


def test_count_and_sample(db):
    for _ in range(5):
        CustomerFactory(gender="F")
    CustomerFactory(gender="M")
    definition = one({"field": "gender", "values": ["F"]})
    assert count_segment(definition) == 5
    sample = sample_segment(definition, 3)
    assert len(sample) == 3 and all(c.gender == "F" for c in sample)


def test_count_costs_the_same_queries_for_1_and_50_customers(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    store = StoreFactory(code="Q")
    definition = {
        "match": "all",
        "rules": [
            {"field": "distance", "store": store.pk, "max_km": 50},
            {"field": "frequency", "min": 1},
            {"field": "consent", "channel": "email"},
        ],
    }

    def queries_for_count():
        with CaptureQueriesContext(connection) as context:
            count_segment(definition)
        return len(context)

    CustomerFactory(home_store=store)
    one_customer = queries_for_count()
    CustomerFactory.create_batch(49, home_store=store)
    assert queries_for_count() == one_customer
    # Validation (store exists and is located), the consent lookup, one COUNT.
    assert one_customer <= 5

"""Outcomes (offered, accepted, declined), the quiet period and conversions."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.models import Interaction
from crm.services.orders import LineInput, place_order
from recommendations import selectors, services
from recommendations.models import Suggestion

pytestmark = pytest.mark.django_db


def _butter_offer(shop, customer):
    return Suggestion.objects.get(
        customer=customer, product=shop.butter, run=shop.run, status="new"
    )


def test_accepting_logs_an_interaction_and_moves_the_suggestion(computed_shop, sales):
    offer = _butter_offer(computed_shop, computed_shop.singles_a[0])
    services.record_outcome(
        suggestion_id=offer.pk, outcome="shown", user=sales, note="at the phone"
    )
    services.record_outcome(suggestion_id=offer.pk, outcome="accepted", user=sales)
    offer.refresh_from_db()
    assert offer.status == Suggestion.Status.ACCEPTED
    assert offer.decided_by == sales
    kinds = list(
        Interaction.objects.filter(customer=offer.customer)
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == ["offer_shown", "offer_accepted"]
    assert Interaction.objects.filter(notes="at the phone").exists()


def test_repeating_an_outcome_changes_nothing(computed_shop, sales):
    offer = _butter_offer(computed_shop, computed_shop.singles_a[0])
    services.record_outcome(suggestion_id=offer.pk, outcome="declined", user=sales)
    services.record_outcome(suggestion_id=offer.pk, outcome="declined", user=sales)
    assert Interaction.objects.filter(kind="offer_declined").count() == 1


def test_a_decided_offer_cannot_be_reopened(computed_shop, sales):
    offer = _butter_offer(computed_shop, computed_shop.singles_a[0])
    services.record_outcome(suggestion_id=offer.pk, outcome="declined", user=sales)
    with pytest.raises(ValidationError):
        services.record_outcome(suggestion_id=offer.pk, outcome="accepted", user=sales)


def test_clerk_records_in_person_offers_of_own_store_only(computed_shop, clerk_a):
    own = _butter_offer(computed_shop, computed_shop.singles_a[0])
    other = _butter_offer(computed_shop, computed_shop.singles_b[0])
    Suggestion.objects.filter(pk__in=[own.pk, other.pk]).update(channel="in_store")
    services.record_outcome(suggestion_id=own.pk, outcome="shown", user=clerk_a)
    with pytest.raises(PermissionDenied):
        services.record_outcome(suggestion_id=other.pk, outcome="shown", user=clerk_a)
    Suggestion.objects.filter(pk=own.pk).update(channel="email", status="new")
    with pytest.raises(PermissionDenied):
        services.record_outcome(suggestion_id=own.pk, outcome="accepted", user=clerk_a)
    with pytest.raises(PermissionDenied):
        services.record_outcome(
            suggestion_id=own.pk, outcome="accepted", user=clerk_a, channel="email"
        )


def test_declined_product_is_not_suggested_again_within_quiet_period(
    computed_shop, sales, settings
):
    customer = computed_shop.singles_a[0]
    offer = _butter_offer(computed_shop, customer)
    services.record_outcome(suggestion_id=offer.pk, outcome="declined", user=sales)
    run = services.run_all()
    assert not Suggestion.objects.filter(
        run=run, customer=customer, product=computed_shop.butter
    ).exists()
    # With no quiet period the product comes back.
    settings.RECOMMENDATIONS_QUIET_PERIOD_DAYS = 0
    run = services.run_all()
    assert Suggestion.objects.filter(
        run=run, customer=customer, product=computed_shop.butter
    ).exists()


def test_an_order_with_the_product_converts_the_suggestion(computed_shop):
    customer = computed_shop.singles_a[0]
    offer = _butter_offer(computed_shop, customer)
    # given: the order commits; the receiver runs the tasks inline (eager)
    order = place_order(
        customer=customer,
        store=customer.home_store,
        lines=[LineInput(product_id=computed_shop.butter.pk, quantity=1)],
    )
    # when the on_commit hooks run (pytest's db fixture never commits)
    services.mark_converted(order_id=order.pk)
    services.mark_converted(order_id=order.pk)
    # then
    offer.refresh_from_db()
    assert offer.status == Suggestion.Status.CONVERTED
    assert offer.converted_order_id == order.pk


def test_acceptance_rates_feed_the_next_run(computed_shop, sales):
    before = selectors.load_outcomes()
    assert before.empty
    offer = _butter_offer(computed_shop, computed_shop.singles_a[0])
    services.record_outcome(suggestion_id=offer.pk, outcome="accepted", user=sales)
    outcomes = selectors.load_outcomes()
    assert outcomes.to_dict(orient="records") == [
        {
            "kind": "cross_sell",
            "channel": selectors.CHANNEL_TO_ENGINE[offer.channel],
            "accepted": 1,
            "shown": 1,
        }
    ]

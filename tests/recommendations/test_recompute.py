"""Per-customer recompute after an order, and the order_committed receiver."""

from __future__ import annotations

import pytest

from crm.services.orders import LineInput, place_order
from recommendations import selectors, services
from recommendations.models import Suggestion
from tests.crm.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_recompute_replaces_only_that_customers_new_suggestions(computed_shop, sales):
    customer = computed_shop.singles_a[0]
    other = computed_shop.singles_a[1]
    shown = Suggestion.objects.filter(customer=customer, run=computed_shop.run).first()
    services.record_outcome(suggestion_id=shown.pk, outcome="shown", user=sales)
    others_before = set(
        Suggestion.objects.filter(customer=other).values_list("pk", flat=True)
    )
    count = services.recompute_customer_suggestions(customer_id=customer.pk)
    count_again = services.recompute_customer_suggestions(customer_id=customer.pk)
    assert count == count_again
    assert Suggestion.objects.filter(pk=shown.pk, status="shown").exists()
    assert Suggestion.objects.filter(customer=customer, status="new").count() == count
    assert (
        set(Suggestion.objects.filter(customer=other).values_list("pk", flat=True))
        == others_before
    )
    assert all(
        s.run_id == computed_shop.run.pk
        for s in Suggestion.objects.filter(customer=customer, status="new")
    )


def test_recompute_before_any_run_mines_nothing_but_offers_popular(shop):
    customer = CustomerFactory(home_store=shop.singles_a[0].home_store)
    services.recompute_customer_suggestions(customer_id=customer.pk)
    offers = list(selectors.current_suggestions().filter(customer=customer))
    assert offers and all(s.run_id is None for s in offers)


def test_recompute_of_a_vanished_customer_is_a_no_op(db):
    assert services.recompute_customer_suggestions(customer_id=987654) == 0


def test_order_commit_converts_and_recomputes(
    computed_shop, django_capture_on_commit_callbacks
):
    customer = computed_shop.singles_a[0]
    offer = Suggestion.objects.get(
        customer=customer, product=computed_shop.butter, run=computed_shop.run
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        place_order(
            customer=customer,
            store=customer.home_store,
            lines=[LineInput(product_id=computed_shop.butter.pk, quantity=1)],
        )
    assert len(callbacks) >= 1
    offer.refresh_from_db()
    assert offer.status == Suggestion.Status.CONVERTED
    # The recompute no longer offers what the customer now owns.
    assert not Suggestion.objects.filter(
        customer=customer, product=computed_shop.butter, status="new"
    ).exists()


def test_a_rolled_back_order_enqueues_nothing(
    computed_shop, django_capture_on_commit_callbacks, monkeypatch
):
    from django.db import transaction

    from recommendations import tasks

    calls = []
    monkeypatch.setattr(
        tasks.recompute_customer_suggestions_task, "delay", calls.append
    )
    customer = computed_shop.singles_a[0]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            place_order(
                customer=customer,
                store=customer.home_store,
                lines=[LineInput(product_id=computed_shop.butter.pk, quantity=1)],
            )
            raise RuntimeError("rollback")
    assert callbacks == [] and calls == []


# (not the evidence: its blend scores carry recency weights of a later clock)
_COMPARED = ("product_id", "kind", "source", "rank", "channel", "reason")


def _offers(customer, *, run):
    return list(
        Suggestion.objects.filter(customer=customer, run=run, status="new")
        .order_by("rank")
        .values_list(*_COMPARED)
    )


def test_recompute_with_the_runs_cached_structures_matches_the_run(
    computed_shop, django_assert_max_num_queries
):
    # given: a completed run; the per-run structures of this process are
    # dropped, as in a fresh worker
    services.clear_run_states()
    customers = [*computed_shop.singles_a, *computed_shop.singles_b]
    from_run = {
        customer.pk: _offers(customer, run=computed_shop.run) for customer in customers
    }
    assert all(from_run.values())
    # when: each customer is recomputed with nothing new bought (the first call
    # builds the run's structures, the others reuse them)
    for customer in customers:
        services.recompute_customer_suggestions(customer_id=customer.pk)
    # then: the same offers, reasons and evidence as the nightly run wrote
    for customer in customers:
        assert _offers(customer, run=computed_shop.run) == from_run[customer.pk]
    # and a warm recompute reads only that customer's rows
    with django_assert_max_num_queries(12):
        services.recompute_customer_suggestions(customer_id=customers[0].pk)


def test_a_new_current_run_replaces_the_cached_structures(computed_shop):
    customer = computed_shop.singles_a[0]
    services.recompute_customer_suggestions(customer_id=customer.pk)
    assert set(services._RUN_STATES) >= {computed_shop.run.pk}
    second = services.run_all()
    services.recompute_customer_suggestions(customer_id=customer.pk)
    assert services.run_state(run_id=second.pk).run_id == second.pk
    assert all(
        s.run_id == second.pk
        for s in Suggestion.objects.filter(customer=customer, status="new")
    )

"""Full runs: rules, scores, shards, the atomic flip, failures and retries."""

from __future__ import annotations

import json

import pytest

from recommendations import selectors, services
from recommendations.models import (
    AssociationRule,
    CustomerScore,
    RecommendationRun,
    RecommendationShard,
    Suggestion,
)

pytestmark = pytest.mark.django_db


def test_run_stores_rules_scores_and_suggestions_with_reasons(computed_shop):
    run = computed_shop.run
    assert run.status == RecommendationRun.Status.COMPLETED
    assert run.is_current
    assert run.shards_total == 2 and run.shards_done == 2
    assert run.customers_count == 12
    assert run.rules_count == AssociationRule.objects.filter(run=run).count() > 0
    assert CustomerScore.objects.filter(run=run).count() == 12
    single = computed_shop.singles_a[0]
    offers = list(Suggestion.objects.filter(customer=single, run=run))
    butter = [s for s in offers if s.product_id == computed_shop.butter.pk]
    assert butter, offers
    offer = butter[0]
    assert offer.kind == Suggestion.Kind.CROSS_SELL
    assert offer.reason_code == "rule"
    assert "Bread" in offer.reason and "Butter" in offer.reason
    assert offer.channel in Suggestion.Channel.values
    assert offer.expected_value > 0
    assert offer.evidence["source"] == "rule"


def test_second_run_replaces_new_suggestions_and_keeps_history(computed_shop):
    first = computed_shop.run
    shown = Suggestion.objects.filter(run=first).first()
    Suggestion.objects.filter(pk=shown.pk).update(status=Suggestion.Status.SHOWN)
    second = services.run_all()
    first.refresh_from_db()
    assert second.is_current and not first.is_current
    assert not Suggestion.objects.filter(run=first, status="new").exists()
    assert Suggestion.objects.filter(pk=shown.pk).exists()
    assert Suggestion.objects.filter(run=second).count() == second.suggestions_count


def test_a_failed_run_leaves_previous_suggestions_current(computed_shop, monkeypatch):
    first = computed_shop.run
    before = set(selectors.current_suggestions().values_list("pk", flat=True))

    def boom(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(services, "compute_suggestions", boom)
    with pytest.raises(RuntimeError):
        services.run_all()
    failed = RecommendationRun.objects.exclude(pk=first.pk).get()
    assert failed.status == RecommendationRun.Status.FAILED
    assert "engine exploded" in failed.error
    first.refresh_from_db()
    assert first.is_current
    assert set(selectors.current_suggestions().values_list("pk", flat=True)) == before


def test_a_half_finished_run_is_invisible_and_a_retried_shard_completes(shop, settings):
    settings.RECOMMENDATIONS_SHARD_SIZE = 7
    first = services.run_all()
    before = set(selectors.current_suggestions().values_list("pk", flat=True))
    run = services.start_run()
    indexes = services.prepare_run(run_id=run.pk)
    services.compute_shard(run_id=run.pk, index=indexes[0])
    # given: the worker died here; shard 0 is written, shard 1 is not
    assert set(selectors.current_suggestions().values_list("pk", flat=True)) == before
    # when: shard 0 is delivered again, then shard 1
    services.compute_shard(run_id=run.pk, index=indexes[0])
    services.compute_shard(run_id=run.pk, index=indexes[1])
    # then
    run.refresh_from_db()
    first.refresh_from_db()
    assert run.is_current and not first.is_current
    assert Suggestion.objects.filter(run=run).count() == run.suggestions_count


def test_two_runs_never_interleave(shop):
    services.start_run()
    with pytest.raises(services.RunAlreadyActive):
        services.start_run()


def test_a_stale_run_is_failed_so_the_next_can_start(shop, settings):
    settings.RECOMMENDATIONS_STALE_RUN_MINUTES = -1
    stuck = services.start_run()
    services.start_run()
    stuck.refresh_from_db()
    assert stuck.status == RecommendationRun.Status.FAILED


def test_poison_shard_fails_the_run_after_max_deliveries(shop, settings):
    settings.CELERY_MAX_DELIVERIES = 2
    run = services.start_run()
    services.prepare_run(run_id=run.pk)
    RecommendationShard.objects.filter(run=run).update(attempts=2)
    services.compute_shard(run_id=run.pk, index=0)
    run.refresh_from_db()
    assert run.status == RecommendationRun.Status.FAILED
    assert not run.is_current


def test_run_with_no_customers_completes(db):
    run = services.run_all()
    assert run.status == RecommendationRun.Status.COMPLETED
    assert run.suggestions_count == 0


def test_the_sweeper_republishes_only_shards_left_past_the_timeout(shop, settings):
    # given: a run whose two shards were published, then their worker died
    # (tasks run inline here, so a re-published shard is computed at once)
    settings.RECOMMENDATIONS_SHARD_SIZE = 7
    settings.RECOMMENDATIONS_SHARD_TIMEOUT_SECONDS = 600
    first = services.run_all()
    run = services.start_run()
    indexes = services.prepare_run(run_id=run.pk)
    # when: the sweeper runs within the timeout, nothing is sent again
    assert services.sweep_stale_runs() == {"shards": 0, "prepared": 0, "finalized": 0}
    run.refresh_from_db()
    assert run.status == RecommendationRun.Status.RUNNING and run.shards_done == 0
    # when: one shard is past the timeout
    from datetime import timedelta

    from django.utils import timezone

    RecommendationShard.objects.filter(run=run, index=indexes[0]).update(
        touched_at=timezone.now() - timedelta(seconds=601)
    )
    assert services.sweep_stale_runs()["shards"] == 1
    # then: only it was computed again; the other still waits for its message
    assert list(
        RecommendationShard.objects.filter(run=run)
        .order_by("index")
        .values_list("status", flat=True)
    ) == ["done", "pending"]
    # and once that one is stale too, the sweep completes the run
    RecommendationShard.objects.filter(run=run).update(
        touched_at=timezone.now() - timedelta(seconds=601)
    )
    services.sweep_stale_runs()
    run.refresh_from_db()
    first.refresh_from_db()
    assert run.is_current and not first.is_current


def test_the_sweeper_republishes_a_lost_prepare(shop, settings):
    from datetime import timedelta

    from django.utils import timezone

    # given: a run started, but its prepare message never reached a worker
    run = services.start_run()
    RecommendationRun.objects.filter(pk=run.pk).update(
        touched_at=timezone.now() - timedelta(hours=1)
    )
    # when
    counts = services.sweep_stale_runs()
    # then: prepare ran (inline) and its shards were published and computed
    run.refresh_from_db()
    assert counts["prepared"] == 1
    assert run.status == RecommendationRun.Status.COMPLETED and run.is_current


def _offers(run: RecommendationRun) -> list[tuple]:
    return sorted(
        (*row[:-1], json.dumps(row[-1], sort_keys=True))
        for row in Suggestion.objects.filter(run=run).values_list(
            "customer_id", "product_id", "kind", "rank", "score", "reason", "evidence"
        )
    )


def test_a_shard_cut_into_chunks_stores_what_it_stores_whole(shop, settings):
    # On PostgreSQL the chunks are computed in a thread while the main thread
    # writes the previous one; the rows must not depend on that.
    settings.RECOMMENDATIONS_SHARD_SIZE = 100
    settings.RECOMMENDATIONS_SHARD_CHUNKS = 1
    whole = services.run_all()
    expected = _offers(whole)  # before the next run purges them
    settings.RECOMMENDATIONS_SHARD_CHUNKS = 3
    chunked = services.run_all()
    shard = chunked.shards.get()
    assert shard.customers_count == 12
    assert chunked.suggestions_count == whole.suggestions_count > 0
    assert _offers(chunked) == expected
    assert CustomerScore.objects.filter(run=chunked).count() == 12


def test_split_range_covers_the_shard_in_about_equal_chunks(shop):
    customers = selectors.load_customers(customers=selectors.ALL_CUSTOMERS)
    ids = sorted(customers["customer_id"])
    shard = selectors.CustomerRange(first=ids[0] - 5, last=ids[-1] + 5)
    parts = services._split_range(customers, shard, parts=3)
    assert len(parts) == 3
    assert parts[0].first == shard.first and parts[-1].last == shard.last
    covered = [[pk for pk in ids if part.first <= pk <= part.last] for part in parts]
    assert [len(chunk) for chunk in covered] == [4, 4, 4]
    assert sorted(pk for chunk in covered for pk in chunk) == ids

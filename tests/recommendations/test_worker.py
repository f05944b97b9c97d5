"""Real Celery worker on PostgreSQL + Redis: the nightly run and the fault test.

CEL-05 for runs: the worker is SIGKILLed (its whole process group) while the
shards of a run are being computed; the previous suggestions stay current.
CEL-04: Redis would hand the killed worker's unacknowledged shard to another
worker only after the visibility timeout (an hour); the sweeper (a beat task)
re-publishes the shards left pending past ``RECOMMENDATIONS_SHARD_TIMEOUT_SECONDS``
and a fresh worker completes the run.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from celery import group

from recommendations import selectors, services, tasks
from recommendations.models import RecommendationRun, RecommendationShard
from tests.conftest import start_celery_worker, stop_celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def _run_status(run_id: int) -> RecommendationRun:
    return RecommendationRun.objects.get(pk=run_id)


def test_nightly_run_completes_on_a_real_worker(shop, celery_worker_process, settings):
    settings.RECOMMENDATIONS_SHARD_SIZE = 5
    tasks.run_suggestions_task.delay("schedule")
    run = wait_for(
        lambda: RecommendationRun.objects.filter(status="completed").first(),
        timeout=90,
        message=f"no run completed:\n{celery_worker_process.log_path.read_text()}",
    )
    assert run.is_current and run.suggestions_count > 0
    assert run.shards_total == run.shards_done


def test_a_killed_worker_leaves_previous_suggestions_and_the_retry_completes(
    shop,
    postgres_db,
    celery_broker,
    settings,
    tmp_path,
    monkeypatch,
):
    # given: a completed run, and a second run prepared with one shard per customer
    first = services.run_all()
    before = set(selectors.current_suggestions().values_list("pk", flat=True))
    assert before
    settings.RECOMMENDATIONS_SHARD_SIZE = 1
    run = services.start_run()
    indexes = services.prepare_run(run_id=run.pk)
    assert len(indexes) == 12
    # (its own worker: the shared fixture's teardown expects a live process)
    worker = start_celery_worker(
        db=postgres_db,
        broker=celery_broker,
        log_path=tmp_path / "first.log",
        name="first",
    )
    group(tasks.compute_shard_task.s(run.pk, index) for index in indexes).apply_async()
    # when: the whole worker is killed after its first shards, in the middle
    # of one (a delivery started, not finished)
    in_flight = RecommendationShard.objects.filter(
        run=run, status="pending", attempts__gte=1
    )
    wait_for(
        lambda: _run_status(run.pk).shards_done >= 2 and in_flight.exists(),
        timeout=60,
        interval=0.005,
        message=worker.log_path.read_text(),
    )
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    worker.log_file.close()
    assert in_flight.exists(), "the shard finished before the kill landed"
    # then: the half-done run is invisible, the previous suggestions current
    interrupted = _run_status(run.pk)
    assert interrupted.status == "running" and not interrupted.is_current
    first.refresh_from_db()
    assert first.is_current
    assert set(selectors.current_suggestions().values_list("pk", flat=True)) == before
    # and the sweeper, run by a fresh worker, re-publishes the killed worker's
    # shard (short timeout here), so that worker completes the run
    monkeypatch.setenv("RECOMMENDATIONS_SHARD_TIMEOUT_SECONDS", "1")
    second = start_celery_worker(
        db=postgres_db,
        broker=celery_broker,
        log_path=tmp_path / "second.log",
        name="second",
    )
    try:
        # the fresh worker takes what is still queued, but nothing brings the
        # killed worker's shard back (Redis would, after an hour)
        time.sleep(3)
        assert _run_status(run.pk).status == "running"
        assert in_flight.exists()
        tasks.sweep_runs_task.delay()
        done = wait_for(
            lambda: _run_status(run.pk).status == "completed",
            timeout=90,
            message=second.log_path.read_text(),
        )
        assert done
        finished = _run_status(run.pk)
        assert finished.is_current and finished.shards_done == 12
        assert not RecommendationShard.objects.filter(run=run).exclude(status="done")
        first.refresh_from_db()
        assert not first.is_current
        assert not (
            set(selectors.current_suggestions().values_list("pk", flat=True)) & before
        )
    finally:
        stop_celery_worker(second)

"""``manage.py recompute_suggestions`` and the Celery tasks called with ids."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recommendations import services, tasks
from recommendations.models import RecommendationRun, Suggestion

pytestmark = pytest.mark.django_db


def test_command_runs_everyone_with_a_progress_bar(shop, settings):
    settings.RECOMMENDATIONS_SHARD_SIZE = 5
    out = StringIO()
    call_command("recompute_suggestions", stdout=out)
    text = out.getvalue()
    assert "3/3 shards" in text and "suggestions for 12 customers" in text
    assert RecommendationRun.objects.get().is_current


def test_command_for_one_customer(computed_shop):
    out = StringIO()
    customer = computed_shop.singles_a[0]
    call_command("recompute_suggestions", customer=customer.pk, stdout=out)
    assert f"for customer {customer.pk}" in out.getvalue()


def test_command_refuses_while_a_run_is_active(shop):
    services.start_run()
    with pytest.raises(CommandError):
        call_command("recompute_suggestions", stdout=StringIO())


def test_nightly_task_runs_shards_as_a_group_and_twice_is_harmless(shop, settings):
    settings.RECOMMENDATIONS_SHARD_SIZE = 4
    tasks.run_suggestions_task.delay()
    run = RecommendationRun.objects.get()
    assert run.status == "completed" and run.shards_total == 3
    count = Suggestion.objects.filter(run=run).count()
    # A redelivered shard or prepare task changes nothing.
    tasks.compute_shard_task.delay(run.pk, 0)
    tasks.prepare_run_task.delay(run.pk)
    assert Suggestion.objects.filter(run=run).count() == count
    run.refresh_from_db()
    assert run.is_current and run.status == "completed"


def test_nightly_task_skips_while_a_run_is_active(shop):
    active = services.start_run()
    tasks.run_suggestions_task.delay()
    assert RecommendationRun.objects.get() == active


def test_tasks_have_retries_and_late_acks():
    for task in (
        tasks.run_suggestions_task,
        tasks.prepare_run_task,
        tasks.compute_shard_task,
        tasks.recompute_customer_suggestions_task,
        tasks.mark_converted_task,
    ):
        assert task.acks_late and task.retry_backoff and task.max_retries == 5
        assert task.name.startswith("recommendations.")

"""The import as a Celery task: by id, after commit, with a poison guard."""

from __future__ import annotations

import pytest
from celery.contrib.django.task import DjangoTask
from django.db import OperationalError, transaction

from crm.models import ImportJob, Order
from crm.services.imports import (
    create_import_job,
    enqueue_import_job,
    run_import_job,
)
from crm.tasks import import_file_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(fixture_path):
    return create_import_job(
        kind=ImportJob.Kind.ONLINE_RETAIL,
        file_path=fixture_path("retail_latin1.csv"),
        file_name="retail_latin1.csv",
        skip_invalid=False,
    )


def test_task_is_a_django_task_routed_to_the_import_queue():
    task = import_file_task._get_current_object()
    assert isinstance(task, DjangoTask)
    assert task.name == "crm.import_file"
    assert task.acks_late is True
    assert task.autoretry_for == (OperationalError,)
    assert task.app.amqp.router.route({}, task.name)["queue"].name == "import"


def test_task_runs_the_job_by_id(job):
    import_file_task.apply(args=[job.pk]).get()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.attempts, job.progress) == (1, 100)
    assert job.sha256 and len(job.sha256) == 64
    assert Order.objects.filter(number="536100").exists()


def test_enqueue_waits_for_commit(job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue_import_job(job)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.PENDING
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE


def test_rolled_back_enqueue_queues_nothing(job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_import_job(job)
            raise RuntimeError("the request failed")
    assert callbacks == []


def test_redelivered_finished_job_is_left_alone(job):
    run_import_job(job_id=job.pk)
    again = run_import_job(job_id=job.pk)
    assert (again.status, again.attempts) == (ImportJob.Status.DONE, 1)


def test_poison_job_fails_after_max_deliveries(job, settings):
    ImportJob.objects.filter(pk=job.pk).update(
        attempts=settings.CELERY_MAX_DELIVERIES, status=ImportJob.Status.RUNNING
    )
    result = run_import_job(job_id=job.pk)
    assert result.status == ImportJob.Status.FAILED
    assert "Gave up" in result.message
    assert not Order.objects.exists()


def test_vanished_job_is_ignored():
    assert run_import_job(job_id=987654) is None


def test_transient_database_error_is_raised_for_retry(job, monkeypatch):
    def broken(plan, **kwargs):
        raise OperationalError("connection lost")

    monkeypatch.setattr("crm.imports.preparers.write_online_retail", broken)
    with pytest.raises(OperationalError):
        run_import_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PENDING
    assert not Order.objects.exists()


def test_same_file_again_is_skipped(job, fixture_path):
    run_import_job(job_id=job.pk)
    second = create_import_job(
        kind=ImportJob.Kind.ONLINE_RETAIL,
        file_path=fixture_path("retail_latin1.csv"),
        file_name="copy.csv",
        skip_invalid=False,
    )
    result = run_import_job(job_id=second.pk)
    assert result.status == ImportJob.Status.SKIPPED
    assert "Already imported" in result.message


def test_progress_is_reported_in_stages(job):
    seen: list[tuple[int, str]] = []
    run_import_job(job_id=job.pk, progress=lambda pct, stage: seen.append((pct, stage)))
    assert [pct for pct, _ in seen] == sorted(pct for pct, _ in seen)
    assert seen[-1] == (100, "done")


def test_an_unmigrated_database_gets_a_clear_message_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    source = tmp_path / "products.csv"
    source.write_text("sku,name,price\nA1,Mouse,25.00\n")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "import_csv", "products", str(source)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "manage.py migrate" in result.stderr

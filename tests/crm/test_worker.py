"""Imports on a real Celery worker and Redis broker (CEL-01, CEL-03, CEL-04).

These need PostgreSQL (DATABASE_URL) and Redis (TEST_REDIS_URL); they skip
without them, and fail instead under REQUIRE_SERVICES=1 (CI).
"""

import pytest
import redis
from django.db import transaction

from crm.models import ImportJob, Product
from crm.services.imports import create_import_job, enqueue_import_job
from tests.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

PRODUCTS_CSV = "sku,name,price,kind\nW-1,Wireless mouse,25.00,product\nW-2,Laptop case,39.90,product\n"


def finished(job_id: int) -> ImportJob | None:
    job = ImportJob.objects.get(pk=job_id)
    return job if job.status not in {"pending", "running"} else None


def test_an_import_queued_after_commit_runs_on_a_real_worker(
    celery_worker_process, tmp_path
):
    # given
    source = tmp_path / "products.csv"
    source.write_text(PRODUCTS_CSV)
    # when
    with transaction.atomic():
        job = create_import_job(
            kind="products",
            file_path=source,
            file_name="products.csv",
            skip_invalid=False,
        )
        enqueue_import_job(job)
    # then
    done = wait_for(
        lambda: finished(job.pk),
        timeout=60,
        message=f"worker did not finish the job:\n{celery_worker_process.log_path.read_text()}",
    )
    assert done.status == ImportJob.Status.DONE, done.message
    assert "crm.import_file[" in celery_worker_process.log_path.read_text()
    assert done.attempts == 1
    assert set(Product.objects.values_list("sku", flat=True)) == {"W-1", "W-2"}


def test_a_rolled_back_transaction_queues_nothing(celery_broker, postgres_db, tmp_path):
    source = tmp_path / "products.csv"
    source.write_text(PRODUCTS_CSV)
    queue = redis.Redis.from_url(celery_broker)
    before = queue.llen("import")

    with pytest.raises(RuntimeError), transaction.atomic():
        job = create_import_job(
            kind="products",
            file_path=source,
            file_name="products.csv",
            skip_invalid=False,
        )
        enqueue_import_job(job)
        raise RuntimeError("the request failed after enqueueing")

    assert queue.llen("import") == before
    assert not ImportJob.objects.exists()

    # and a committed one is really published to the import queue
    with transaction.atomic():
        job = create_import_job(
            kind="products",
            file_path=source,
            file_name="products.csv",
            skip_invalid=False,
        )
        enqueue_import_job(job)
    assert queue.llen("import") == before + 1

"""Celery entry points of the core app: thin, by id, safe to repeat."""

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="crm.import_file",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def import_file_task(job_id: int) -> None:
    """Run one ImportJob; a finished job is left as is, so redelivery is harmless."""
    from crm.services.imports import run_import_job

    run_import_job(job_id=job_id)


@shared_task(name="crm.cleanup_import_uploads")
def cleanup_import_uploads_task() -> None:
    """Delete uploaded import files past their retention period (SEC-15)."""
    from crm.services.imports import delete_expired_import_uploads

    delete_expired_import_uploads()

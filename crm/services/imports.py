"""CSV imports as ImportJob workflows (IMP-01..03, CEL-01/03/04).

``create_import_job`` records the file (with its SHA-256), ``enqueue_import_job``
hands it to a worker after commit, and ``run_import_job`` does the work, in
the command's process or in the Celery task. The ImportJob row is the source of
truth: status, counts (``summary``), the row-level report and the number of
deliveries (``attempts``, the poison-message guard).

All-or-nothing: a file with any invalid row writes nothing unless the job says
``skip_invalid``; the valid rows are then written in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.utils import timezone

from crm.imports.prepared import PreparedImport, ProgressCallback
from crm.imports.preparers import ONLINE_RETAIL_TIME_ZONE, prepare_import
from crm.imports.reading import ImportFileError
from crm.imports.report import count_errors_by_code, render_error_report
from crm.models import ImportJob

logger = logging.getLogger(__name__)
UPLOAD_NAME = re.compile(r"[0-9a-f]{32}\.csv")

__all__ = [
    "ONLINE_RETAIL_TIME_ZONE",
    "create_import_job",
    "delete_expired_import_uploads",
    "enqueue_import_job",
    "run_import_job",
    "start_uploaded_import",
    "store_import_upload",
    "uploaded_import_path",
]
FINISHED = (
    ImportJob.Status.DONE,
    ImportJob.Status.REJECTED,
    ImportJob.Status.FAILED,
    ImportJob.Status.SKIPPED,
)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes as stored (a .gz is hashed compressed)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def create_import_job(
    *,
    kind: str,
    file_path: str | Path,
    file_name: str,
    skip_invalid: bool,
    created_by: AbstractBaseUser | None = None,
) -> ImportJob:
    """Record a pending import of ``file_path``; nothing is read beyond the hash."""
    if kind not in ImportJob.Kind.values:
        raise ValueError(f"Unknown import kind {kind!r}.")
    path = Path(file_path)
    try:
        sha256 = file_sha256(path) if path.is_file() else ""
    except OSError:
        sha256 = ""
    return ImportJob.objects.create(
        kind=kind,
        file_path=str(path),
        file_name=file_name or path.name,
        sha256=sha256,
        skip_invalid=skip_invalid,
        created_by=created_by,
    )


def enqueue_import_job(job: ImportJob) -> None:
    """Queue the job for a worker once the current transaction commits (CEL-03)."""
    from crm.tasks import import_file_task

    import_file_task.delay_on_commit(job.pk)


def run_import_job(
    *,
    job_id: int,
    progress: ProgressCallback | None = None,
    force: bool = False,
    time_zone: str | None = None,
) -> ImportJob | None:
    """Run one import job to a final status and return it (None if it vanished).

    Idempotent: a finished job is returned untouched; the same file already
    imported (same kind and SHA-256) is SKIPPED unless ``force``; every write
    is an upsert on a natural key. Each call counts a delivery in its own
    transaction first, and past ``CELERY_MAX_DELIVERIES`` the job is FAILED
    instead of run again (a file that kills its worker cannot loop forever).
    OperationalError is re-raised (after the job is put back to pending) so
    the task can retry it.
    """
    job = _claim(job_id)
    if job is None or job.status != ImportJob.Status.RUNNING:
        return job
    notify = _progress_reporter(job, progress)
    try:
        if not force and _already_imported(job):
            return _finish(
                job,
                status=ImportJob.Status.SKIPPED,
                message="Already imported: the same file was imported before "
                "(use --force to run it again; nothing would change).",
            )
        notify(5, "reading")
        prepared = prepare_import(job, time_zone=time_zone, notify=notify)
        job.error_report = (
            render_error_report(prepared.errors) if len(prepared.errors) else ""
        )
        job.summary = _summary(job, prepared)
        if len(prepared.errors) and not job.skip_invalid:
            rejected = job.summary["rows"]["rejected"]
            return _finish(
                job,
                status=ImportJob.Status.REJECTED,
                message=f"{rejected} invalid row(s); nothing was written. "
                "Fix them, or import the valid rows only with --skip-invalid.",
            )
        notify(60, "writing")
        with transaction.atomic():
            # Inside the transaction only the caller hears progress: a write
            # to the job row here would stay invisible until commit anyway.
            written = prepared.write(progress or _ignore_progress)
        job.summary["written"] = written
        job.summary["added"] = sum(table["inserted"] for table in written.values())
        notify(100, "done")
        return _finish(job, status=ImportJob.Status.DONE, message=_done_message(job))
    except ImportFileError as exc:
        return _finish(job, status=ImportJob.Status.REJECTED, message=str(exc))
    except OperationalError:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PENDING)
        raise
    except (IntegrityError, DatabaseError) as exc:
        logger.warning("Import job %s refused by the database: %s", job.pk, exc)
        return _finish(
            job,
            status=ImportJob.Status.FAILED,
            message=f"The database refused the import; nothing was written ({exc}).",
        )
    except Exception as exc:
        logger.exception("Import job %s failed", job.pk)
        return _finish(
            job,
            status=ImportJob.Status.FAILED,
            message=f"Unexpected error; nothing was written ({type(exc).__name__}: "
            f"{exc}).",
        )


def _ignore_progress(percent: int, stage: str) -> None:
    return None


def _claim(job_id: int) -> ImportJob | None:
    """Count a delivery and mark the job running, committed on its own."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            logger.warning("Import job %s no longer exists", job_id)
            return None
        if job.status in FINISHED:
            return job
        job.attempts += 1
        now = timezone.now()
        if job.attempts > settings.CELERY_MAX_DELIVERIES:
            job.status = ImportJob.Status.FAILED
            job.message = (
                f"Gave up after {job.attempts - 1} deliveries "
                "(the worker died or the job kept failing)."
            )
            job.finished_at = now
        else:
            job.status = ImportJob.Status.RUNNING
            job.started_at = now
            job.progress = 0
        job.save(
            update_fields=[
                "attempts",
                "status",
                "message",
                "finished_at",
                "started_at",
                "progress",
            ]
        )
        return job


def _already_imported(job: ImportJob) -> bool:
    if not job.sha256:
        return False
    return (
        ImportJob.objects.filter(
            kind=job.kind, sha256=job.sha256, status=ImportJob.Status.DONE
        )
        .exclude(pk=job.pk)
        .exists()
    )


def _finish(job: ImportJob, *, status: str, message: str) -> ImportJob:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    if status == ImportJob.Status.DONE:
        job.progress = 100
    job.save(
        update_fields=[
            "status",
            "message",
            "finished_at",
            "progress",
            "summary",
            "error_report",
        ]
    )
    return job


def _progress_reporter(
    job: ImportJob, progress: ProgressCallback | None
) -> ProgressCallback:
    """Report to the caller and store the percentage (never inside the write)."""

    def notify(percent: int, stage: str) -> None:
        if progress is not None:
            progress(percent, stage)
        ImportJob.objects.filter(pk=job.pk).update(progress=percent)

    return notify


def _done_message(job: ImportJob) -> str:
    rows = job.summary["rows"]
    return (
        f"Imported {rows['imported']} row(s); {rows['special']} handled specially; "
        f"{rows['rejected']} rejected; {job.summary['added']} database row(s) added."
    )


def _summary(job: ImportJob, prepared: PreparedImport) -> dict[str, Any]:
    counts = prepared.counts
    return {
        "kind": job.kind,
        "file": job.file_name,
        "encoding": prepared.details.pop("encoding", "utf-8"),
        "notes": prepared.details.pop("notes", []),
        "rows": {
            "read": counts["rows_read"],
            "imported": counts["rows_imported"],
            "special": counts["rows_special"],
            "rejected": counts["rows_rejected"],
        },
        "special": prepared.special,
        "flags": prepared.flags,
        "rejected": count_errors_by_code(prepared.errors),
        "file_counts": prepared.file_counts,
        **prepared.details,
    }


# --- Uploads from the import page (SEC-15) --------------------------------------


def store_import_upload(*, chunks: Iterable[bytes]) -> Path:
    """Write an uploaded file under a generated name in IMPORT_UPLOAD_DIR.

    The client's file name never reaches the file system (no ``../`` games), and
    the directory lies outside MEDIA_ROOT and STATIC_ROOT, so nothing uploaded
    is ever served back. Owner-only permissions.
    """
    directory = Path(settings.IMPORT_UPLOAD_DIR)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{uuid.uuid4().hex}.csv"
    with open(path, "xb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    path.chmod(0o600)
    return path


def uploaded_import_path(name: str) -> Path | None:
    """The stored upload called ``name`` (a generated name), or None if gone or foreign."""
    if not UPLOAD_NAME.fullmatch(name):
        return None
    path = Path(settings.IMPORT_UPLOAD_DIR) / name
    return path if path.is_file() else None


@transaction.atomic
def start_uploaded_import(
    *,
    kind: str,
    stored_path: Path,
    file_name: str,
    skip_invalid: bool,
    created_by: AbstractBaseUser,
) -> ImportJob:
    """Create the job for a stored upload and queue it once committed."""
    job = create_import_job(
        kind=kind,
        file_path=stored_path,
        file_name=file_name[:255],
        skip_invalid=skip_invalid,
        created_by=created_by,
    )
    enqueue_import_job(job)
    return job


def delete_expired_import_uploads(*, now: datetime | None = None) -> int:
    """Delete uploads older than LADDER_IMPORT_RETENTION_DAYS; return how many.

    A file whose job is still pending or running is kept whatever its age;
    an upload previewed but never started is deleted like a finished one.
    """
    directory = Path(settings.IMPORT_UPLOAD_DIR)
    if not directory.is_dir():
        return 0
    cutoff = (now or timezone.now()).timestamp() - (
        settings.LADDER_IMPORT_RETENTION_DAYS * 86400
    )
    in_use = set(
        ImportJob.objects.exclude(status__in=FINISHED).values_list(
            "file_path", flat=True
        )
    )
    deleted = 0
    for path in directory.glob("*.csv"):
        try:
            if path.stat().st_mtime >= cutoff or str(path) in in_use:
                continue
            path.unlink()
            deleted += 1
        except FileNotFoundError:
            continue  # another cleanup got there first
    if deleted:
        logger.info("Deleted %s expired import upload(s)", deleted)
    return deleted

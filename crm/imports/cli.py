"""Shared plumbing of the import management commands: run, show, report."""

from __future__ import annotations

import shutil
import sys
import zoneinfo
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, OperationalError
from tqdm import tqdm

from crm.models import ImportJob
from crm.services.imports import create_import_job, run_import_job


def add_common_arguments(parser: CommandParser, *, default_time_zone: str) -> None:
    """The options every import command shares."""
    parser.add_argument("file", help="A .csv or .csv.gz file.")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="Import the valid rows (in one transaction) and report the others.",
    )
    parser.add_argument(
        "--report",
        help="Where to write the invalid-row report (default: <file>.errors.csv).",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="Run even if this exact file was imported before (still idempotent).",
    )
    parser.add_argument(
        "--time-zone",
        default=default_time_zone,
        help=f"Time zone of the file's local times (default {default_time_zone}).",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="Never show a progress bar."
    )


def default_report_path(path: Path) -> Path:
    """``orders.csv.gz`` → ``orders.errors.csv`` beside it."""
    name = path.name
    for suffix in (".csv.gz", ".csv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return path.with_name(f"{name}.errors.csv")


def run_import_command(
    command: BaseCommand, *, kind: str, options: dict[str, Any]
) -> ImportJob:
    """Create and run the job in this process; raise CommandError on refusal."""
    path = Path(options["file"])
    if not path.is_file():
        raise CommandError(f"{path}: no such file.")
    try:
        zoneinfo.ZoneInfo(options["time_zone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise CommandError(f"Unknown time zone {options['time_zone']!r}.") from exc
    try:
        job = create_import_job(
            kind=kind,
            file_path=path.resolve(),
            file_name=path.name,
            skip_invalid=options["skip_invalid"],
        )
    except DatabaseError as exc:
        raise CommandError(
            f"The database is not ready ({exc}). Run `manage.py migrate` first."
        ) from exc
    show_bar = not options["no_progress"] and sys.stderr.isatty()
    with tqdm(
        total=100,
        disable=not show_bar,
        file=sys.stderr,
        unit="%",
        leave=False,
        # A pty reporting a 0×0 size would make tqdm draw nothing at all.
        ncols=min(shutil.get_terminal_size().columns, 100),
        nrows=shutil.get_terminal_size().lines,
    ) as bar:

        def progress(percent: int, stage: str) -> None:
            bar.set_description(stage)
            bar.update(max(percent - bar.n, 0))

        try:
            job = run_import_job(
                job_id=job.pk,
                progress=progress,
                force=options["force"],
                time_zone=options["time_zone"],
            )
        except OperationalError as exc:
            raise CommandError(
                f"Database unavailable; nothing was written ({exc})."
            ) from exc
    command.stdout.write(format_summary(job))
    if job.error_report:
        report = Path(options["report"] or default_report_path(path))
        report.write_text(job.error_report, encoding="utf-8")
        command.stdout.write(f"Invalid rows listed in {report}")
    if job.status in (ImportJob.Status.REJECTED, ImportJob.Status.FAILED):
        raise CommandError(job.message)
    command.stdout.write(command.style.SUCCESS(job.message))
    return job


def format_summary(job: ImportJob) -> str:
    """The job's summary as a few readable lines."""
    summary = job.summary or {}
    out = [f"Import #{job.pk} ({job.kind}) of {job.file_name}: {job.status}"]
    for note in summary.get("notes", []):
        out.append(f"  note: {note}")
    rows = summary.get("rows")
    if rows:
        out.append(
            f"  rows read {rows['read']}: imported {rows['imported']}, "
            f"handled specially {rows['special']}, rejected {rows['rejected']}"
        )
    for title, key in (
        ("handled specially", "special"),
        ("among imported rows", "flags"),
        ("rejected, by reason", "rejected"),
        ("found in the file", "file_counts"),
    ):
        section = {k: v for k, v in summary.get(key, {}).items() if v}
        if section:
            out.append(f"  {title}:")
            out.extend(
                f"    {name.replace('_', ' ')}: {n}" for name, n in section.items()
            )
    written = summary.get("written")
    if written:
        out.append("  database rows added / updated:")
        out.extend(
            f"    {table.replace('_', ' ')}: +{w['inserted']} / ~{w['updated']}"
            for table, w in written.items()
        )
    total = summary.get("unmatched_cancellations_total")
    if total:
        stored = summary.get("unmatched_cancellations", [])
        shown = stored[:10]
        out.append(
            f"  cancellations without a matching purchase in the file: {total} "
            f"(first {len(shown)} below; {len(stored)} listed in the job summary)"
        )
        out.extend(
            f"    line {u['line']}: {u['invoice']} customer {u['customer']} "
            f"{u['stock_code']} × {u['quantity']}"
            for u in shown
        )
    return "\n".join(out)

"""Benchmark: import the whole Online Retail file into a fresh PostgreSQL database.

Creates a scratch database (default ``ladder_bench``), migrates it, then runs
``manage.py import_online_retail`` twice in child processes: the first import
and a forced re-import (``--force``, so the file is really processed again).
Wall time and peak RSS are measured per child (``os.wait4``), row counts read
from the database. Prints the figures against the targets: under 60 s and
under 2 GB for the import, zero rows added by the re-import.

    .venv/bin/python bench/bench_import.py [--database-url URL] [--file F] [--keep]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILE = REPO.parent / "shared" / "data" / "online_retail.csv.gz"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ladder_bench"
TABLES = ["crm_customer", "crm_product", "crm_order", "crm_orderline", "crm_return"]
TARGET_SECONDS = 60
TARGET_BYTES = 2 * 1024**3


def admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def recreate_database(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database_name(url))
            )
        )


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in TABLES
        }


def run_child(args: list[str], *, env: dict[str, str]) -> tuple[float, int, str]:
    """Run a child; return (wall seconds, peak RSS in bytes, stdout)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output = child.stdout.read().decode() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({child.returncode}):\n{output}")
    return wall, usage.ru_maxrss * 1024, output  # ru_maxrss is KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch DB.")
    options = parser.parse_args()
    url = options.database_url
    if not options.file.exists():
        sys.exit(f"{options.file} is missing.")

    env = {**os.environ, "DATABASE_URL": url, "DJANGO_LOG_LEVEL": "WARNING"}
    python = sys.executable
    print(f"scratch database {database_name(url)}; file {options.file.name}")
    recreate_database(url)
    try:
        run_child([python, "manage.py", "migrate", "-v0"], env=env)
        command = [
            python,
            "manage.py",
            "import_online_retail",
            str(options.file),
            "--no-progress",
        ]
        first_wall, first_rss, first_out = run_child(command, env=env)
        after_first = row_counts(url)
        again_wall, again_rss, again_out = run_child([*command, "--force"], env=env)
        after_again = row_counts(url)
    finally:
        if not options.keep:
            drop_database(url)

    added = sum(after_again.values()) - sum(after_first.values())
    print(first_out.strip().splitlines()[-1])
    print(again_out.strip().splitlines()[-1])
    print()
    print(
        "rows after import: "
        + ", ".join(f"{t[4:]} {n}" for t, n in after_first.items())
    )
    print()
    header = f"{'figure':<34}{'measured':>14}{'target':>12}  ok"
    print(header)
    print("-" * len(header))
    figures = [
        (
            "import wall time (s)",
            f"{first_wall:.1f}",
            f"< {TARGET_SECONDS}",
            first_wall < TARGET_SECONDS,
        ),
        (
            "import peak RSS (MiB)",
            f"{first_rss / 2**20:.0f}",
            f"< {TARGET_BYTES // 2**20}",
            first_rss < TARGET_BYTES,
        ),
        ("re-import wall time (s)", f"{again_wall:.1f}", "-", True),
        (
            "re-import peak RSS (MiB)",
            f"{again_rss / 2**20:.0f}",
            f"< {TARGET_BYTES // 2**20}",
            again_rss < TARGET_BYTES,
        ),
        ("rows added by re-import", str(added), "0", added == 0),
    ]
    for name, measured, target, ok in figures:
        print(f"{name:<34}{measured:>14}{target:>12}  {'yes' if ok else 'NO'}")
    if not all(ok for *_, ok in figures):
        sys.exit(1)


if __name__ == "__main__":
    main()

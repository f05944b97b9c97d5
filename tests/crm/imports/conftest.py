"""Helpers for the import tests: fixture paths and running the commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"
RETAIL_HEADER = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
)


@pytest.fixture
def fixture_path():
    def path(name: str) -> Path:
        return FIXTURES / name

    return path


@pytest.fixture
def run_command():
    """Call a management command; return its stdout."""

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command(*args, "--no-progress", stdout=out, stderr=io.StringIO())
        return out.getvalue()

    return run


def write_retail(path: Path, rows: list[str], *, header: str = RETAIL_HEADER) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path

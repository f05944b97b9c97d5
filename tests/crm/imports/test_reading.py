"""The reader refuses unusable files with one clear message (no DB needed)."""

from __future__ import annotations

import csv
import gzip
import io
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.imports.online_retail import RETAIL_COLUMNS
from crm.imports.reading import (
    FIELDS_COLUMN,
    LINE_COLUMN,
    ImportFileError,
    read_csv_file,
)
from crm.imports.report import escape_csv_cell, render_error_report
from crm.imports.validation import ErrorCollector

from .conftest import RETAIL_HEADER

ROW = "536365,85123A,WHITE HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom"


def test_bom_is_dropped_and_ids_stay_text(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(
        (
            "\ufeff" + RETAIL_HEADER + "\n" + ROW.replace("17850", "00123") + "\n"
        ).encode()
    )
    result = read_csv_file(path, required_columns=RETAIL_COLUMNS)
    assert result.encoding == "utf-8"
    assert result.frame["CustomerID"].tolist() == ["00123"]
    assert result.frame[LINE_COLUMN].tolist() == [2]


def test_latin1_file_falls_back_and_says_so(fixture_path):
    result = read_csv_file(
        fixture_path("retail_latin1.csv"), required_columns=RETAIL_COLUMNS
    )
    assert result.encoding in {"cp1252", "latin-1"}
    assert "not valid UTF-8" in result.notes[0]
    assert result.frame["Description"].iloc[0] == "CAFÉ CRÈME MUG"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n\n", "empty"),
        ("header_only.csv", RETAIL_HEADER.encode() + b"\n", "no rows"),
        ("data.xlsx", b"PK\x03\x04", "only .csv and .csv.gz"),
        ("renamed.csv", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, "not a CSV"),
        (
            "missing.csv",
            b"InvoiceNo,StockCode,Quantity\n1,2,3\n",
            "missing column(s) Description, InvoiceDate, UnitPrice, CustomerID",
        ),
        (
            "too_many.csv",
            (RETAIL_HEADER + "\n" + ROW + "\n" + ROW + ",extra\n").encode(),
            "not a valid CSV",
        ),
    ],
)
def test_unusable_file_is_refused_with_a_clear_message(
    tmp_path, name, content, message
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=re.escape(message)):
        read_csv_file(path, required_columns=RETAIL_COLUMNS)


def test_truncated_gzip_is_refused(tmp_path):
    data = gzip.compress((RETAIL_HEADER + "\n" + (ROW + "\n") * 2000).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportFileError, match="truncated or corrupt"):
        read_csv_file(path, required_columns=RETAIL_COLUMNS)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="no such file"):
        read_csv_file(tmp_path / "nope.csv", required_columns=RETAIL_COLUMNS)


def test_truncated_last_line_shows_its_field_count(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text(RETAIL_HEADER + "\n" + ROW + "\n" + ROW[:20], encoding="utf-8")
    frame = read_csv_file(path, required_columns=RETAIL_COLUMNS).frame
    assert frame[FIELDS_COLUMN].tolist() == [8, 3]
    assert frame[LINE_COLUMN].tolist() == [2, 3]


@given(st.text())
def test_escaped_cell_never_starts_with_a_formula_trigger(text):
    cell = escape_csv_cell(text)
    assert cell.startswith("'") or not cell.startswith(
        ("=", "+", "-", "@", "\t", "\r", "\x00")
    )
    assert cell.removeprefix("'") == text or cell == text


def test_error_report_escapes_formulas_and_nul(tmp_path):
    frame = pd.DataFrame(
        {"Description": ["=HYPERLINK(1)", "a\x00b"], LINE_COLUMN: [2, 3]}
    )
    errors = ErrorCollector(frame)
    errors.add(pd.Series([True, True]), column="Description", code="x", message="bad")
    rows = list(csv.reader(io.StringIO(render_error_report(errors.frame()))))
    assert rows[0] == ["line", "column", "code", "message", "value"]
    assert rows[1] == ["2", "Description", "x", "bad", "'=HYPERLINK(1)"]
    assert rows[2][4] == "a\\0b"


def test_line_numbers_count_multiline_fields_and_blank_lines(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text(
        RETAIL_HEADER
        + "\n"
        + ROW.replace("WHITE HEART", '"WHITE\nHEART"')
        + "\n\n"
        + ROW
        + "\n",
        encoding="utf-8",
    )
    frame = read_csv_file(path, required_columns=RETAIL_COLUMNS).frame
    assert frame[LINE_COLUMN].tolist() == [2, 5]
    assert frame["Description"].iloc[0] == "WHITE\nHEART"

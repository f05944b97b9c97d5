"""Row-level error reports (IMP-01), escaped against formula injection (SEC-14).

Pure pandas and csv; no Django. An error frame has ERROR_COLUMNS:
``line`` (int, physical line in the file, header = 1), ``column`` (str),
``code`` (str, stable machine code), ``message`` (str), ``value`` (str, the raw
cell, shortened).
"""

from __future__ import annotations

import csv
import io

import pandas as pd

ERROR_COLUMNS = ["line", "column", "code", "message", "value"]
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")
MAX_VALUE_CHARS = 200


def escape_csv_cell(value: object) -> str:
    """Text safe to open in a spreadsheet: a leading ``'`` disarms formulas.

    Cells starting with ``= + - @``, TAB, CR or NUL get the prefix (OWASP CSV
    injection); RFC 4180 quoting is left to the csv writer.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def empty_errors() -> pd.DataFrame:
    """An error frame with no rows and the right columns."""
    return pd.DataFrame(
        {
            "line": pd.Series(dtype="int64"),
            "column": pd.Series(dtype=object),
            "code": pd.Series(dtype=object),
            "message": pd.Series(dtype=object),
            "value": pd.Series(dtype=object),
        }
    )


def printable_value(value: object) -> str:
    """A raw value shortened for the report; NUL shown as ``\\0``.

    PostgreSQL text cannot hold NUL, and the report is stored on the job row.
    """
    text = "" if value is None else str(value)
    if len(text) > MAX_VALUE_CHARS:
        text = f"{text[:MAX_VALUE_CHARS]}… ({len(text)} characters)"
    return text.replace("\x00", "\\0")


def render_error_report(errors: pd.DataFrame) -> str:
    """The error frame as CSV text (header + one row per error), escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ERROR_COLUMNS)
    ordered = errors.sort_values(["line", "column", "code"], kind="stable")
    for line, column, code, message, value in ordered[ERROR_COLUMNS].itertuples(
        index=False, name=None
    ):
        writer.writerow(
            [
                int(line),
                escape_csv_cell(column),
                code,
                escape_csv_cell(message),
                escape_csv_cell(str(value).replace("\x00", "\\0")),
            ]
        )
    return buffer.getvalue()


def count_errors_by_code(errors: pd.DataFrame) -> dict[str, int]:
    """How many distinct rows each error code rejected."""
    if errors.empty:
        return {}
    per_code = errors.drop_duplicates(["line", "code"]).groupby("code").size()
    return {str(code): int(count) for code, count in per_code.items()}

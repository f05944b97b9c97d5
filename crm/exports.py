"""CSV exports that are safe to open in a spreadsheet (SEC-14).

Text cells starting with ``= + - @``, TAB, CR or NUL get a leading ``'``
so a spreadsheet shows them as text instead of running them as formulas
(OWASP CSV injection). Numbers (int, float, Decimal) are written as numbers,
so a return quantity of ``-3`` stays ``-3``; anything else, phone numbers in
E.164 included, is text and is escaped. Quoting is RFC 4180 (csv module,
CRLF line ends). The file name is always chosen by the server.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def export_cell(value: object) -> str | int | float | Decimal:
    """One cell, ready for ``csv.writer``: numbers as they are, text escaped.

    None is an empty cell; booleans are text ("True"/"False"), not numbers;
    NaN and infinities are empty (a spreadsheet cannot read them).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        return value if math.isfinite(value) else ""
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def render_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Header plus rows as CSV text, every cell through ``export_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([export_cell(name) for name in header])
    for row in rows:
        writer.writerow([export_cell(cell) for cell in row])
    return buffer.getvalue()


def safe_filename(name: str) -> str:
    """A file name made of letters, digits, dots, dashes and underscores only."""
    cleaned = _SAFE_FILENAME.sub("-", name).strip(".-") or "export"
    return cleaned if cleaned.endswith(".csv") else f"{cleaned}.csv"


def csv_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    """A download: ``text/csv; charset=utf-8``, ``Content-Disposition: attachment``."""
    response = HttpResponse(
        render_csv(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{safe_filename(filename)}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response

"""Read an import file into a DataFrame of strings, or refuse it with a clear message.

Pure I/O and pandas, no Django: the caller passes the expected columns. Every
cell comes back as ``str`` (``dtype=str, keep_default_na=False``), so ids keep
their leading zeros and never turn into ``17850.0``.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ACCEPTED_SUFFIXES = (".csv", ".csv.gz")
# Magic numbers of files people rename to .csv by mistake (xlsx/zip, pdf, ...).
BINARY_SIGNATURES = (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0", b"\x1f\x8b")
LINE_COLUMN = "_line"
FIELDS_COLUMN = "_fields"


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message is meant for people."""


@dataclass
class CsvFile:
    """A parsed import file.

    ``frame`` holds the declared columns as ``str`` plus two int columns:
    ``_line`` (the physical line number of the row, header = line 1) and
    ``_fields`` (how many fields the row had; a truncated row has fewer).
    """

    frame: pd.DataFrame
    encoding: str
    expected_fields: int
    notes: list[str] = field(default_factory=list)


def read_file_bytes(path: Path) -> bytes:
    """The file's content, gunzipped for ``.csv.gz``; ImportFileError if unusable."""
    name = path.name.lower()
    if not name.endswith(ACCEPTED_SUFFIXES):
        raise ImportFileError(
            f"{path.name}: only .csv and .csv.gz files can be imported."
        )
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file.")
    try:
        raw = path.read_bytes()
        if name.endswith(".gz"):
            raw = gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ImportFileError(
            f"{path.name}: the gzip file is truncated or corrupt ({exc})."
        ) from exc
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot be read ({exc}).") from exc
    return raw


def decode_text(raw: bytes) -> tuple[str, str, list[str]]:
    """Decode UTF-8 (a BOM is dropped), else fall back to cp1252 or latin-1.

    Returns (text, encoding, notes); the notes say when a fallback was used.
    """
    try:
        return raw.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    for encoding in ("cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        note = (
            f"The file is not valid UTF-8 (first bad byte at offset {first_bad}); "
            f"it was read as {encoding}."
        )
        return text, encoding, [note]
    raise ImportFileError("The file's encoding could not be recognised.")  # unreachable


def read_csv_file(
    path: Path,
    *,
    required_columns: Sequence[str],
    optional_columns: Sequence[str] = (),
) -> CsvFile:
    """Parse ``path`` into a CsvFile, checking the header first.

    Raises ImportFileError (nothing has been written yet) for: a wrong suffix,
    a missing or unreadable file, a truncated gzip, a binary file, an empty
    file, a missing column, or text that does not parse as CSV.
    """
    raw = read_file_bytes(path)
    if not raw.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ImportFileError(f"{path.name}: the file is empty.")
    if raw.startswith(BINARY_SIGNATURES) or raw[:4096].count(b"\x00") > 64:
        raise ImportFileError(f"{path.name}: this is not a CSV text file.")
    text, encoding, notes = decode_text(raw)
    del raw
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, engine="c"
        )
    except pd.errors.EmptyDataError as exc:
        raise ImportFileError(f"{path.name}: the file is empty.") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else "?"
        raise ImportFileError(
            f"{path.name}: not a valid CSV file ({message})."
        ) from exc

    frame.columns = [str(column).strip() for column in frame.columns]
    missing = [column for column in required_columns if column not in frame.columns]
    if missing:
        raise ImportFileError(
            f"{path.name}: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(required_columns)}."
        )
    if frame.empty:
        raise ImportFileError(f"{path.name}: the file has a header but no rows.")
    expected_fields = len(frame.columns)
    wanted = [*required_columns, *(c for c in optional_columns if c in frame.columns)]
    frame = frame[wanted].copy()
    lines, fields = _line_numbers_and_widths(text, rows=len(frame))
    del text
    frame[LINE_COLUMN] = lines
    frame[FIELDS_COLUMN] = fields
    return CsvFile(
        frame=frame, encoding=encoding, expected_fields=expected_fields, notes=notes
    )


def _line_numbers_and_widths(text: str, *, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Physical line number and field count of each data row.

    pandas fills the missing fields of a short row (a truncated last line) with
    empty strings, so the field count comes from a second, cheap pass with the
    csv module, which also gives true start lines when a quoted field spans
    lines.
    Blank lines are skipped, as pandas skips them. If the two parsers disagree
    on the row count, fall back to ``index + 2`` and an unknown width (-1).
    """
    reader = csv.reader(io.StringIO(text))
    widths: list[int] = []
    line_numbers: list[int] = []
    try:
        next(reader)  # header
        previous_end = reader.line_num
        for row in reader:
            if row:
                widths.append(len(row))
                # The line the row starts on, even when a quoted field spans lines.
                line_numbers.append(previous_end + 1)
            previous_end = reader.line_num
    except csv.Error:
        widths = []
    if len(widths) != rows:
        return np.arange(2, rows + 2, dtype=np.int64), np.full(rows, -1, np.int64)
    return np.asarray(line_numbers, dtype=np.int64), np.asarray(widths, dtype=np.int64)

"""Vectorised row checks shared by the import formats (SEC-12, IMP-01).

Each rule is a boolean mask over the frame; the collector turns masks into an
error frame (see ``crm.imports.report.ERROR_COLUMNS``). Pure pandas, no Django.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from crm.imports.reading import FIELDS_COLUMN, LINE_COLUMN
from crm.imports.report import ERROR_COLUMNS, empty_errors, printable_value

DECIMAL_PATTERN = r"^[+-]?(?:\d+\.?\d*|\.\d+)$"
INTEGER_PATTERN = r"^[+-]?\d+$"


def per_unique(series: pd.Series, transform: Callable[[pd.Series], Any]) -> Any:
    """Apply ``transform`` to the distinct values only, then broadcast back.

    Without pyarrow, pandas string methods loop in Python per cell; retail
    columns repeat a few thousand values over 500 000 rows, so working on the
    distinct values is ~100× less work. ``transform`` gets a Series of the
    distinct values and returns a Series or a tuple of Series aligned to it.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    result = transform(pd.Series(np.asarray(uniques, dtype=object), dtype=series.dtype))

    def spread(values: pd.Series) -> pd.Series:
        return values.reset_index(drop=True).take(codes).set_axis(series.index)

    if isinstance(result, tuple):
        return tuple(spread(values) for values in result)
    return spread(result)


class ErrorCollector:
    """Collects row errors for one frame; ``invalid`` marks rows with any error."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._parts: list[pd.DataFrame] = []
        self.invalid = pd.Series(False, index=frame.index)

    def add(
        self,
        mask: pd.Series,
        *,
        column: str,
        code: str,
        message: str,
        values: pd.Series | None = None,
    ) -> None:
        """Record one error per row where ``mask`` is true."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        source = values if values is not None else self._frame.get(column)
        if source is None:
            raw = pd.Series("", index=self._frame.index)
        else:
            raw = source
        hit = self._frame.index[mask.to_numpy()]
        self._parts.append(
            pd.DataFrame(
                {
                    "line": self._frame.loc[hit, LINE_COLUMN].to_numpy(),
                    "column": column,
                    "code": code,
                    "message": message,
                    "value": [printable_value(v) for v in raw.loc[hit].tolist()],
                }
            )
        )
        self.invalid |= mask

    def frame(self) -> pd.DataFrame:
        """All errors so far, ordered by line then column."""
        if not self._parts:
            return empty_errors()
        errors = pd.concat(self._parts, ignore_index=True)[ERROR_COLUMNS]
        return errors.sort_values(["line", "column"], kind="stable").reset_index(
            drop=True
        )


def check_row_shape(
    errors: ErrorCollector, frame: pd.DataFrame, *, expected_fields: int
) -> None:
    """Rows with fewer or more fields than the header (a truncated line)."""
    widths = frame[FIELDS_COLUMN]
    errors.add(
        (widths >= 0) & (widths != expected_fields),
        column="*",
        code="field_count",
        message=f"The row does not have {expected_fields} fields (truncated line?).",
        values=widths.astype(str),
    )


def check_text(
    errors: ErrorCollector, frame: pd.DataFrame, *, max_lengths: Mapping[str, int]
) -> None:
    """NUL characters anywhere, and text longer than its database column."""
    for column in frame.columns:
        if column in (LINE_COLUMN, FIELDS_COLUMN):
            continue
        series = frame[column]
        errors.add(
            per_unique(series, lambda u: u.str.contains("\x00", regex=False)),
            column=column,
            code="nul",
            message="Text must not contain NUL characters.",
        )
        limit = max_lengths.get(column)
        if limit is not None:
            errors.add(
                per_unique(series, lambda u, n=limit: u.str.len() > n),
                column=column,
                code="too_long",
                message=f"Longer than {limit} characters.",
            )


def check_required(
    errors: ErrorCollector, frame: pd.DataFrame, *, columns: list[str]
) -> None:
    """Columns that must not be blank."""
    for column in columns:
        errors.add(
            per_unique(frame[column], lambda u: u.str.strip() == ""),
            column=column,
            code="required",
            message="This value is required.",
        )


def parse_integers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(values as Int64 with <NA> for blanks, mask of non-blank unparseable cells)."""
    return per_unique(series, _parse_integers)


def _parse_integers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = series.str.strip()
    good = text.str.fullmatch(INTEGER_PATTERN)
    values = pd.to_numeric(text.where(good), errors="coerce").astype("Int64")
    return values, (text != "") & ~good


def parse_decimals(
    series: pd.Series, *, decimal_places: int, max_digits: int
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse decimal text exactly, rounded half-up to ``decimal_places``.

    Returns (values as float64 for comparisons, canonical strings such as
    ``"2.55"`` for the database, mask of non-blank invalid cells). Each
    distinct text is parsed once with Decimal, so 500 000 prices cost little.
    """
    return per_unique(
        series,
        lambda unique: _parse_decimals(
            unique, decimal_places=decimal_places, max_digits=max_digits
        ),
    )


def _parse_decimals(
    series: pd.Series, *, decimal_places: int, max_digits: int
) -> tuple[pd.Series, pd.Series, pd.Series]:
    text = series.str.strip()
    good = text.str.fullmatch(DECIMAL_PATTERN)
    quantum = Decimal(1).scaleb(-decimal_places)
    limit = Decimal(10) ** (max_digits - decimal_places)
    canonical: dict[str, str | None] = {}
    for value in pd.unique(text[good].to_numpy()):
        number = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
        canonical[value] = str(number) if abs(number) < limit else None
    strings = text.map(canonical).astype(object)
    bad_range = good & strings.isna()
    floats = pd.to_numeric(strings, errors="coerce")
    return floats, strings, ((text != "") & ~good) | bad_range


def parse_datetimes(
    series: pd.Series, *, time_zone: str, formats: tuple[str, ...]
) -> tuple[pd.Series, pd.Series]:
    """Local date-times in ``time_zone`` → UTC Timestamps, and a mask of bad cells.

    Each format is tried in turn on the cells still unparsed. In the autumn
    DST overlap the first (summer-time) instant is chosen; times skipped by the
    spring change move forward, so no row is lost to a clock change.
    """
    return per_unique(
        series,
        lambda unique: _parse_datetimes(unique, time_zone=time_zone, formats=formats),
    )


def _parse_datetimes(
    series: pd.Series, *, time_zone: str, formats: tuple[str, ...]
) -> tuple[pd.Series, pd.Series]:
    text = series.str.strip()
    parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = parsed.isna() & (text != "")
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    bad = parsed.isna()
    localized = parsed.dt.tz_localize(
        time_zone,
        ambiguous=np.ones(len(parsed), dtype=bool),
        nonexistent="shift_forward",
    ).dt.tz_convert("UTC")
    return localized, bad

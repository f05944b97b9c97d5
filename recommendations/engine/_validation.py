"""Input checks shared by the engine: clear ``ValueError`` messages, never silence."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def require_frame(frame: object, *, name: str, columns: Sequence[str]) -> pd.DataFrame:
    """Check that ``frame`` is a DataFrame holding every column in ``columns``.

    Raises ``ValueError`` naming the frame and the missing columns. Extra columns
    are allowed and ignored.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame)!r}")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; expected {list(columns)}"
        )
    return frame


def require_no_nulls(frame: pd.DataFrame, *, name: str, columns: Sequence[str]) -> None:
    """Raise ``ValueError`` when any of ``columns`` holds a missing value."""
    for column in columns:
        nulls = int(frame[column].isna().sum())
        if nulls:
            raise ValueError(f"{name}.{column} has {nulls} missing value(s)")


def require_unique(frame: pd.DataFrame, *, name: str, columns: Sequence[str]) -> None:
    """Raise ``ValueError`` when rows repeat on the key ``columns``."""
    duplicated = int(frame.duplicated(subset=list(columns)).sum())
    if duplicated:
        raise ValueError(f"{name} has {duplicated} duplicate row(s) on {list(columns)}")


def require_fraction(value: float, *, name: str, allow_zero: bool = True) -> float:
    """Return ``value`` as a float when it lies in [0, 1] ((0, 1] without zero)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    low_ok = number >= 0.0 if allow_zero else number > 0.0
    if not (low_ok and number <= 1.0):
        bound = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(f"{name} must lie in {bound}, got {value!r}")
    return number


def require_id_array(values: object, *, name: str) -> None:
    """Raise ``ValueError`` when a 1-d id array-like holds a missing value."""
    nulls = int(pd.isna(pd.Series(values, dtype=object)).sum())
    if nulls:
        raise ValueError(f"{name} has {nulls} missing value(s)")

"""The hand-over between an import format and the import service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

ProgressCallback = Callable[[int, str], None]


@dataclass
class PreparedImport:
    """A validated file: its errors, counts, and a closure that writes it.

    ``counts`` has at least rows_read, rows_imported, rows_special and
    rows_rejected (rows_read = the sum of the other three). ``special`` counts
    rows handled by a format rule instead of imported, ``flags`` imported rows
    worth knowing about, ``file_counts`` the entities found in the file.
    ``write(progress)`` must be called inside ``transaction.atomic()``.
    """

    errors: pd.DataFrame
    counts: dict[str, int]
    write: Callable[[ProgressCallback], dict[str, dict[str, int]]]
    special: dict[str, int] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)
    file_counts: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

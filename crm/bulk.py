"""Bulk upserts on natural keys for the import writers (IMP-02).

PostgreSQL: COPY into a TEMP staging table, then one
``INSERT … SELECT … ON CONFLICT (key) DO UPDATE SET … WHERE … IS DISTINCT FROM …``.
SQLite: ``executemany`` of the same ``INSERT … ON CONFLICT`` with VALUES.
Either way a row whose values did not change is not touched (its
``updated_at`` stays), so re-importing a file changes nothing. Must run inside
the caller's transaction; nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from django.db import connections, models
from django.utils import timezone

SQLITE_BATCH_ROWS = 2000
ID_LOOKUP_BATCH = 500
_TEXT_FIELDS = (models.CharField, models.TextField)
_staging_names = itertools.count(1)


@dataclass(frozen=True)
class UpsertResult:
    """Rows added, and existing rows whose values changed."""

    inserted: int
    updated: int


def relax_commit_durability(using: str = "default") -> None:
    """Let PostgreSQL acknowledge the current transaction before its WAL is flushed.

    For writes that are safe to lose in a database crash because something
    redoes them: the transaction stays atomic (after a crash it is either all
    there or all gone, never half), only the last fraction of a second of
    commits may be rolled back. Call inside ``transaction.atomic``; a no-op
    outside PostgreSQL.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def bulk_upsert(
    *,
    model: type[models.Model],
    rows: pd.DataFrame,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
    conflict_where: str = "",
    update_expressions: Mapping[str, str] | None = None,
    using: str = "default",
) -> UpsertResult:
    """Insert ``rows`` or update the existing rows with the same natural key.

    ``rows`` columns are database column names (``customer_id``), one row per
    key (duplicates would hit a row twice, which PostgreSQL refuses). Values are
    str, int, bool, None, or tz-aware Timestamps. ``created_at``/``updated_at``
    are filled when the model has them; ``updated_at`` only moves when another
    updated column changes. ``conflict_where`` repeats the predicate of a
    partial unique index (``NOT ("external_id" = '')``). ``update_expressions``
    replaces ``EXCLUDED.col`` for some columns: SQL in which ``{new}`` is the
    incoming value and ``{old}`` the stored one (e.g. keep the earlier date).
    """
    if rows.empty:
        return UpsertResult(inserted=0, updated=0)
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("bulk_upsert must run inside transaction.atomic().")
    rows = _with_defaults(model, rows)
    table = model._meta.db_table
    quote = connection.ops.quote_name
    columns = list(rows.columns)
    field_names = {f.column for f in model._meta.concrete_fields}
    now = timezone.now()
    stamp_columns = [c for c in ("created_at", "updated_at") if c in field_names]
    insert_columns = columns + stamp_columns
    update_expressions = dict(update_expressions or {})

    conflict = f"({', '.join(quote(c) for c in unique_fields)})"
    if conflict_where:
        conflict += f" WHERE {conflict_where}"
    distinct = " IS DISTINCT FROM " if connection.vendor == "postgresql" else " IS NOT "
    if update_fields:
        new_values = {
            c: update_expressions.get(c, "{new}").format(
                new=f"EXCLUDED.{quote(c)}", old=f"{quote(table)}.{quote(c)}"
            )
            for c in update_fields
        }
        assignments = [f"{quote(c)} = {expr}" for c, expr in new_values.items()]
        if "updated_at" in field_names:
            assignments.append(
                f"{quote('updated_at')} = EXCLUDED.{quote('updated_at')}"
            )
        changed = " OR ".join(
            f"{quote(table)}.{quote(c)}{distinct}{expr}"
            for c, expr in new_values.items()
        )
        action = f"DO UPDATE SET {', '.join(assignments)} WHERE {changed}"
    else:
        action = "DO NOTHING"

    values = _python_rows(model, rows, vendor=connection.vendor)
    stamp_values = [_adapt_datetime(now, vendor=connection.vendor)] * len(stamp_columns)
    before = _count(connection, table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            written = _upsert_postgresql(
                cursor,
                table=table,
                columns=columns,
                insert_columns=insert_columns,
                stamp_values=stamp_values,
                order_by=list(unique_fields),
                values=values,
                tail=f"ON CONFLICT {conflict} {action}",
                quote=quote,
            )
        else:
            sql = (
                f"INSERT INTO {quote(table)} ({', '.join(map(quote, insert_columns))}) "
                f"VALUES ({', '.join(['%s'] * len(insert_columns))}) "
                f"ON CONFLICT {conflict} {action}"
            )
            written = 0
            stamps = tuple(stamp_values)
            for batch in _batched(values, SQLITE_BATCH_ROWS):
                cursor.executemany(sql, [row + stamps for row in batch])
                written += max(cursor.rowcount, 0)
    inserted = _count(connection, table) - before
    return UpsertResult(inserted=inserted, updated=max(written - inserted, 0))


def fetch_ids(
    *,
    model: type[models.Model],
    keys: pd.DataFrame,
    using: str = "default",
) -> pd.DataFrame:
    """``keys`` (columns = the natural key's db columns) with the matching ``id``.

    One query on PostgreSQL (``= ANY(array)`` on the first key column), batches
    of IN on SQLite; the other key columns are matched in pandas. Keys with no
    row are dropped.
    """
    columns = list(keys.columns)
    if keys.empty:
        return keys.assign(id=pd.Series(dtype="int64"))
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    first = columns[0]
    wanted = pd.unique(keys[first].to_numpy()).tolist()
    select = f"SELECT {', '.join(quote(c) for c in columns)}, id FROM {table}"
    found: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"{select} WHERE {quote(first)} = ANY(%s)", [wanted])
            found = cursor.fetchall()
        else:
            for batch in _batched(wanted, ID_LOOKUP_BATCH):
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(f"{select} WHERE {quote(first)} IN ({marks})", batch)
                found.extend(cursor.fetchall())
    stored = pd.DataFrame(found, columns=[*columns, "id"])
    for column in columns:
        if len(stored):
            stored[column] = stored[column].astype(keys[column].dtype)
    return keys.merge(stored, on=columns, how="inner")


def _with_defaults(model: type[models.Model], rows: pd.DataFrame) -> pd.DataFrame:
    """Add the model's default for every NOT NULL column the frame lacks.

    Raw SQL bypasses Django's defaults, and blank text columns are NOT NULL.
    Nullable columns left out stay NULL; timestamps are filled by the caller.
    """
    missing = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in rows.columns:
            continue
        if field.column in ("created_at", "updated_at"):
            continue
        default = field.get_default()
        if default is None and field.null:
            continue
        missing[field.column] = default
    return rows.assign(**missing) if missing else rows


def _upsert_postgresql(
    cursor,
    *,
    table: str,
    columns: list[str],
    insert_columns: list[str],
    stamp_values: list,
    order_by: list[str],
    values: Iterable[tuple],
    tail: str,
    quote,
) -> int:
    """COPY into a staging table, then one INSERT … SELECT … ON CONFLICT."""
    staging = quote(f"import_staging_{next(_staging_names)}")
    column_list = ", ".join(quote(c) for c in columns)
    cursor.execute(
        f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS "
        f"SELECT {column_list} FROM {quote(table)} WITH NO DATA"
    )
    with cursor.cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
    stamps = ", ".join(["%s"] * len(stamp_values))
    select_list = column_list + (f", {stamps}" if stamp_values else "")
    cursor.execute(
        f"INSERT INTO {quote(table)} ({', '.join(map(quote, insert_columns))}) "
        f"SELECT {select_list} FROM {staging} "
        f"ORDER BY {', '.join(quote(c) for c in order_by)} {tail}",
        stamp_values,
    )
    written = cursor.rowcount
    cursor.execute(f"DROP TABLE {staging}")
    return written


def _python_rows(
    model: type[models.Model], rows: pd.DataFrame, *, vendor: str
) -> list[tuple]:
    """Rows as tuples of plain Python values the driver can send.

    Column by column (vectorised) rather than cell by cell: NA becomes None,
    numpy ints become int, Timestamps become what Django itself would store.
    """
    fields = {f.column: f for f in model._meta.concrete_fields}
    prepared = []
    for column in rows.columns:
        series = rows[column]
        field = fields[column]
        if isinstance(field, models.DateTimeField):
            converted = [
                None
                if pd.isna(v)
                else _adapt_datetime(v.to_pydatetime(), vendor=vendor)
                for v in series
            ]
        elif isinstance(field, models.DateField):
            converted = [
                None if v is None or v is pd.NA or v != v else str(v)[:10]
                for v in series.astype(object)
            ]
        elif isinstance(field, models.BooleanField):
            converted = [bool(v) for v in series.tolist()]
        elif isinstance(field, _TEXT_FIELDS):
            converted = series.astype(object).fillna("").tolist()
        else:
            converted = series.astype(object).where(series.notna(), None).tolist()
            converted = [v.item() if hasattr(v, "item") else v for v in converted]
        prepared.append(converted)
    return list(zip(*prepared, strict=True))


def _adapt_datetime(value, *, vendor: str):
    """An aware datetime as the backend stores it (naive UTC text on SQLite)."""
    if vendor == "postgresql":
        return value
    return str(timezone.make_naive(value, dt.UTC))


def _count(connection, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        return int(cursor.fetchone()[0])


def _batched(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

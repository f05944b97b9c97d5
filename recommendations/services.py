"""Writes of the recommendations app: runs, shards, per-customer recomputes,
outcomes and conversions.

Atomic runs. A run writes its suggestions tied to its own id while it is not
current; pages read the current run's rows only (``selectors.
current_suggestions``). The run becomes current in one short transaction once
every shard is done, and only then are the previous run's unseen (``new``)
suggestions deleted. A run that fails, or whose worker is killed, leaves the
previous suggestions on the pages; its shard tasks are redelivered (acks_late
+ reject_on_worker_lost) and each shard replaces its own rows, so a shard can
run twice without harm. At most one run is pending or running (a partial
unique constraint), so two runs never interleave.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from decimal import Decimal
from functools import partial

import numpy as np
import orjson
import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from psycopg.types.json import set_json_dumps

from recommendations import selectors
from recommendations.engine.baskets import build_basket_matrix
from recommendations.engine.pipeline import (
    EngineContext,
    EngineInputs,
    EngineParams,
    build_engine_context,
    compute_suggestions,
)
from recommendations.engine.rules import RULE_COLUMNS, mine_rules
from recommendations.engine.scores import score_customers
from recommendations.models import (
    AssociationRule,
    CustomerScore,
    RecommendationRun,
    RecommendationShard,
    Suggestion,
)
from recommendations.selectors import CustomerRange

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class RunAlreadyActive(Exception):
    """Another run is pending or running; runs never interleave."""


# --- parameters -------------------------------------------------------------


def engine_params() -> EngineParams:
    """Engine parameters from settings (read at call time, with defaults)."""
    return EngineParams(
        k=getattr(settings, "RECOMMENDATIONS_PER_CUSTOMER", 3),
        min_support=getattr(settings, "RECOMMENDATIONS_MIN_SUPPORT", 0.01),
        min_confidence=getattr(settings, "RECOMMENDATIONS_MIN_CONFIDENCE", 0.1),
        min_lift=getattr(settings, "RECOMMENDATIONS_MIN_LIFT", 1.0),
        max_rule_len=getattr(settings, "RECOMMENDATIONS_MAX_RULE_LEN", 3),
        quiet_period_days=getattr(settings, "RECOMMENDATIONS_QUIET_PERIOD_DAYS", 90),
    )


def _shard_size() -> int:
    return max(1, int(getattr(settings, "RECOMMENDATIONS_SHARD_SIZE", 10_000)))


def _max_deliveries() -> int:
    return int(getattr(settings, "CELERY_MAX_DELIVERIES", 3))


def _stale_after() -> timedelta:
    return timedelta(
        minutes=getattr(settings, "RECOMMENDATIONS_STALE_RUN_MINUTES", 120)
    )


def _now() -> pd.Timestamp:
    return pd.Timestamp(timezone.now()).tz_convert("UTC")


# --- bulk writes ------------------------------------------------------------


@dataclass(frozen=True)
class _PreparedInsert:
    """Rows ready to insert: COPY rows on PostgreSQL, model instances elsewhere.

    Preparing is pure Python and touches no connection, so a shard's compute
    thread can do it while the main thread writes the previous chunk.
    """

    model: type
    count: int
    columns: tuple[str, ...] = ()
    rows: tuple[tuple, ...] = ()
    objects: tuple = ()


def _prepare_insert(model, frame: pd.DataFrame, *, vendor: str) -> _PreparedInsert:
    """``frame`` (columns = the model's db columns) made ready for ``vendor``.

    JSON columns hold dicts or lists; NaN/None/NaT become NULL.
    """
    if frame.empty:
        return _PreparedInsert(model=model, count=0)
    columns = tuple(frame.columns)
    if vendor == "postgresql":
        kinds = {
            field.column: field.get_internal_type()
            for field in model._meta.concrete_fields
        }
        # Column by column (NULLs marked once per column, not tested per cell).
        data = [_copy_values(frame[column], kind=kinds[column]) for column in columns]
        return _PreparedInsert(
            model=model,
            count=len(frame),
            columns=columns,
            rows=tuple(zip(*data, strict=True)),
        )
    attnames = {field.column: field.attname for field in model._meta.concrete_fields}
    objects = tuple(
        model(
            **{
                attnames[key]: (None if _is_na(value) else value)
                for key, value in row.items()
            }
        )
        for row in frame.to_dict(orient="records")
    )
    return _PreparedInsert(model=model, count=len(objects), objects=objects)


def _insert_prepared(prepared: _PreparedInsert) -> int:
    """Write prepared rows on this thread's connection; returns the row count.

    PostgreSQL: one binary ``COPY FROM STDIN`` — a third of the CSV route's
    cost for a shard's 15,000 suggestions (no float formatting in Python, no
    number parsing in the server; measured 0.13 s against 0.31 s).
    """
    if not prepared.count:
        return 0
    model = prepared.model
    if prepared.objects:
        model.objects.bulk_create(prepared.objects, batch_size=2000)
        return prepared.count
    fields = {field.column: field for field in model._meta.concrete_fields}
    # Binary COPY needs each column's exact type: "varchar(10)" -> "varchar".
    types = [
        fields[column].db_type(connection).partition("(")[0].strip()
        for column in prepared.columns
    ]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in prepared.columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        # JSON arrives serialised (orjson, in the compute thread).
        set_json_dumps(_serialised_json, context=raw)
        with raw.copy(
            f"COPY {table} ({names}) FROM STDIN WITH (FORMAT binary)"
        ) as copy:
            copy.set_types(types)
            for row in prepared.rows:
                copy.write_row(row)
    return prepared.count


def _serialised_json(value: bytes) -> bytes:
    return value


def _bulk_insert(model, frame: pd.DataFrame) -> int:
    """Insert the rows of ``frame`` (columns = the model's db columns).

    PostgreSQL: one binary ``COPY FROM STDIN``; elsewhere ``bulk_create`` in
    batches.
    """
    return _insert_prepared(_prepare_insert(model, frame, vendor=connection.vendor))


def _copy_values(column: pd.Series, *, kind: str) -> list:
    """One column's cells for a binary COPY of a ``kind`` field, NULLs as None.

    JSON as bytes; decimals as ``Decimal`` (the binary numeric format takes
    nothing else); datetimes as ``datetime``.
    """
    if kind == "JSONField":
        return [_json_bytes(value) for value in column.tolist()]
    if kind == "DecimalField":
        return [
            None if _is_na(value) else Decimal(str(value)) for value in column.tolist()
        ]
    if column.dtype.kind == "M":
        # Plain datetimes: the driver's timestamp dumper expects them.
        # (one conversion for the column; NaT is replaced by None below).
        values = list(column.array.to_pydatetime())
    else:
        values = column.tolist()
    if column.dtype.kind not in "iub":
        for position in np.flatnonzero(pd.isna(column).to_numpy()).tolist():
            values[position] = None
    return values


def _json_bytes(value) -> bytes:
    """JSON for a COPY row; orjson because a run writes ~700k such values.

    NaN becomes null (plain ``json.dumps`` would write NaN, which PostgreSQL's
    jsonb rejects).
    """
    return orjson.dumps(
        value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    )


def _is_na(value) -> bool:
    if isinstance(value, dict | list | tuple):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _suggestion_rows(result: pd.DataFrame, *, run_id: int | None, now) -> pd.DataFrame:
    """Engine ``RESULT_COLUMNS`` to ``Suggestion`` columns (engine channel mapped)."""
    channel = result["channel"].map(
        lambda value: selectors.CHANNEL_FROM_ENGINE.get(value, value)
    )
    step = result["step_id"].astype("float64")
    return pd.DataFrame(
        {
            "run_id": run_id,
            "customer_id": result["customer_id"].astype("int64"),
            "product_id": result["product_id"].astype("int64"),
            # object dtype: a float column would write ids as "1.0"
            "step_id": pd.Series(
                [None if np.isnan(value) else int(value) for value in step],
                index=result.index,
                dtype=object,
            ),
            "kind": result["kind"].astype(str),
            "source": result["source"].astype(str),
            "rank": result["rank"].astype("int64"),
            "score": result["score"].astype("float64").fillna(0.0),
            "probability": result["probability"].astype("float64").fillna(0.0),
            "margin": result["margin"].astype("float64").fillna(0.0),
            "expected_value": result["expected_value"].astype("float64").fillna(0.0),
            "channel": channel.astype(str),
            "reason_code": result["reason_code"].astype(str),
            "reason_params": result["reason_params"],
            "reason": result["reason"].astype(str).str.slice(0, 500),
            "evidence": result["evidence"],
            "status": Suggestion.Status.NEW.value,
            "note": "",
            "created_at": now,
            "status_changed_at": None,
            "decided_by_id": None,
            "converted_order_id": None,
        }
    )


def _score_rows(scores: pd.DataFrame, *, run_id: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": run_id,
            "customer_id": scores["customer_id"].astype("int64"),
            "orders": scores["orders"].astype("int64"),
            "return_rate": scores["return_rate"].astype("float64").fillna(0.0),
            "cancellation_rate": scores["cancellation_rate"]
            .astype("float64")
            .fillna(0.0),
            "value": scores["value"].astype("float64").fillna(0.0),
            "net_margin": scores["net_margin"].astype("float64").fillna(0.0),
            "eligibility": scores["eligibility"].astype(str),
            "reason_code": scores["reason_code"].astype(str),
            "reason_params": scores["reason_params"],
            "reason": scores["reason"].astype(str).str.slice(0, 300),
        }
    )


# --- engine inputs ----------------------------------------------------------


_REFERENCE_CACHE: dict[str, object] = {}


def clear_reference_cache() -> None:
    """Forget the cached catalogue, ladder and outcome frames (tests, deploys)."""
    _REFERENCE_CACHE.clear()


def _reference_frames(*, cached: bool) -> dict[str, pd.DataFrame]:
    """Catalogue, ladder steps and offers, outcome counts: shared by customers.

    One-customer recomputes (``cached=True``) reuse them for
    ``RECOMMENDATIONS_REFERENCE_TTL_SECONDS`` (default 60; 0 disables), which
    keeps a recompute after an order well inside its latency budget; a catalogue
    or ladder edit reaches those recomputes within that time. Runs always read
    them fresh.
    """
    ttl = float(getattr(settings, "RECOMMENDATIONS_REFERENCE_TTL_SECONDS", 60))
    now = time.monotonic()
    if cached and ttl > 0 and now - _REFERENCE_CACHE.get("at", -1e18) < ttl:
        return _REFERENCE_CACHE["frames"]
    frames = {
        "products": selectors.load_products(),
        "steps": selectors.load_steps(),
        "ladder_names": selectors.load_ladder_names(),
        "step_offers": selectors.load_step_offers(),
        "outcomes": selectors.load_outcomes(),
    }
    if cached and ttl > 0:
        _REFERENCE_CACHE.update(at=now, frames=frames)
    return frames


def _inputs_for(
    customers: CustomerRange,
    *,
    rules: pd.DataFrame | None,
    line_customers: CustomerRange | None = None,
    cached_reference: bool = False,
    context: EngineContext | None = None,
    order_lines: pd.DataFrame | None = None,
    state: RunState | None = None,
) -> EngineInputs:
    """Engine inputs for a customer range: one query per frame.

    ``line_customers`` widens the order lines read (a neighbourhood for a
    one-customer recompute without a run); suggestions are still made for
    ``customers`` only. ``order_lines``: the range's lines if already in memory.
    ``state``: a run's ``RunState``, whose catalogue, ladders and customers
    (read once per run) are used instead of querying them again.
    """
    if state is not None:
        reference = state.reference
        customer_frame = _range_rows(state.customers, customers)
    else:
        reference = _reference_frames(cached=cached_reference)
        customer_frame = selectors.load_customers(customers=customers)
    if order_lines is None:
        order_lines = selectors.load_order_lines(customers=line_customers or customers)
    return EngineInputs(
        order_lines=order_lines,
        products=reference["products"],
        customers=customer_frame,
        consents=selectors.load_consents(customers=customers),
        steps=reference["steps"],
        ladder_names=reference["ladder_names"],
        step_offers=reference["step_offers"],
        outcomes=reference["outcomes"],
        declined=selectors.load_declined(customers=customers),
        positions=selectors.load_positions(customers=customers),
        rules=rules,
        context=context,
    )


_RULES_CACHE: dict[int, pd.DataFrame] = {}


def _rules_of(run_id: int) -> pd.DataFrame:
    """A run's rules, loaded once per process (rules never change after a run)."""
    cached = _RULES_CACHE.get(run_id)
    if cached is None:
        cached = selectors.load_rules(run_id=run_id)
        _RULES_CACHE.clear()
        _RULES_CACHE[run_id] = cached
    return cached


@dataclass(frozen=True)
class RunState:
    """What a run derives from the whole history once, per process.

    ``context``: the engine's history-wide structures (rules, item statistics,
    look-alike pool) for every shard of the run and, once the run is current,
    every one-customer recompute. ``lines``: the history's order lines when
    this process loaded them (shards slice their own out instead of querying);
    ``reference`` (catalogue, ladder steps and offers, outcome counts) and
    ``customers``: read once, so every shard of the run sees the same.
    """

    run_id: int
    context: EngineContext
    lines: pd.DataFrame | None
    reference: dict[str, pd.DataFrame]
    customers: pd.DataFrame


#: Run id -> RunState; the two latest runs (the current one and one in progress).
_RUN_STATES: dict[int, RunState] = {}


def clear_run_states() -> None:
    """Forget the per-run structures of this process (tests, deploys)."""
    _RUN_STATES.clear()


def _remember(state: RunState) -> RunState:
    _RUN_STATES[state.run_id] = state
    for old in sorted(_RUN_STATES)[:-2]:
        del _RUN_STATES[old]
    return state


def _context_now(run: RecommendationRun) -> pd.Timestamp:
    """The run's clock for its history-wide structures: the same in every process."""
    return pd.Timestamp(run.started_at or run.created_at).tz_convert("UTC")


def run_state(*, run_id: int) -> RunState:
    """The run's ``RunState``, built on first use in this process.

    Built from every order line and the run's stored rules; a new run id (a
    new run became current, or one is in progress) builds a new one, so the
    cache never serves another run's history.
    """
    state = _RUN_STATES.get(run_id)
    if state is not None:
        return state
    run = RecommendationRun.objects.get(pk=run_id)
    # The lines are not kept: a recompute reads its customer's own, and a shard
    # in this process reads its range (cheaper than holding the history).
    return _build_run_state(run, lines=selectors.load_order_lines(), keep_lines=False)


def _build_run_state(
    run: RecommendationRun, *, lines: pd.DataFrame, keep_lines: bool = True
) -> RunState:
    customers = selectors.load_customers()
    context = build_engine_context(
        lines,
        customers=customers,
        params=engine_params(),
        now=_context_now(run),
        rules=_rules_of(run.pk),
    )
    return _remember(
        RunState(
            run_id=run.pk,
            context=context,
            lines=lines if keep_lines else None,
            reference=_reference_frames(cached=False),
            customers=customers,
        )
    )


def _range_rows(frame: pd.DataFrame, customers: CustomerRange) -> pd.DataFrame:
    """The rows of a customer range (``customer_id``), out of a frame in memory."""
    ids = frame["customer_id"].to_numpy(dtype="float64", na_value=np.nan)
    mask = ~np.isnan(ids)
    if customers.first is not None:
        mask &= ids >= customers.first
    if customers.last is not None:
        mask &= ids <= customers.last
    if customers.ids is not None:
        mask &= np.isin(ids, np.asarray(customers.ids, dtype="float64"))
    return frame[mask]


# --- runs -------------------------------------------------------------------


def _fail_stale_runs() -> None:
    """Mark failed an active run nobody has touched for the stale period."""
    cutoff = timezone.now() - _stale_after()
    stale = RecommendationRun.objects.filter(
        status__in=[RecommendationRun.Status.PENDING, RecommendationRun.Status.RUNNING],
        created_at__lt=cutoff,
    )
    for run in stale:
        fail_run(run_id=run.pk, error="stale: no progress within the stale period")


def start_run(*, trigger: str = RecommendationRun.Trigger.MANUAL) -> RecommendationRun:
    """Create a pending run; raises ``RunAlreadyActive`` when one is active.

    A run left pending or running past ``RECOMMENDATIONS_STALE_RUN_MINUTES``
    (its worker died and nobody retried it) is failed first.
    """
    _fail_stale_runs()
    params = engine_params()
    try:
        with transaction.atomic():
            return RecommendationRun.objects.create(
                trigger=trigger,
                parameters=_json_params(params) | {"shard_size": _shard_size()},
            )
    except IntegrityError:
        raise RunAlreadyActive("a recommendation run is already active") from None


def _json_params(params: EngineParams) -> dict:
    return json.loads(json.dumps(asdict(params), default=str))


def prepare_run(*, run_id: int) -> list[int]:
    """Mine the run's rules and create its shards; returns the shard indexes.

    Idempotent: a redelivery replaces the rules and reuses the shards. Past
    ``CELERY_MAX_DELIVERIES`` deliveries the run is failed (poison guard) and
    no shard is returned.
    """
    with transaction.atomic():
        run = RecommendationRun.objects.select_for_update().get(pk=run_id)
        if run.status not in (
            RecommendationRun.Status.PENDING,
            RecommendationRun.Status.RUNNING,
        ):
            return []
        run.attempts += 1
        run.status = RecommendationRun.Status.RUNNING
        run.started_at = run.started_at or timezone.now()
        run.touched_at = timezone.now()
        run.save(update_fields=["attempts", "status", "started_at", "touched_at"])
    if run.attempts > _max_deliveries():
        fail_run(run_id=run_id, error="gave up after too many deliveries")
        return []
    timings: dict[str, float] = {}
    started = time.perf_counter()
    params = engine_params()
    lines = selectors.load_order_lines()
    timings["load_lines"] = round(time.perf_counter() - started, 3)
    mark = time.perf_counter()
    kept = lines[(lines["order_status"] == "placed")]
    if kept.empty:
        rules = pd.DataFrame(
            {c: [] for c in ("antecedents", "consequent", "support", "confidence")}
        )
    else:
        rules = mine_rules(
            build_basket_matrix(lines, basket="order"),
            min_support=params.min_support,
            min_confidence=params.min_confidence,
            min_lift=params.min_lift,
            max_len=params.max_rule_len,
        )
    timings["mine_rules"] = round(time.perf_counter() - mark, 3)
    n_lines = len(lines)
    del kept
    mark = time.perf_counter()
    ranges = selectors.shard_ranges(shard_size=_shard_size())
    with transaction.atomic():
        AssociationRule.objects.filter(run_id=run_id).delete()
        if len(rules):
            _bulk_insert(
                AssociationRule,
                pd.DataFrame(
                    {
                        "run_id": run_id,
                        "antecedents": [
                            [int(item) for item in a] for a in rules["antecedents"]
                        ],
                        "consequent_id": rules["consequent"].astype("int64"),
                        "support": rules["support"].astype("float64"),
                        "confidence": rules["confidence"].astype("float64"),
                        "lift": rules["lift"].astype("float64"),
                        "count": rules["count"].astype("int64"),
                    }
                ),
            )
        existing = set(
            RecommendationShard.objects.filter(run_id=run_id).values_list(
                "index", flat=True
            )
        )
        RecommendationShard.objects.bulk_create(
            [
                RecommendationShard(
                    run_id=run_id,
                    index=index,
                    first_customer_id=first,
                    last_customer_id=last,
                )
                for index, (first, last) in enumerate(ranges)
                if index not in existing
            ]
        )
        # They are all (re-)published when this returns.
        RecommendationShard.objects.filter(
            run_id=run_id, status=RecommendationShard.Status.PENDING
        ).update(touched_at=timezone.now())
        RecommendationRun.objects.filter(pk=run_id).update(
            rules_count=len(rules),
            order_lines_count=n_lines,
            shards_total=len(ranges),
            timings=timings | {"store_rules": round(time.perf_counter() - mark, 3)},
        )
    # The history-wide structures every shard needs, built once here; a shard
    # in another worker process builds its own copy on first use (run_state).
    mark = time.perf_counter()
    _RUN_STATES.pop(run_id, None)
    run.refresh_from_db(fields=["started_at"])
    _build_run_state(run, lines=lines)
    stored = RecommendationRun.objects.values_list("timings", flat=True).get(pk=run_id)
    RecommendationRun.objects.filter(pk=run_id).update(
        timings=stored | {"context": round(time.perf_counter() - mark, 3)}
    )
    if not ranges:
        finalize_run(run_id=run_id)
    return list(range(len(ranges)))


def compute_shard(*, run_id: int, index: int) -> None:
    """Compute and store one shard's suggestions and scores; then maybe finish.

    Idempotent: the shard's previous rows for this run are replaced in the
    same transaction that marks it done, and a done shard returns at once.
    """
    shard = (
        RecommendationShard.objects.select_related("run")
        .filter(run_id=run_id, index=index)
        .first()
    )
    if shard is None:
        logger.warning("shard %s/%s is gone", run_id, index)
        return
    if (
        shard.status != RecommendationShard.Status.PENDING
        or shard.run.status != RecommendationRun.Status.RUNNING
    ):
        _finalize_if_done(run_id=run_id)
        return
    RecommendationShard.objects.filter(pk=shard.pk).update(
        attempts=F("attempts") + 1, touched_at=timezone.now()
    )
    shard.refresh_from_db(fields=["attempts"])
    if shard.attempts > _max_deliveries():
        RecommendationShard.objects.filter(pk=shard.pk).update(
            status=RecommendationShard.Status.FAILED,
            error="gave up after too many deliveries",
        )
        fail_run(run_id=run_id, error=f"shard {index} failed too many times")
        return
    started = time.perf_counter()
    customers = CustomerRange(
        first=shard.first_customer_id, last=shard.last_customer_id
    )
    params = engine_params()
    state = run_state(run_id=run_id)
    vendor = connection.vendor
    chunks = [
        _inputs_for(
            part,
            rules=None,
            context=state.context,
            order_lines=(
                None if state.lines is None else _range_rows(state.lines, part)
            ),
            state=state,
        )
        for part in _split_range(state.customers, customers, parts=_shard_chunks())
    ]
    compute = partial(
        _compute_chunk,
        params=params,
        run_id=run_id,
        engine_now=_now(),
        now=timezone.now(),
        vendor=vendor,
    )
    # PostgreSQL works in its own process: while it takes one chunk's rows
    # (COPY, indexes, foreign keys) a thread computes the next one, so the
    # database's share of a shard mostly overlaps the engine's (the engine is
    # pure pandas/numpy and touches no connection).
    with _computed_ahead(compute, chunks, ahead=vendor == "postgresql") as computed:
        with transaction.atomic():
            locked = RecommendationShard.objects.select_for_update().get(pk=shard.pk)
            if locked.status != RecommendationShard.Status.PENDING:
                return
            range_q = customers.q("customer_id")
            Suggestion.objects.filter(range_q, run_id=run_id).delete()
            CustomerScore.objects.filter(range_q, run_id=run_id).delete()
            _check_constraints_per_statement()
            customers_count = suggestions_count = 0
            for chunk in computed:
                suggestions_count += _insert_prepared(chunk.suggestions)
                _insert_prepared(chunk.scores)
                customers_count += chunk.customers
            locked.status = RecommendationShard.Status.DONE
            locked.customers_count = customers_count
            locked.suggestions_count = suggestions_count
            locked.seconds = round(time.perf_counter() - started, 3)
            locked.save(
                update_fields=[
                    "status",
                    "customers_count",
                    "suggestions_count",
                    "seconds",
                ]
            )
            RecommendationRun.objects.filter(pk=run_id).update(
                shards_done=F("shards_done") + 1
            )
    _finalize_if_done(run_id=run_id)


# --- one shard, in chunks ------------------------------------------------------


def _shard_chunks() -> int:
    return max(1, int(getattr(settings, "RECOMMENDATIONS_SHARD_CHUNKS", 3)))


def _split_range(
    customers_frame: pd.DataFrame, customers: CustomerRange, *, parts: int
) -> list[CustomerRange]:
    """``customers`` cut into up to ``parts`` ranges of about as many customers."""
    ids = np.sort(_range_rows(customers_frame, customers)["customer_id"].to_numpy())
    if parts <= 1 or len(ids) < 2 * parts:
        return [customers]
    pieces = np.array_split(ids, parts)
    ranges = [
        CustomerRange(first=int(piece[0]), last=int(piece[-1])) for piece in pieces
    ]
    # The outer bounds stay the shard's, so the chunks cover exactly its range.
    ranges[0] = replace(ranges[0], first=customers.first)
    ranges[-1] = replace(ranges[-1], last=customers.last)
    return ranges


@dataclass(frozen=True)
class _ComputedChunk:
    customers: int
    suggestions: _PreparedInsert
    scores: _PreparedInsert


def _compute_chunk(
    inputs: EngineInputs,
    *,
    params: EngineParams,
    run_id: int,
    engine_now: pd.Timestamp,
    now,
    vendor: str,
) -> _ComputedChunk:
    """One chunk's scores and suggestions, ready to insert. No database access."""
    scores = score_customers(
        inputs.order_lines,
        products=inputs.products,
        thresholds=params.thresholds,
        customer_ids=inputs.customers["customer_id"].to_numpy(),
    )
    result = compute_suggestions(
        replace(inputs, scores=scores), params=params, now=engine_now
    )
    return _ComputedChunk(
        customers=len(inputs.customers),
        suggestions=_prepare_insert(
            Suggestion, _suggestion_rows(result, run_id=run_id, now=now), vendor=vendor
        ),
        scores=_prepare_insert(
            CustomerScore, _score_rows(scores, run_id=run_id), vendor=vendor
        ),
    )


@contextmanager
def _computed_ahead(
    compute: Callable[[EngineInputs], _ComputedChunk],
    chunks: list[EngineInputs],
    *,
    ahead: bool,
) -> Iterator[Iterator[_ComputedChunk]]:
    """Yield an iterator of ``compute(chunk)``; ``ahead``: computed in a thread.

    The thread starts on entry and runs one chunk ahead of the caller, who
    writes each result as it arrives. Leaving early (an error, a shard already
    done) cancels what has not started; the chunk in progress is awaited.
    """
    if not ahead:
        yield (compute(chunk) for chunk in chunks)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shard") as pool:
        futures = [pool.submit(compute, chunk) for chunk in chunks]
        try:
            yield (future.result() for future in futures)
        finally:
            for future in futures:
                future.cancel()


def _check_constraints_per_statement() -> None:
    """Check foreign keys as each COPY ends rather than all at commit.

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, which would leave
    every chunk's checks (~45,000 lookups a shard, 0.2 s) to the final commit,
    when nothing is left to overlap them with.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _finalize_if_done(*, run_id: int) -> None:
    pending = RecommendationShard.objects.filter(
        run_id=run_id, status=RecommendationShard.Status.PENDING
    ).exists()
    if not pending:
        finalize_run(run_id=run_id)


def finalize_run(*, run_id: int) -> bool:
    """Make a fully computed run current; True when this call did it.

    The flip is one short transaction (the previous current run retired, this
    one marked current). The previous runs' unseen suggestions, scores and
    rules are deleted afterwards, outside it: they are invisible from the
    flip on, and a purge interrupted by a crash is redone by the next run.
    Shown/accepted/declined history is kept. Idempotent.
    """
    if not _flip(run_id=run_id):
        return False
    state = _RUN_STATES.get(run_id)
    if state is not None and state.lines is not None:
        # Done with the shards: one-customer recomputes need no history lines.
        _RUN_STATES[run_id] = replace(state, lines=None)
    mark = time.perf_counter()
    purge_stale_rows(keep_run_id=run_id)
    purged = time.perf_counter()
    _refresh_statistics()
    run = RecommendationRun.objects.get(pk=run_id)
    RecommendationRun.objects.filter(pk=run_id).update(
        timings=run.timings
        | {
            "purge": round(purged - mark, 3),
            "analyze": round(time.perf_counter() - purged, 3),
        }
    )
    return True


def _refresh_statistics() -> None:
    """Let PostgreSQL's planner see the run's bulk writes now.

    Autovacuum analyses a table only some time after a large change; until
    then the planner believes the suggestion table holds what it held before
    the run, and a one-customer recompute's delete can pick an index that reads
    every new suggestion (0.1 s instead of 0.3 ms, measured).
    """
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    # Only the columns queries filter on: the text and JSON columns are most
    # of each sampled row's bytes and of the time (0.6 s against 0.4 s on the
    # bench's 300,000 suggestions).
    tables = ", ".join(
        f"{quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)})"
        for model, columns in _PLANNED_COLUMNS.items()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


_PLANNED_COLUMNS = {
    Suggestion: (
        "run_id",
        "status",
        "customer_id",
        "product_id",
        "kind",
        "channel",
        "step_id",
    ),
    CustomerScore: ("run_id", "customer_id", "eligibility"),
}


@transaction.atomic
def _flip(*, run_id: int) -> bool:
    run = RecommendationRun.objects.select_for_update().get(pk=run_id)
    if run.status != RecommendationRun.Status.RUNNING:
        return False
    if run.shards.exclude(status=RecommendationShard.Status.DONE).exists():
        return False
    mark = time.perf_counter()
    RecommendationRun.objects.filter(is_current=True).exclude(pk=run_id).update(
        is_current=False
    )
    shards = list(
        run.shards.values_list("customers_count", "suggestions_count", "seconds")
    )
    run.status = RecommendationRun.Status.COMPLETED
    run.is_current = True
    run.finished_at = timezone.now()
    run.customers_count = sum(row[0] for row in shards)
    run.suggestions_count = sum(row[1] for row in shards)
    run.timings = run.timings | {
        "shards_sum": round(sum(row[2] or 0 for row in shards), 3),
        "flip": round(time.perf_counter() - mark, 3),
    }
    run.save()
    return True


def purge_stale_rows(*, keep_run_id: int) -> None:
    """Delete what only older runs needed: unseen suggestions, scores, rules.

    Rows of a run still in progress are kept (it may become current later).
    """
    active = list(
        RecommendationRun.objects.filter(
            status__in=[
                RecommendationRun.Status.PENDING,
                RecommendationRun.Status.RUNNING,
            ]
        ).values_list("pk", flat=True)
    )
    keep = [keep_run_id, *active]
    # By run id, through the (run, status) and (run, customer) indexes: a
    # filter on "not these runs" reads the whole table, new run included.
    stale = list(
        RecommendationRun.objects.exclude(pk__in=keep).values_list("pk", flat=True)
    )
    with transaction.atomic():
        Suggestion.objects.filter(
            run_id__in=stale, status=Suggestion.Status.NEW
        ).delete()
        Suggestion.objects.filter(
            run_id__isnull=True, status=Suggestion.Status.NEW
        ).delete()
        CustomerScore.objects.filter(run_id__in=stale).delete()
        AssociationRule.objects.filter(run_id__in=stale).delete()


def fail_run(*, run_id: int, error: str) -> None:
    """Mark a run failed (idempotent); its rows never become visible."""
    RecommendationRun.objects.filter(
        pk=run_id,
        status__in=[RecommendationRun.Status.PENDING, RecommendationRun.Status.RUNNING],
    ).update(
        status=RecommendationRun.Status.FAILED,
        error=error[:2000],
        finished_at=timezone.now(),
    )
    # The failed run's rows are never shown; drop them now rather than wait.
    Suggestion.objects.filter(run_id=run_id, status=Suggestion.Status.NEW).delete()


def run_all(
    *,
    trigger: str = RecommendationRun.Trigger.MANUAL,
    progress: Progress | None = None,
) -> RecommendationRun:
    """A full run in this process: rules, then every shard, then the flip.

    Raises ``RunAlreadyActive`` when another run is active. On an error the
    run is marked failed and the error re-raised; the previous suggestions
    stay current.
    """
    run = start_run(trigger=trigger)
    try:
        indexes = prepare_run(run_id=run.pk)
        for done, index in enumerate(indexes, start=1):
            compute_shard(run_id=run.pk, index=index)
            if progress is not None:
                progress(done, len(indexes))
    except Exception as exc:
        fail_run(run_id=run.pk, error=f"{type(exc).__name__}: {exc}")
        raise
    run.refresh_from_db()
    return run


# --- sweeper (CEL-04) -------------------------------------------------------


def _shard_timeout() -> timedelta:
    return timedelta(
        seconds=getattr(settings, "RECOMMENDATIONS_SHARD_TIMEOUT_SECONDS", 600)
    )


def sweep_stale_runs() -> dict[str, int]:
    """Re-publish the work of active runs that nobody has touched for a while.

    The database is the source of truth (CEL-04): a shard still pending whose
    task was last published or started more than
    ``RECOMMENDATIONS_SHARD_TIMEOUT_SECONDS`` ago lost its worker, so its task is
    sent again (Redis would redeliver the killed worker's message only after
    the visibility timeout, an hour). Likewise a running run with no shards
    yet gets its prepare task again, and a run whose shards are all done but
    that is not current yet is finalized. Every task is idempotent, so a
    message that was merely slow costs one no-op delivery. Returns the counts.
    Messages are sent inside the transaction that touches the rows: a broker
    that is down rolls the touch back, so the next sweep tries again (and a
    message whose commit then fails is one more harmless delivery).
    """
    from recommendations import tasks

    cutoff = timezone.now() - _shard_timeout()
    counts = {"shards": 0, "prepared": 0, "finalized": 0}
    active = list(
        RecommendationRun.objects.filter(
            status=RecommendationRun.Status.RUNNING
        ).values_list("pk", flat=True)
    )
    for run_id in active:
        with transaction.atomic():
            stale = list(
                RecommendationShard.objects.select_for_update(skip_locked=True)
                .filter(
                    run_id=run_id,
                    status=RecommendationShard.Status.PENDING,
                    touched_at__lt=cutoff,
                )
                .values_list("pk", "index")
            )
            if stale:
                RecommendationShard.objects.filter(
                    pk__in=[pk for pk, _ in stale]
                ).update(touched_at=timezone.now())
                for _, index in stale:
                    tasks.compute_shard_task.delay(run_id, index)
                counts["shards"] += len(stale)
        shards = RecommendationShard.objects.filter(run_id=run_id)
        if not shards.exists():
            counts["prepared"] += _republish_prepare(run_id, cutoff=cutoff)
        elif not shards.exclude(status=RecommendationShard.Status.DONE).exists():
            counts["finalized"] += int(finalize_run(run_id=run_id))
    # A pending run's prepare never started: its first message was lost.
    lost = RecommendationRun.objects.filter(
        status=RecommendationRun.Status.PENDING, touched_at__lt=cutoff
    ).values_list("pk", flat=True)
    for run_id in list(lost):
        counts["prepared"] += _republish_prepare(run_id, cutoff=cutoff)
    if any(counts.values()):
        logger.warning("suggestion sweeper re-published %s", counts)
    return counts


def _republish_prepare(run_id: int, *, cutoff) -> int:
    from recommendations import tasks

    with transaction.atomic():
        touched = RecommendationRun.objects.filter(
            pk=run_id, touched_at__lt=cutoff
        ).update(touched_at=timezone.now())
        if touched:
            tasks.prepare_run_task.delay(run_id)
    return touched


# --- one customer -----------------------------------------------------------


def recompute_customer_suggestions(*, customer_id: int) -> int:
    """Recompute one customer's offers now (after an order); returns how many.

    Uses the current run's rules (none before the first run). The customer's
    unseen suggestions are replaced in one transaction; shown, accepted and
    declined ones stay. Idempotent.
    """
    from crm.models import Customer

    if not Customer.objects.filter(pk=customer_id).exists():
        logger.info("customer %s is gone; nothing to recompute", customer_id)
        return 0
    run_id = selectors.get_current_run_id()
    customers = CustomerRange(ids=(customer_id,))
    if run_id is not None:
        # The current run's history-wide structures (built once per process and
        # run); only this customer's own lines, read fresh, are new.
        inputs = _inputs_for(
            customers,
            rules=None,
            context=run_state(run_id=run_id).context,
            cached_reference=True,
        )
    else:
        # No run yet: no rules (mining one customer's baskets would mean
        # nothing); a neighbourhood's lines stand in for the history.
        neighbours = selectors.neighbour_customer_ids(
            customer_id=customer_id,
            limit=getattr(settings, "RECOMMENDATIONS_NEIGHBOURS", 50),
        )
        inputs = _inputs_for(
            customers,
            rules=pd.DataFrame({column: [] for column in RULE_COLUMNS}),
            line_customers=CustomerRange(ids=(customer_id, *neighbours)),
            cached_reference=True,
        )
    result = compute_suggestions(inputs, params=engine_params(), now=_now())
    rows = _suggestion_rows(result, run_id=run_id, now=timezone.now())
    with transaction.atomic():
        # Only the visible rows: a run in progress keeps its own rows.
        Suggestion.objects.filter(
            Q(run_id=run_id) | Q(run__isnull=True),
            customer_id=customer_id,
            status=Suggestion.Status.NEW,
        ).delete()
        _bulk_insert(Suggestion, rows)
    return len(rows)


# --- outcomes ---------------------------------------------------------------

OUTCOME_STATUS = {
    "shown": Suggestion.Status.SHOWN,
    "accepted": Suggestion.Status.ACCEPTED,
    "declined": Suggestion.Status.DECLINED,
}
OUTCOME_INTERACTION = {
    "shown": "offer_shown",
    "accepted": "offer_accepted",
    "declined": "offer_declined",
}
ALLOWED_FROM = {
    "shown": {Suggestion.Status.NEW, Suggestion.Status.SHOWN},
    "accepted": {Suggestion.Status.NEW, Suggestion.Status.SHOWN},
    "declined": {Suggestion.Status.NEW, Suggestion.Status.SHOWN},
}


@transaction.atomic
def record_outcome(
    *,
    suggestion_id: int,
    outcome: str,
    user,
    channel: str | None = None,
    note: str = "",
) -> Suggestion:
    """Record that an offer was shown, accepted or declined.

    Logs an interaction (offer_shown/accepted/declined) and moves the
    suggestion on. The user must see the customer (callers pass a suggestion
    from ``suggestions_visible_to``); a clerk may record in-person offers only
    (``in_store``/``checkout``), for their store. Repeating the same outcome
    changes nothing and logs nothing (idempotent).
    """
    from crm.models import Interaction
    from crm.roles import CLERK, role_of, store_id_of
    from crm.services.orders import record_interaction

    if outcome not in OUTCOME_STATUS:
        raise ValidationError({"outcome": f"Unknown outcome {outcome!r}."})
    suggestion = (
        Suggestion.objects.select_for_update()
        .select_related("customer", "product")
        .get(pk=suggestion_id)
    )
    channel = channel or suggestion.channel
    if channel not in Suggestion.Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    role = role_of(user)
    if role == CLERK:
        if (
            suggestion.channel not in selectors.IN_PERSON_CHANNELS
            or channel not in selectors.IN_PERSON_CHANNELS
        ):
            raise PermissionDenied("Clerks record in-person offers only.")
        if suggestion.customer.home_store_id != store_id_of(user):
            raise PermissionDenied("This customer belongs to another store.")
    target = OUTCOME_STATUS[outcome]
    if suggestion.status == target:
        return suggestion
    if suggestion.status not in ALLOWED_FROM[outcome]:
        raise ValidationError(
            {"outcome": f"A {suggestion.status} suggestion cannot become {target}."}
        )
    store = None
    if role == CLERK:
        from crm.models import Store

        store = Store.objects.filter(pk=store_id_of(user)).first()
    record_interaction(
        customer=suggestion.customer,
        kind=Interaction.Kind(OUTCOME_INTERACTION[outcome]),
        channel=channel,
        staff=user if getattr(user, "is_authenticated", False) else None,
        store=store,
        product=suggestion.product,
        notes=note,
        data={"suggestion_id": suggestion.pk, "kind": suggestion.kind},
    )
    suggestion.status = target
    suggestion.channel = channel
    suggestion.status_changed_at = timezone.now()
    suggestion.decided_by = user if getattr(user, "is_authenticated", False) else None
    if note:
        suggestion.note = note
    suggestion.save(
        update_fields=["status", "channel", "status_changed_at", "decided_by", "note"]
    )
    return suggestion


def mark_converted(*, order_id: int) -> int:
    """Mark converted the open suggestions whose product the order contains.

    New, shown and accepted suggestions of the order's customer count; the
    order id is stored for attribution. Idempotent: converted rows are not
    touched again. Returns how many rows changed.
    """
    customer_id, product_ids = selectors.order_product_ids(order_id=order_id)
    if customer_id is None or not product_ids:
        return 0
    return Suggestion.objects.filter(
        customer_id=customer_id,
        product_id__in=product_ids,
        status__in=[
            Suggestion.Status.NEW,
            Suggestion.Status.SHOWN,
            Suggestion.Status.ACCEPTED,
        ],
    ).update(
        status=Suggestion.Status.CONVERTED,
        converted_order_id=order_id,
        status_changed_at=timezone.now(),
    )


# --- basket cross-sells at the counter --------------------------------------


@transaction.atomic
def record_basket_outcome(
    *,
    customer_id: int,
    product_id: int,
    outcome: str,
    user,
    basket_skus: list[str] | tuple[str, ...] = (),
    reason_code: str = "",
) -> str:
    """Record offered/accepted/declined for a basket cross-sell to a known customer.

    Basket cross-sells are computed live from the rules, so usually no
    ``Suggestion`` row stands behind them. When the customer does have a
    current open in-person suggestion of the same product, that one is moved
    on through ``record_outcome`` (interaction plus status, so the engine's
    outcome counts and the declined quiet period see it) and "suggestion" is
    returned; otherwise one interaction (channel checkout, ``data.source`` =
    "basket", with the basket) is logged and "interaction" is returned.

    The interaction is attributed to the customer's home store: a clerk may
    act only there (checked again here, SEC-08), and sales staff or managers
    serving at a counter have no store of their own. Anonymous baskets have
    no customer and nothing to record here.
    """
    from crm.models import Customer, Interaction, Product
    from crm.roles import CLERK, role_of, store_id_of
    from crm.services.orders import record_interaction

    if outcome not in OUTCOME_STATUS:
        raise ValidationError({"outcome": f"Unknown outcome {outcome!r}."})
    customer = Customer.objects.select_related("home_store").get(pk=customer_id)
    if role_of(user) == CLERK and customer.home_store_id != store_id_of(user):
        raise PermissionDenied("This customer belongs to another store.")
    open_offer = (
        selectors.current_suggestions()
        .filter(
            customer_id=customer_id,
            product_id=product_id,
            status__in=selectors.OPEN_STATUSES,
            channel__in=sorted(selectors.IN_PERSON_CHANNELS),
        )
        .order_by("rank", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if open_offer is not None:
        record_outcome(suggestion_id=open_offer, outcome=outcome, user=user)
        return "suggestion"
    record_interaction(
        customer=customer,
        kind=Interaction.Kind(OUTCOME_INTERACTION[outcome]),
        channel="checkout",
        staff=user if getattr(user, "is_authenticated", False) else None,
        store=customer.home_store,
        product=Product.objects.get(pk=product_id),
        data={
            "source": "basket",
            "reason_code": reason_code,
            "basket": [str(sku) for sku in basket_skus][:50],
        },
    )
    return "interaction"

"""One entry point for the Django layer: ``compute_suggestions``.

Flow: kept order lines -> customer scores -> positions (given or derived) ->
rules (mined from order baskets, or given) -> candidates (upsell, step
complements, rules, look-alikes, popular / entry steps for customers with no
history) -> filters and channel -> probability x margin = expected value ->
diversity and top-k -> reason template + params + evidence.

Cross-sell candidates from rules and from the blended scorer
(``similarity.blend_cross_sell_scores``: item-kNN + look-alikes + pair-rule
confidence + popularity) all carry a blend score; their probability is the
observed (kind, channel) acceptance rate scaled by the score's distance to the
customer's best blend score (``ranking.CalibrationParams``), so rule confidence
counts through the blend instead of overriding it. A rule consequent outside the
blended top ``candidates_per_source`` gets ``blend.rules * confidence``, the
rule part of its blend score (a lower bound of the full blend score).

History-wide work (rule mining, item cosine, pair rules, popularity, the
look-alike pool) lives in an ``EngineContext``: ``build_engine_context`` makes
it from the whole purchase history, and ``compute_suggestions`` builds one from
its inputs unless ``EngineInputs.context`` brings one. Everything else is per
requested customer and reads only their own lines, so a call with a context and
one customer's lines gives exactly that customer's rows of a call over
everyone (tests/recommendations/engine/test_context.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recommendations.engine._validation import require_frame, require_no_nulls
from recommendations.engine.basket import build_rule_index
from recommendations.engine.baskets import build_basket_matrix, kept_order_lines
from recommendations.engine.candidates import (
    OWNED_COLUMNS,
    POSITION_COLUMNS,
    STEP_COLUMNS,
    STEP_OFFER_COLUMNS,
    combine_candidates,
    derive_positions,
    entry_step_candidates,
    lookalike_candidates,
    popular_candidates,
    rule_candidates,
    step_complement_candidates,
    upsell_candidates,
)
from recommendations.engine.filters import (
    CATEGORY_EXCLUSION_COLUMNS,
    CONSENT_COLUMNS,
    CUSTOMER_COLUMNS,
    DECLINED_COLUMNS,
    IN_PERSON,
    apply_filters,
)
from recommendations.engine.ranking import (
    OUTCOME_COLUMNS,
    CalibrationParams,
    calibrate_probabilities,
    candidate_margins,
    rank_top_k,
)
from recommendations.engine.reasons import format_percent, format_ratio, render_reason
from recommendations.engine.rules import RULE_COLUMNS, mine_rules
from recommendations.engine.scores import (
    CUSTOMER_SCORE_COLUMNS,
    PRODUCT_COLUMNS,
    ScoreThresholds,
    score_customers,
)
from recommendations.engine.similarity import (
    BlendWeights,
    CrossSellModel,
    PurchaseProfile,
    align_profile,
    build_cross_sell_model,
    build_purchase_profile,
    item_similarity,
    pair_confidence,
    score_cross_sells,
    strongest_anchors,
)

#: Result frame. dtypes: customer_id int64, product_id int64, step_id Int64,
#: kind str ("upsell" | "cross_sell"), source str, score float64 (candidate
#: strength in [0, 1]), probability float64, margin float64, expected_value
#: float64, channel str, reason_code str (a ``reasons.REASON_TEMPLATES`` key),
#: reason_params object (dict of str), reason str (English), evidence object
#: (dict), rank int64 (1 = best, per customer).
RESULT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "product_id",
    "step_id",
    "kind",
    "source",
    "score",
    "probability",
    "margin",
    "expected_value",
    "channel",
    "reason_code",
    "reason_params",
    "reason",
    "evidence",
    "rank",
)


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({column: [] for column in columns})


@dataclass(frozen=True)
class EngineInputs:
    """Every frame the engine reads (column contracts in each module's constants).

    order_lines: ``baskets.ORDER_LINE_COLUMNS``; products: ``scores.PRODUCT_COLUMNS``;
    customers: ``filters.CUSTOMER_COLUMNS``; consents: ``filters.CONSENT_COLUMNS``;
    steps: ``candidates.STEP_COLUMNS``; step_offers: ``candidates.STEP_OFFER_COLUMNS``;
    category_exclusions: ``filters.CATEGORY_EXCLUSION_COLUMNS``; outcomes:
    ``ranking.OUTCOME_COLUMNS``; declined: ``filters.DECLINED_COLUMNS``;
    positions: ``candidates.POSITION_COLUMNS`` or None (derived from purchases);
    rules: ``rules.RULE_COLUMNS`` or None (mined from order baskets, or the
    context's). context: an ``EngineContext`` (``build_engine_context``) of the
    purchase history, or None (built from ``order_lines`` and ``customers``).
    With a context, ``order_lines`` need only hold the requested customers' own
    lines: item statistics, rules, popularity and look-alike neighbours come
    from the context, so a run builds them once and every shard or one-customer
    recompute does only its own customers' part. scores: the requested
    customers' ``scores.score_customers`` result if the caller has it already
    (computed from their lines otherwise).
    """

    order_lines: pd.DataFrame
    products: pd.DataFrame
    customers: pd.DataFrame
    consents: pd.DataFrame = field(default_factory=lambda: _empty(CONSENT_COLUMNS))
    steps: pd.DataFrame = field(default_factory=lambda: _empty(STEP_COLUMNS))
    step_offers: pd.DataFrame = field(
        default_factory=lambda: _empty(STEP_OFFER_COLUMNS)
    )
    category_exclusions: pd.DataFrame = field(
        default_factory=lambda: _empty(CATEGORY_EXCLUSION_COLUMNS)
    )
    outcomes: pd.DataFrame = field(default_factory=lambda: _empty(OUTCOME_COLUMNS))
    declined: pd.DataFrame = field(default_factory=lambda: _empty(DECLINED_COLUMNS))
    positions: pd.DataFrame | None = None
    rules: pd.DataFrame | None = None
    context: EngineContext | None = None
    scores: pd.DataFrame | None = None
    #: ladder id -> ladder name, for the upsell reasons ("#<id>" when missing).
    ladder_names: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineParams:
    """Tunable parameters; defaults are sensible for a small shop.

    k: suggestions per customer; max_per_category: diversity cap per category.
    min_support / min_confidence / min_lift / max_rule_len: rule mining on order
    baskets (max_rule_len = largest itemset, antecedent plus consequent).
    recent_days: purchases that anchor rule candidates. quiet_period_days: how long
    a declined product stays out. candidates_per_source: candidates kept per
    source and customer. default_margin_rate: margin = price x rate when unit_cost
    is unknown. channel_priority: fallback order when the preferred channel is not
    usable. demographic_weight: weight of age/location/gender in look-alike search
    (0 switches it off). thresholds, calibration, blend: see ``ScoreThresholds``,
    ``CalibrationParams`` and ``BlendWeights``.
    """

    k: int = 3
    max_per_category: int = 2
    min_support: float = 0.01
    min_confidence: float = 0.1
    min_lift: float = 1.0
    max_rule_len: int | None = 3
    recent_days: int = 365
    quiet_period_days: int = 90
    candidates_per_source: int = 10
    default_margin_rate: float = 0.3
    channel_priority: tuple[str, ...] = ("email", "sms", "phone", IN_PERSON)
    demographic_weight: float = 0.3
    thresholds: ScoreThresholds = field(default_factory=ScoreThresholds)
    calibration: CalibrationParams = field(default_factory=CalibrationParams)
    blend: BlendWeights = field(default_factory=BlendWeights)


@dataclass(frozen=True)
class EngineContext:
    """What the engine derives from the whole purchase history, built once.

    rules: mined rules (``rules.RULE_COLUMNS``, None when there is no purchase);
    order_counts / total_orders: orders holding each product, and all orders
    (popular products); cross_sell: the ``similarity.CrossSellModel`` (item
    cosine, pair rules, look-alike pool; None below two customers with history);
    genders: the one-hot gender columns of the demographic features. Reusable
    by any call over the same history: a run builds it once for all its shards
    and one-customer recomputes (``EngineInputs.context``).
    """

    rules: pd.DataFrame | None
    order_counts: pd.Series
    total_orders: int
    cross_sell: CrossSellModel | None
    genders: tuple[object, ...]


def _purchases(kept: pd.DataFrame) -> pd.DataFrame:
    with_customer = kept[kept["customer_id"].notna()]
    return pd.DataFrame(
        {
            "customer_id": with_customer["customer_id"].astype("int64").to_numpy(),
            "product_id": with_customer["product_id"].astype("int64").to_numpy(),
            "purchased_at": pd.to_datetime(with_customer["placed_at"], utc=True),
            "basket_id": with_customer["order_id"].to_numpy(),
        }
    )


def build_engine_context(
    order_lines: pd.DataFrame,
    *,
    customers: pd.DataFrame,
    params: EngineParams,
    now: pd.Timestamp,
    rules: pd.DataFrame | None = None,
) -> EngineContext:
    """The ``EngineContext`` of a purchase history.

    order_lines: every line of the history (``baskets.ORDER_LINE_COLUMNS``);
    customers: ``filters.CUSTOMER_COLUMNS`` of (at least) the customers with
    history, for the look-alike demographics (missing ones count as zeros);
    rules: already mined rules, or None to mine them here. Pure.
    """
    require_frame(customers, name="customers", columns=CUSTOMER_COLUMNS)
    if rules is not None:
        require_frame(rules, name="rules", columns=RULE_COLUMNS)
    kept = kept_order_lines(order_lines)
    if rules is None and not kept.empty:
        rules = mine_rules(
            build_basket_matrix(order_lines, basket="order"),
            min_support=params.min_support,
            min_confidence=params.min_confidence,
            min_lift=params.min_lift,
            max_len=params.max_rule_len,
        )
    order_counts, total_orders = _order_counts(kept)
    genders = _genders(customers)
    purchases = _purchases(kept)
    cross_sell = None
    if purchases["customer_id"].nunique() > 1:
        profile = build_purchase_profile(
            purchases, now=now, half_life_days=params.blend.half_life_days
        )
        cross_sell = build_cross_sell_model(
            profile,
            weights=params.blend,
            demographics=_demographics(
                profile.customer_ids,
                customers=customers,
                now=now,
                weight=params.demographic_weight,
                genders=genders,
            ),
        )
    return EngineContext(
        rules=rules,
        order_counts=order_counts,
        total_orders=int(total_orders),
        cross_sell=cross_sell,
        genders=genders,
    )


def _validate(inputs: EngineInputs) -> None:
    require_frame(inputs.products, name="products", columns=PRODUCT_COLUMNS)
    require_no_nulls(inputs.products, name="products", columns=("product_id", "price"))
    require_frame(inputs.customers, name="customers", columns=CUSTOMER_COLUMNS)
    require_no_nulls(inputs.customers, name="customers", columns=("customer_id",))
    require_frame(inputs.consents, name="consents", columns=CONSENT_COLUMNS)
    require_frame(inputs.steps, name="steps", columns=STEP_COLUMNS)
    require_frame(inputs.step_offers, name="step_offers", columns=STEP_OFFER_COLUMNS)
    require_frame(inputs.outcomes, name="outcomes", columns=OUTCOME_COLUMNS)
    require_frame(inputs.declined, name="declined", columns=DECLINED_COLUMNS)
    if inputs.positions is not None:
        require_frame(inputs.positions, name="positions", columns=POSITION_COLUMNS)
    if inputs.rules is not None:
        require_frame(inputs.rules, name="rules", columns=RULE_COLUMNS)
    if inputs.scores is not None:
        require_frame(inputs.scores, name="scores", columns=CUSTOMER_SCORE_COLUMNS)


def _owned(kept: pd.DataFrame) -> pd.DataFrame:
    with_customer = kept[kept["customer_id"].notna()]
    owned = (
        with_customer.groupby(["customer_id", "product_id"])["placed_at"]
        .max()
        .rename("last_purchased_at")
        .reset_index()
    )
    owned["customer_id"] = owned["customer_id"].astype("int64")
    owned["product_id"] = owned["product_id"].astype("int64")
    return owned[list(OWNED_COLUMNS)]


def _genders(customers: pd.DataFrame) -> tuple[object, ...]:
    """The gender values present, sorted: the demographic one-hot columns."""
    values = customers["gender"].astype(object).dropna().unique().tolist()
    return tuple(sorted(values, key=str))


def _demographics(
    customer_ids: np.ndarray,
    *,
    customers: pd.DataFrame,
    now: pd.Timestamp,
    weight: float,
    genders: tuple[object, ...],
) -> np.ndarray | None:
    """Scaled age, location and one-hot gender (``genders`` columns) per customer.

    Customers missing from ``customers`` get zeros. None when ``weight`` is 0.
    """
    if weight <= 0:
        return None
    info = customers.drop_duplicates("customer_id").set_index("customer_id")
    info = info.reindex(customer_ids)
    birth = pd.to_datetime(info["birth_date"], utc=True)
    age = ((now - birth).dt.days / 365.25 / 100.0).fillna(0.0).to_numpy()
    gender_values = info["gender"].astype(object).to_numpy()
    gender = np.column_stack(
        [np.zeros(len(info))]
        + [(gender_values == value).astype(float) for value in genders]
    )[:, 1:]
    latitude = (info["latitude"].astype("float64") / 90.0).fillna(0.0).to_numpy()
    longitude = (info["longitude"].astype("float64") / 180.0).fillna(0.0).to_numpy()
    features = np.column_stack([age, latitude, longitude, gender])
    return weight * features


def _order_counts(kept: pd.DataFrame) -> tuple[pd.Series, int]:
    """Orders holding each product, and all orders (kept lines)."""
    if kept.empty:
        return pd.Series(dtype="int64"), 0
    return kept.groupby("product_id")["order_id"].nunique(), kept["order_id"].nunique()


def _popularity(context: EngineContext, *, products: pd.DataFrame) -> pd.DataFrame:
    active = products.loc[products["active"].astype(bool), "product_id"]
    if context.total_orders == 0:
        return pd.DataFrame({"product_id": active.to_numpy(), "share": 0.0})
    share = context.order_counts / context.total_orders
    share = share.reindex(active.to_numpy()).fillna(0.0)
    return pd.DataFrame(
        {"product_id": share.index.to_numpy(), "share": share.to_numpy()}
    )


def _json_safe(value: object) -> object:
    """Plain Python value for JSON storage: numpy scalars unboxed, NA -> None."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


#: Blend columns added to rule and look-alike candidates (NaN elsewhere):
#: blend_score, the weighted item-kNN / look-alike / pair-rule parts of it, and
#: the raw components as ``blend_cross_sell_scores`` returns them.
BLEND_COLUMNS: tuple[str, ...] = (
    "blend_score",
    "knn_part",
    "lookalike_part",
    "rule_part",
    "item_knn",
    "lookalike",
    "rule_confidence",
)
_BLENDED_SOURCES = ("rule", "lookalike")


def _attach_blend(
    candidates: pd.DataFrame, *, scored: pd.DataFrame | None, weights: BlendWeights
) -> pd.DataFrame:
    """Add ``BLEND_COLUMNS`` to the candidates (a new frame, same index).

    Rule and look-alike rows take the blended scorer's values for their (customer,
    product); a rule row the scorer did not return gets ``blend_score = weights.rules
    * confidence`` (and that as its rule part). Other sources stay NaN, so their
    probability comes from their strength (``ranking.calibrate_probabilities``).
    """
    result = candidates.copy()
    for column in BLEND_COLUMNS:
        result[column] = np.nan
    blended = result["source"].isin(_BLENDED_SOURCES).to_numpy()
    if scored is not None and len(scored) and blended.any():
        parts = pd.DataFrame(
            {
                "blend_score": scored["score"].to_numpy(),
                "knn_part": weights.item_knn * scored["item_knn"].to_numpy(),
                "lookalike_part": weights.lookalike * scored["lookalike"].to_numpy(),
                "item_knn": scored["item_knn"].to_numpy(),
                "lookalike": scored["lookalike"].to_numpy(),
                "rule_confidence": scored["rule_confidence"].to_numpy(),
            },
            index=pd.MultiIndex.from_arrays(
                [
                    scored["customer_id"].astype("int64").to_numpy(),
                    scored["product_id"].astype("int64").to_numpy(),
                ]
            ),
        )
        # What is left of the score once item-kNN, look-alikes and popularity are
        # taken out is the weighted (per-customer normalised) pair-rule part.
        parts["rule_part"] = (
            parts["blend_score"]
            - parts["knn_part"]
            - parts["lookalike_part"]
            - weights.popularity * scored["popularity"].to_numpy()
        ).clip(lower=0.0)
        keys = pd.MultiIndex.from_arrays(
            [
                result.loc[blended, "customer_id"].to_numpy(),
                result.loc[blended, "product_id"].to_numpy(),
            ]
        )
        found = parts.reindex(keys)
        for column in BLEND_COLUMNS:
            result.loc[blended, column] = found[column].to_numpy()
    missing = (
        blended
        & result["blend_score"].isna().to_numpy()
        & (result["source"] == "rule").to_numpy()
    )
    rule_only = weights.rules * result.loc[missing, "confidence"].astype("float64")
    result.loc[missing, "blend_score"] = rule_only
    result.loc[missing, "rule_part"] = rule_only
    return result


def _strongest_evidence(
    ranked: pd.DataFrame,
    *,
    profile: PurchaseProfile | None,
    weights: BlendWeights,
    links: dict[str, object] | None = None,
) -> pd.DataFrame:
    """Name the strongest blend part of each look-alike row (a new frame).

    Adds ``evidence_kind`` ("item_knn" | "pair_rule" | "lookalike", None for other
    sources) and, for the first two, ``anchor_product_id``: the owned product with
    the strongest cosine (item-kNN) or pair-rule confidence to the suggestion.
    ``links`` (optional): the "item_knn" (``item_similarity``) and "pair_rule"
    (``pair_confidence``) matrices of ``profile`` if already computed.
    """
    result = ranked.copy()
    result["evidence_kind"] = None
    rows = (result["source"] == "lookalike").to_numpy() & result[
        "blend_score"
    ].notna().to_numpy()
    if not rows.any():
        return result
    parts = result.loc[rows, ["knn_part", "lookalike_part", "rule_part"]].fillna(0.0)
    kinds = np.array(["item_knn", "lookalike", "pair_rule"], dtype=object)
    strongest = kinds[np.argmax(parts.to_numpy(), axis=1)]
    result.loc[rows, "evidence_kind"] = strongest
    if profile is None:  # no profile, no anchor to name: look-alikes it is
        result.loc[rows, "evidence_kind"] = "lookalike"
        return result
    anchors = pd.array(result["anchor_product_id"], dtype="Int64").copy()
    known = links or {}
    for kind, compute in (
        ("item_knn", lambda: item_similarity(profile.owned)),
        (
            "pair_rule",
            lambda: pair_confidence(profile, min_pair_count=weights.min_pair_count),
        ),
    ):
        chosen = np.flatnonzero(rows)[strongest == kind]
        if len(chosen) == 0:
            continue
        found = strongest_anchors(
            profile,
            links=known[kind] if kind in known else compute(),
            customer_ids=result["customer_id"].to_numpy()[chosen],
            product_ids=result["product_id"].to_numpy()[chosen],
        )
        anchors[chosen[found >= 0]] = profile.product_ids[found[found >= 0]]
        # No owned product links to it after all: fall back to look-alikes.
        result.loc[result.index[chosen[found < 0]], "evidence_kind"] = "lookalike"
    result["anchor_product_id"] = anchors
    return result


#: Columns ``_reason`` reads from a ranked row.
_REASON_COLUMNS: tuple[str, ...] = (
    "product_id",
    "source",
    "strength",
    "blend_score",
    "item_knn",
    "lookalike",
    "rule_confidence",
    "antecedents",
    "confidence",
    "lift",
    "support",
    "anchor_product_id",
    "ladder_id",
    "evidence_kind",
)


def _plain_column(column: pd.Series) -> list[object]:
    """A column as plain Python values (what ``_json_safe`` returns), NA -> None.

    Converted column-wise: numeric columns (numpy or nullable) through numpy's
    ``tolist`` (native int / float), object columns value by value.
    """
    missing = column.isna().to_numpy()
    if pd.api.types.is_integer_dtype(column.dtype):
        values = column.to_numpy(dtype="int64", na_value=0).tolist()
    elif pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype="float64", na_value=np.nan).tolist()
    else:
        # Missing cells are set to None below: skip them here.
        values = [
            value if type(value) is str or is_missing else _json_safe(value)
            for value, is_missing in zip(
                column.to_numpy(dtype=object), missing.tolist(), strict=True
            )
        ]
    if missing.any():
        for position in np.flatnonzero(missing).tolist():
            values[position] = None
    return values


def _plain_records(frame: pd.DataFrame, *, columns: tuple[str, ...]) -> list[dict]:
    """Rows of ``frame`` as dicts of plain Python values (missing columns: None)."""
    data = {
        column: (
            _plain_column(frame[column])
            if column in frame.columns
            else [None] * len(frame)
        )
        for column in columns
    }
    return [
        dict(zip(columns, values, strict=True))
        for values in zip(*data.values(), strict=True)
    ]


def _reason(row: dict, *, names: dict, ladder_names: dict) -> tuple[str, dict, dict]:
    """Reason code, params and evidence of one ranked row.

    ``row`` holds plain Python values (``_plain_records``: NA is None), so the
    dicts returned are JSON-safe as they are. Runs once per stored suggestion
    (~300,000 a night), hence keys set in place rather than dicts merged.
    """
    product_id = row["product_id"]
    product = names.get(product_id, str(product_id))
    source = row["source"]
    evidence: dict[str, object] = {"source": source, "strength": row["strength"]}
    if row.get("blend_score") is not None:
        evidence["blend_score"] = row["blend_score"]
        evidence["item_knn"] = row["item_knn"]
        evidence["lookalike"] = row["lookalike"]
        evidence["rule_confidence"] = row["rule_confidence"]
    if source == "rule":
        antecedents = row["antecedents"]
        evidence["antecedents"] = list(antecedents)
        evidence["confidence"] = row["confidence"]
        evidence["lift"] = row["lift"]
        evidence["support"] = row["support"]
        return (
            "rule",
            {
                "confidence_pct": format_percent(row["confidence"]),
                "antecedent": ", ".join(
                    names.get(item, str(item)) for item in antecedents
                ),
                "product": product,
                "lift": format_ratio(row["lift"]),
            },
            evidence,
        )
    anchor = row["anchor_product_id"]
    anchor_name = names.get(anchor, str(anchor)) if anchor is not None else ""
    if source == "upsell":
        evidence["ladder_id"] = row["ladder_id"]
        evidence["from_product_id"] = anchor
        return (
            "upsell",
            {
                "ladder": _ladder(row, ladder_names),
                "product": product,
                "current": anchor_name,
            },
            evidence,
        )
    if source == "upsell_entry":
        evidence["ladder_id"] = row["ladder_id"]
        return (
            "upsell_entry",
            {"ladder": _ladder(row, ladder_names), "product": product},
            evidence,
        )
    if source == "step_complement":
        evidence["anchor_product_id"] = anchor
        return "step_complement", {"product": product, "anchor": anchor_name}, evidence
    if source == "lookalike":
        if row.get("evidence_kind") in ("item_knn", "pair_rule") and anchor is not None:
            evidence["strongest"] = row["evidence_kind"]
            evidence["anchor_product_id"] = anchor
            return "also_bought", {"product": product, "anchor": anchor_name}, evidence
        evidence["strongest"] = "lookalike"
        return (
            "lookalike",
            {"product": product, "similarity_pct": format_percent(row["strength"])},
            evidence,
        )
    evidence["basket_share"] = row["support"]
    return (
        "popular",
        {"product": product, "share_pct": format_percent(row["support"])},
        evidence,
    )


def _ladder(row: dict, ladder_names: dict) -> str:
    return ladder_names.get(row["ladder_id"], str(row["ladder_id"]))


def compute_suggestions(
    inputs: EngineInputs, *, params: EngineParams, now: pd.Timestamp
) -> pd.DataFrame:
    """Top-k suggestions per customer (``RESULT_COLUMNS``), best first.

    Pure: reads only ``inputs``, ``params`` and ``now`` (tz-aware UTC); never the
    clock, settings or the database. Customers of ``inputs.customers`` with no
    purchases get entry steps and popular products. Customers excluded by their
    scores get nothing (see ``scores.score_customers`` for the reason).
    """
    _validate(inputs)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    customer_ids = np.asarray(inputs.customers["customer_id"], dtype="int64")
    context = inputs.context
    if context is None:
        context = build_engine_context(
            inputs.order_lines,
            customers=inputs.customers,
            params=params,
            now=now,
            rules=inputs.rules,
        )
    # Everything below is per requested customer: their own lines only (the
    # history-wide statistics are the context's).
    order_lines = inputs.order_lines
    order_lines = order_lines[
        order_lines["customer_id"].isin(customer_ids).to_numpy(bool)
    ]
    kept = kept_order_lines(order_lines)
    owned = _owned(kept)
    scores = inputs.scores
    if scores is None:
        scores = score_customers(
            order_lines,
            products=inputs.products,
            thresholds=params.thresholds,
            customer_ids=customer_ids,
        )
    positions = (
        inputs.positions
        if inputs.positions is not None
        else derive_positions(owned, steps=inputs.steps)
    )
    frames = [
        upsell_candidates(positions, steps=inputs.steps),
        step_complement_candidates(
            positions, steps=inputs.steps, step_offers=inputs.step_offers
        ),
    ]
    rules = inputs.rules if inputs.rules is not None else context.rules
    if rules is not None and len(rules):
        frames.append(
            rule_candidates(
                owned,
                index=build_rule_index(rules),
                now=now,
                recent_days=params.recent_days,
                per_customer=params.candidates_per_source,
            )
        )
    model = context.cross_sell
    profile: PurchaseProfile | None = None
    scored: pd.DataFrame | None = None
    links: dict[str, object] | None = None
    purchases = _purchases(kept)
    if model is not None and len(purchases):
        profile = align_profile(
            build_purchase_profile(
                purchases, now=now, half_life_days=params.blend.half_life_days
            ),
            product_ids=model.profile.product_ids,
        )
        links = {"item_knn": model.similarity, "pair_rule": model.confidence}
        scored = score_cross_sells(
            model,
            customers=profile,
            demographics=_demographics(
                profile.customer_ids,
                customers=inputs.customers,
                now=now,
                weight=params.demographic_weight,
                genders=context.genders,
            ),
            n_candidates=params.candidates_per_source,
        )
        frames.append(
            lookalike_candidates(scored, per_customer=params.candidates_per_source)
        )
    no_history = np.setdiff1d(customer_ids, owned["customer_id"].to_numpy())
    popularity = _popularity(context, products=inputs.products)
    frames.append(
        popular_candidates(
            no_history, popularity=popularity, per_customer=params.candidates_per_source
        )
    )
    if len(inputs.steps):
        frames.append(entry_step_candidates(no_history, steps=inputs.steps))
    candidates = combine_candidates(frames)
    candidates = candidates[candidates["customer_id"].isin(customer_ids)]
    filtered = apply_filters(
        candidates,
        products=inputs.products,
        owned=owned,
        customer_scores=scores,
        customers=inputs.customers,
        consents=inputs.consents,
        declined=inputs.declined,
        category_exclusions=inputs.category_exclusions,
        now=now,
        quiet_period=pd.Timedelta(days=params.quiet_period_days),
        channel_priority=params.channel_priority,
    )
    kept_candidates = filtered[filtered["dropped_by"].isna()].copy()
    if kept_candidates.empty:
        return _result_frame(pd.DataFrame(columns=list(RESULT_COLUMNS)))
    kept_candidates = _attach_blend(
        kept_candidates, scored=scored, weights=params.blend
    )
    kept_candidates["probability"] = calibrate_probabilities(
        kept_candidates, outcomes=inputs.outcomes, params=params.calibration
    )
    kept_candidates["margin"] = candidate_margins(
        kept_candidates["product_id"],
        products=inputs.products,
        default_margin_rate=params.default_margin_rate,
    )
    kept_candidates["expected_value"] = (
        kept_candidates["probability"] * kept_candidates["margin"]
    )
    kept_candidates["category_id"] = kept_candidates["product_id"].map(
        inputs.products.set_index("product_id")["category_id"]
    )
    ranked = rank_top_k(
        kept_candidates, k=params.k, max_per_category=params.max_per_category
    )
    ranked = _strongest_evidence(
        ranked, profile=profile, weights=params.blend, links=links
    )
    names = dict(
        zip(
            inputs.products["product_id"],
            inputs.products["name"].astype(str),
            strict=True,
        )
    )
    ladder_names = {
        ladder: inputs.ladder_names.get(int(ladder), f"#{ladder}")
        for ladder in inputs.steps["ladder_id"].unique()
    }
    # Per-row dicts for the reason params and evidence, built only for the ranked
    # top-k rows, from columns converted to plain Python values once.
    explained = [
        _reason(row, names=names, ladder_names=ladder_names)
        for row in _plain_records(ranked, columns=_REASON_COLUMNS)
    ]
    ranked["reason_code"] = [item[0] for item in explained]
    ranked["reason_params"] = [item[1] for item in explained]
    ranked["evidence"] = [item[2] for item in explained]
    ranked["reason"] = [render_reason(code, params=p) for code, p, _ in explained]
    ranked["score"] = ranked["strength"]
    return _result_frame(ranked)


def _result_frame(frame: pd.DataFrame) -> pd.DataFrame:
    result = frame.reindex(columns=list(RESULT_COLUMNS)).reset_index(drop=True)
    result["customer_id"] = result["customer_id"].astype("int64")
    result["product_id"] = result["product_id"].astype("int64")
    result["step_id"] = pd.array(result["step_id"], dtype="Int64")
    for column in ("score", "probability", "margin", "expected_value"):
        result[column] = result[column].astype("float64")
    result["rank"] = result["rank"].astype("int64")
    return result

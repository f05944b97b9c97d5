"""Filters on candidate suggestions, and the channel each one would use.

``apply_filters`` never drops rows silently: it returns every candidate with a
``dropped_by`` code (None when kept) so the caller can audit or show why.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from recommendations.engine._validation import (
    require_frame,
    require_id_array,
    require_no_nulls,
)
from recommendations.engine.candidates import CANDIDATE_COLUMNS, OWNED_COLUMNS

#: Customer frame. dtypes: customer_id int64, birth_date datetime64 (NaT ok),
#: gender str|None, latitude float64, longitude float64, preferred_channel str|None,
#: home_store_id Int64 (None: online only).
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "birth_date",
    "gender",
    "latitude",
    "longitude",
    "preferred_channel",
    "home_store_id",
)
#: Consents. dtypes: customer_id int64, channel str, granted bool.
CONSENT_COLUMNS: tuple[str, ...] = ("customer_id", "channel", "granted")
#: Declined suggestions. dtypes: customer_id int64, product_id int64,
#: declined_at datetime64[UTC].
DECLINED_COLUMNS: tuple[str, ...] = ("customer_id", "product_id", "declined_at")
#: Incompatible category pairs (symmetric). dtypes: category_id_a int64,
#: category_id_b int64.
CATEGORY_EXCLUSION_COLUMNS: tuple[str, ...] = ("category_id_a", "category_id_b")

SEASONS: frozenset[str] = frozenset({"all_year", "spring_summer", "autumn_winter"})
IN_PERSON = "in_person"

#: Filter codes in the order they are applied.
FILTER_CODES: tuple[str, ...] = (
    "unknown_product",
    "inactive_product",
    "customer_excluded",
    "customer_downgraded",
    "already_owned",
    "category_exclusion",
    "season_conflict",
    "recently_declined",
    "no_consent",
)


def season_conflict(seasons: pd.Series, *, anchor_seasons: pd.Series) -> np.ndarray:
    """True where one season is spring_summer and the other autumn_winter."""
    a = seasons.astype(object).to_numpy()
    b = anchor_seasons.astype(object).to_numpy()
    return ((a == "spring_summer") & (b == "autumn_winter")) | (
        (a == "autumn_winter") & (b == "spring_summer")
    )


def choose_channels(
    customer_ids: pd.Series,
    *,
    customers: pd.DataFrame,
    consents: pd.DataFrame,
    channel_priority: Sequence[str],
    in_person_only: pd.Series | None = None,
) -> pd.Series:
    """Channel per customer: preferred if usable, else the first usable by priority.

    A channel is usable when consent is granted for it; ``in_person`` needs no
    consent but a home store. ``in_person_only`` (bool by customer_id) restricts a
    customer to in person. Returns a str Series aligned with ``customer_ids``
    (None where no channel is usable).
    """
    require_frame(customers, name="customers", columns=CUSTOMER_COLUMNS)
    require_frame(consents, name="consents", columns=CONSENT_COLUMNS)
    require_no_nulls(consents, name="consents", columns=CONSENT_COLUMNS)
    require_no_nulls(customers, name="customers", columns=("customer_id",))
    require_id_array(customer_ids, name="customer_ids")
    info = customers.drop_duplicates("customer_id").set_index("customer_id")
    granted = consents.loc[
        consents["granted"].astype(bool) & (consents["channel"] != IN_PERSON),
        ["customer_id", "channel"],
    ]
    with_store = info.index[info["home_store_id"].notna()]
    usable = pd.concat(
        [granted, pd.DataFrame({"customer_id": with_store, "channel": IN_PERSON})],
        ignore_index=True,
    ).drop_duplicates()
    if in_person_only is not None:
        restricted = in_person_only[in_person_only.astype(bool)].index
        usable = usable[
            ~usable["customer_id"].isin(restricted) | (usable["channel"] == IN_PERSON)
        ]
    priority = {channel: rank for rank, channel in enumerate(channel_priority, 1)}
    preferred = usable["customer_id"].map(info["preferred_channel"])
    # Rank 0 for the customer's own preference, then the shop's priority order;
    # channels in neither are never picked.
    rank = usable["channel"].map(priority).astype("float64")
    rank = rank.mask((usable["channel"] == preferred).to_numpy(), 0.0)
    ranked = usable.assign(rank=rank.to_numpy()).dropna(subset=["rank"])
    best = ranked.sort_values(["customer_id", "rank"]).drop_duplicates("customer_id")
    chosen = customer_ids.map(best.set_index("customer_id")["channel"]).astype(object)
    return chosen.where(chosen.notna(), None)


def apply_filters(
    candidates: pd.DataFrame,
    *,
    products: pd.DataFrame,
    owned: pd.DataFrame,
    customer_scores: pd.DataFrame,
    customers: pd.DataFrame,
    consents: pd.DataFrame,
    declined: pd.DataFrame,
    category_exclusions: pd.DataFrame,
    now: pd.Timestamp,
    quiet_period: pd.Timedelta,
    channel_priority: Sequence[str] = ("email", "sms", "phone", IN_PERSON),
) -> pd.DataFrame:
    """Mark candidates to drop and pick their channel.

    Returns a copy of ``candidates`` plus ``anchor_season`` (str), ``channel`` (str
    or None) and ``dropped_by`` (a ``FILTER_CODES`` value, None when kept; the
    first failing filter wins). The anchor of a candidate without one is the
    customer's latest purchase, so a look-alike suggestion also respects season
    and category exclusions (no winter coat for the swimsuit buyer). Consumable
    products may be suggested again. Excluded customers get nothing; downgraded
    customers get upsells only, in person only.
    """
    require_frame(candidates, name="candidates", columns=CANDIDATE_COLUMNS)
    require_no_nulls(
        candidates, name="candidates", columns=("customer_id", "product_id", "kind")
    )
    require_frame(owned, name="owned", columns=OWNED_COLUMNS)
    require_no_nulls(owned, name="owned", columns=OWNED_COLUMNS)
    require_frame(
        customer_scores, name="customer_scores", columns=("customer_id", "eligibility")
    )
    require_frame(declined, name="declined", columns=DECLINED_COLUMNS)
    require_no_nulls(declined, name="declined", columns=DECLINED_COLUMNS)
    require_frame(
        category_exclusions,
        name="category_exclusions",
        columns=CATEGORY_EXCLUSION_COLUMNS,
    )
    require_no_nulls(
        category_exclusions,
        name="category_exclusions",
        columns=CATEGORY_EXCLUSION_COLUMNS,
    )
    require_frame(
        products,
        name="products",
        columns=("product_id", "category_id", "season", "is_consumable", "active"),
    )
    require_no_nulls(products, name="products", columns=("product_id",))
    unknown_seasons = set(products["season"].dropna().unique()) - SEASONS
    if unknown_seasons:
        raise ValueError(
            f"products.season has unknown value(s) {sorted(unknown_seasons)}"
        )
    result = candidates.copy()
    catalogue = products.set_index("product_id")
    latest = (
        owned.sort_values("last_purchased_at")
        .drop_duplicates("customer_id", keep="last")
        .set_index("customer_id")["product_id"]
    )
    anchor = result["anchor_product_id"].astype("Int64")
    anchor = anchor.fillna(result["customer_id"].map(latest).astype("Int64"))
    known = result["product_id"].isin(catalogue.index)
    category = result["product_id"].map(catalogue["category_id"])
    season = result["product_id"].map(catalogue["season"])
    anchor_category = anchor.map(catalogue["category_id"])
    result["anchor_season"] = anchor.map(catalogue["season"]).astype(object)
    eligibility = (
        result["customer_id"]
        .map(customer_scores.set_index("customer_id")["eligibility"])
        .fillna("eligible")
    )

    owned_keys = pd.MultiIndex.from_frame(owned[["customer_id", "product_id"]])
    candidate_keys = pd.MultiIndex.from_frame(result[["customer_id", "product_id"]])
    consumable = result["product_id"].map(catalogue["is_consumable"]).fillna(False)
    exclusions = category_exclusions[list(CATEGORY_EXCLUSION_COLUMNS)]
    pairs = set(map(tuple, exclusions.to_numpy().tolist()))
    pairs |= {(b, a) for a, b in pairs}
    excluded_category = np.zeros(len(result), dtype=bool)
    if pairs:  # most shops have none: skip a Python pass over every candidate
        excluded_category[:] = [
            (a, b) in pairs
            for a, b in zip(anchor_category.tolist(), category.tolist(), strict=True)
        ]
    since = now - quiet_period
    recent = declined[pd.to_datetime(declined["declined_at"], utc=True) > since]
    declined_keys = pd.MultiIndex.from_frame(recent[["customer_id", "product_id"]])
    in_person_only = (
        customer_scores.set_index("customer_id")["eligibility"] == "downgraded"
    )
    result["channel"] = choose_channels(
        result["customer_id"],
        customers=customers,
        consents=consents,
        channel_priority=channel_priority,
        in_person_only=in_person_only,
    ).astype(object)
    checks = [
        ("unknown_product", ~known.to_numpy()),
        (
            "inactive_product",
            ~result["product_id"].map(catalogue["active"]).fillna(False).astype(bool),
        ),
        ("customer_excluded", eligibility == "excluded"),
        (
            "customer_downgraded",
            (eligibility == "downgraded") & (result["kind"] != "upsell"),
        ),
        (
            "already_owned",
            candidate_keys.isin(owned_keys) & ~consumable.astype(bool).to_numpy(),
        ),
        ("category_exclusion", excluded_category),
        (
            "season_conflict",
            season_conflict(season, anchor_seasons=result["anchor_season"]),
        ),
        ("recently_declined", candidate_keys.isin(declined_keys)),
        ("no_consent", result["channel"].isna()),
    ]
    dropped = pd.Series([None] * len(result), index=result.index, dtype=object)
    for code, mask in reversed(checks):
        dropped = dropped.mask(np.asarray(mask, dtype=bool), code)
    result["dropped_by"] = dropped
    return result

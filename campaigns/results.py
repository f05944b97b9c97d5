"""Campaign results from frames: attribution, per-group figures, uplift, breakdowns.

Pure pandas/numpy/scipy (no Django): ``campaigns.queries`` builds the input
frames, these functions return a JSON-ready payload.

Attribution, as the manager reads it:

- every audience member counts in their group (intention to treat: a member
  whose message was skipped still counts, so the control comparison stays
  fair);
- a member's window opens at their ``start`` (the send for a treated member
  when known, the campaign start otherwise; the campaign start for the
  control group) and lasts ``window_days``;
- inside it, lines of placed orders count when they are of the offered
  product (``qualifies``; any merchandise for goals without an offer), or
  when the order carried one of the campaign's offer codes;
- revenue and margin are net of returns; a returned unit also costs
  ``return_cost_per_unit`` (handling), which is how heavy returners make a
  campaign lose money; a member converted when they kept at least one unit;
- the campaign's discount is a cost on the treated group's attributed net
  revenue (order lines carry list prices); incremental profit is
  ``(margin per treated customer - margin per control customer) x treated
  customers - discount cost``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

CONTROL = "control"
TREATED = "treated"

#: Audience members. dtypes: customer_id int64, group str (a variant label or
#: "control"), start datetime64[ns, UTC], store_id float64 (NaN: none),
#: ladder_step_id float64 (NaN: not on the ladder).
MEMBER_COLUMNS = ("customer_id", "group", "start", "store_id", "ladder_step_id")

#: Members' purchases around the campaign, summed per order and ``qualifies``
#: (offered product, or any merchandise). dtypes: customer_id int64,
#: order_id int64, placed_at datetime64[ns, UTC], qualifies bool, kept and
#: returned float64 (units), revenue float64 (kept x unit price), cost
#: float64 (kept x unit cost, unknown costs as 0), returned_value float64,
#: cost_unknown bool.
MONEY_COLUMNS = (
    "kept",
    "returned",
    "revenue",
    "cost",
    "returned_value",
    "cost_unknown",
)
LINE_COLUMNS = ("customer_id", "order_id", "placed_at", "qualifies", *MONEY_COLUMNS)

#: Orders that carried one of the campaign's codes, summed per order. dtypes:
#: order_id int64, customer_id float64 (NaN: anonymous), placed_at
#: datetime64[ns, UTC], code, kind, partner_name str, then MONEY_COLUMNS.
CODE_LINE_COLUMNS = (
    "order_id",
    "customer_id",
    "placed_at",
    "code",
    "kind",
    "partner_name",
    *MONEY_COLUMNS,
)

Z_95 = float(stats.norm.ppf(0.975))


def _num(value: Any, digits: int = 6) -> float | None:
    """A JSON-safe float (NaN and infinities become None)."""
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, digits)


# --- Statistics -------------------------------------------------------------


def diff_in_proportions(
    conversions_t: int, n_t: int, conversions_c: int, n_c: int, *, z: float = Z_95
) -> dict[str, float | None]:
    """Difference of two conversion rates with a 95 % CI and a two-sided p-value.

    The interval uses the unpooled standard error (Wald); the p-value the
    pooled two-proportion z-test. All None when a group is empty.
    """
    if n_t <= 0 or n_c <= 0:
        return {
            "diff": None,
            "low": None,
            "high": None,
            "p_value": None,
            "relative": None,
        }
    p_t, p_c = conversions_t / n_t, conversions_c / n_c
    diff = p_t - p_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    pooled = (conversions_t + conversions_c) / (n_t + n_c)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    if se0 == 0:
        p_value = 1.0
    else:
        p_value = float(2 * stats.norm.sf(abs(diff / se0)))
    return {
        "diff": diff,
        "low": diff - z * se,
        "high": diff + z * se,
        "p_value": p_value,
        "relative": diff / p_c if p_c > 0 else None,
    }


def welch_difference(
    treated: np.ndarray, control: np.ndarray, *, confidence: float = 0.95
) -> dict[str, float | None]:
    """Difference of two means (treated - control), Welch's t interval and p-value."""
    treated = np.asarray(treated, dtype=float)
    control = np.asarray(control, dtype=float)
    empty = {"diff": None, "low": None, "high": None, "p_value": None}
    if len(treated) < 2 or len(control) < 2:
        if len(treated) and len(control):
            return {**empty, "diff": float(treated.mean() - control.mean())}
        return empty
    diff = float(treated.mean() - control.mean())
    var_t = treated.var(ddof=1) / len(treated)
    var_c = control.var(ddof=1) / len(control)
    se = math.sqrt(var_t + var_c)
    if se == 0:
        return {
            "diff": diff,
            "low": diff,
            "high": diff,
            "p_value": 1.0 if diff == 0 else 0.0,
        }
    df = (var_t + var_c) ** 2 / (
        var_t**2 / (len(treated) - 1) + var_c**2 / (len(control) - 1)
    )
    t_crit = float(stats.t.ppf((1 + confidence) / 2, df))
    p_value = float(2 * stats.t.sf(abs(diff / se), df))
    return {
        "diff": diff,
        "low": diff - t_crit * se,
        "high": diff + t_crit * se,
        "p_value": p_value,
    }


# --- Attribution ------------------------------------------------------------


def _line_money(lines: pd.DataFrame, return_cost_per_unit: float) -> pd.DataFrame:
    out = lines.copy()
    out["margin"] = (
        out["revenue"] - out["cost"] - out["returned"] * return_cost_per_unit
    )
    return out


def attribute(
    members: pd.DataFrame,
    lines: pd.DataFrame,
    *,
    window_days: int,
    code_order_ids: set[int] | frozenset[int] = frozenset(),
    return_cost_per_unit: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-member outcome and the attributed lines.

    Returns ``(per_member, attributed)``: ``per_member`` has MEMBER_COLUMNS
    plus converted (bool), revenue, margin, returned_value (floats) and
    converted_at (first kept attributed order, NaT if none); ``attributed``
    the lines that counted, with their money columns.
    """
    window = pd.Timedelta(days=window_days)
    joined = lines.merge(
        members[["customer_id", "start"]], on="customer_id", how="inner"
    )
    in_window = (joined["placed_at"] >= joined["start"]) & (
        joined["placed_at"] < joined["start"] + window
    )
    counts = joined["qualifies"].astype(bool) | joined["order_id"].isin(code_order_ids)
    attributed = _line_money(joined[in_window & counts], return_cost_per_unit)
    per = attributed.groupby("customer_id").agg(
        revenue=("revenue", "sum"),
        margin=("margin", "sum"),
        returned_value=("returned_value", "sum"),
        kept=("kept", "sum"),
        cost_unknown=("cost_unknown", "any"),
    )
    kept_lines = attributed[attributed["kept"] > 0]
    per["converted_at"] = kept_lines.groupby("customer_id")["placed_at"].min()
    out = members.merge(per, left_on="customer_id", right_index=True, how="left")
    for column in ("revenue", "margin", "returned_value", "kept"):
        out[column] = out[column].fillna(0.0)
    out["cost_unknown"] = (
        out["cost_unknown"].astype("boolean").fillna(False).astype(bool)
    )
    out["converted"] = out["kept"] > 0
    return out.drop(columns=["kept"]), attributed


def _group_figures(frame: pd.DataFrame) -> dict[str, Any]:
    n = len(frame)
    conversions = int(frame["converted"].sum())
    revenue = float(frame["revenue"].sum())
    margin = float(frame["margin"].sum())
    return {
        "customers": n,
        "conversions": conversions,
        "conversion_rate": _num(conversions / n) if n else None,
        "revenue": _num(revenue, 2),
        "margin": _num(margin, 2),
        "returned_value": _num(float(frame["returned_value"].sum()), 2),
        "revenue_per_customer": _num(revenue / n, 4) if n else None,
        "margin_per_customer": _num(margin / n, 4) if n else None,
        "margin_incomplete": bool(frame["cost_unknown"].any()),
    }


def _uplift(
    treated: pd.DataFrame, control: pd.DataFrame, *, discount_percent: float
) -> dict[str, Any]:
    rate = diff_in_proportions(
        int(treated["converted"].sum()),
        len(treated),
        int(control["converted"].sum()),
        len(control),
    )
    revenue = welch_difference(
        treated["revenue"].to_numpy(), control["revenue"].to_numpy()
    )
    margin = welch_difference(
        treated["margin"].to_numpy(), control["margin"].to_numpy()
    )
    n_t = len(treated)
    discount_cost = float(treated["revenue"].sum()) * discount_percent / 100
    incremental_margin = margin["diff"] * n_t if margin["diff"] is not None else None
    profit = (
        incremental_margin - discount_cost if incremental_margin is not None else None
    )
    return {
        "rate_diff": _num(rate["diff"]),
        "rate_ci_low": _num(rate["low"]),
        "rate_ci_high": _num(rate["high"]),
        "rate_p_value": _num(rate["p_value"]),
        "rate_relative": _num(rate["relative"]),
        "significant": rate["p_value"] is not None and rate["p_value"] < 0.05,
        "revenue_per_customer_diff": _num(revenue["diff"], 4),
        "revenue_ci_low": _num(revenue["low"], 4),
        "revenue_ci_high": _num(revenue["high"], 4),
        "revenue_p_value": _num(revenue["p_value"]),
        "margin_per_customer_diff": _num(margin["diff"], 4),
        "margin_ci_low": _num(margin["low"], 4),
        "margin_ci_high": _num(margin["high"], 4),
        "margin_p_value": _num(margin["p_value"]),
        "incremental_conversions": _num(rate["diff"] * n_t, 2)
        if rate["diff"] is not None
        else None,
        "incremental_revenue": _num(revenue["diff"] * n_t, 2)
        if revenue["diff"] is not None
        else None,
        "incremental_margin": _num(incremental_margin, 2),
        "discount_cost": _num(discount_cost, 2),
        "incremental_profit": _num(profit, 2),
    }


def _breakdown(per: pd.DataFrame, key: str, names: dict[int, str]) -> list[dict]:
    frame = per.assign(
        arm=np.where(per["group"] == CONTROL, CONTROL, TREATED),
        key=per[key].fillna(-1).astype("int64"),
    )
    grouped = (
        frame.groupby(["key", "arm"])
        .agg(
            customers=("customer_id", "size"),
            conversions=("converted", "sum"),
            revenue=("revenue", "sum"),
            margin=("margin", "sum"),
        )
        .reset_index()
        .sort_values(["key", "arm"])
    )
    rows = []
    for record in grouped.itertuples(index=False):
        identifier = None if record.key == -1 else int(record.key)
        rows.append(
            {
                "id": identifier,
                "name": names.get(identifier, "") if identifier is not None else "",
                "group": record.arm,
                "customers": int(record.customers),
                "conversions": int(record.conversions),
                "conversion_rate": _num(record.conversions / record.customers),
                "revenue": _num(record.revenue, 2),
                "margin": _num(record.margin, 2),
            }
        )
    return rows


def _daily(
    per: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp, tz: str
) -> list[dict]:
    first_day = start.tz_convert(tz).normalize()
    last_day = max(end.tz_convert(tz).normalize(), first_day)
    days = pd.date_range(first_day, last_day, freq="D")
    arm = np.where(per["group"] == CONTROL, CONTROL, TREATED)
    sizes = {name: int((arm == name).sum()) for name in (TREATED, CONTROL)}
    converted = per.assign(arm=arm)[per["converted"]]
    by_day = (
        converted.assign(day=converted["converted_at"].dt.tz_convert(tz).dt.normalize())
        .groupby(["day", "arm"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=days, columns=[TREATED, CONTROL], fill_value=0)
    )
    cumulative = by_day.cumsum()
    frame = pd.DataFrame({"date": [day.date().isoformat() for day in days]})
    for name in (TREATED, CONTROL):
        frame[name] = by_day[name].to_numpy(dtype="int64")
        frame[f"{name}_cumulative"] = cumulative[name].to_numpy(dtype="int64")
        rate = (
            cumulative[name].to_numpy(dtype="float64") / sizes[name]
            if sizes[name]
            else None
        )
        frame[f"{name}_cumulative_rate"] = (
            [_num(value) for value in rate] if rate is not None else None
        )
    return [
        {
            key: (value.item() if hasattr(value, "item") else value)
            for key, value in row.items()
        }
        for row in frame.to_dict("records")
    ]


def _codes(
    code_lines: pd.DataFrame, member_ids: set[int], return_cost: float
) -> tuple[list, list]:
    if code_lines.empty:
        return [], []
    money = _line_money(code_lines, return_cost)
    money["outside_audience"] = ~money["customer_id"].isin(member_ids)
    codes = []
    for (code, kind, partner), frame in money.groupby(
        ["code", "kind", "partner_name"], sort=True
    ):
        codes.append(
            {
                "code": code,
                "kind": kind,
                "partner_name": partner,
                "orders": int(frame["order_id"].nunique()),
                "customers": int(frame["customer_id"].dropna().nunique()),
                "outside_audience_orders": int(
                    frame.loc[frame["outside_audience"], "order_id"].nunique()
                ),
                "revenue": _num(frame["revenue"].sum(), 2),
                "margin": _num(frame["margin"].sum(), 2),
            }
        )
    partners = []
    partner_lines = money[money["partner_name"] != ""]
    for partner, frame in partner_lines.groupby("partner_name", sort=True):
        partners.append(
            {
                "partner_name": partner,
                "orders": int(frame["order_id"].nunique()),
                "customers": int(frame["customer_id"].dropna().nunique()),
                "revenue": _num(frame["revenue"].sum(), 2),
                "margin": _num(frame["margin"].sum(), 2),
            }
        )
    return codes, partners


def compute_results(
    members: pd.DataFrame,
    lines: pd.DataFrame,
    code_lines: pd.DataFrame,
    *,
    window_days: int,
    discount_percent: float,
    start: pd.Timestamp,
    now: pd.Timestamp,
    variant_labels: list[str],
    store_names: dict[int, str] | None = None,
    step_names: dict[int, str] | None = None,
    return_cost_per_unit: float = 0.0,
    tz: str = "UTC",
) -> dict[str, Any]:
    """The whole results payload of one campaign (see the module docstring).

    Keys: groups (one per variant, then "treated" and "control"), uplift
    (each variant and "treated" against control), by_store, by_ladder_step,
    daily, codes, partners, and the headline figures.
    """
    code_order_ids = (
        set(code_lines["order_id"].astype("int64")) if not code_lines.empty else set()
    )
    per, _attributed = attribute(
        members,
        lines,
        window_days=window_days,
        code_order_ids=code_order_ids,
        return_cost_per_unit=return_cost_per_unit,
    )
    control = per[per["group"] == CONTROL]
    treated = per[per["group"] != CONTROL]
    groups = []
    uplift = []
    for label in variant_labels:
        frame = per[per["group"] == label]
        groups.append({"key": label, "kind": "variant", **_group_figures(frame)})
        uplift.append(
            {"key": label, **_uplift(frame, control, discount_percent=discount_percent)}
        )
    groups.append({"key": TREATED, "kind": TREATED, **_group_figures(treated)})
    groups.append({"key": CONTROL, "kind": CONTROL, **_group_figures(control)})
    overall = _uplift(treated, control, discount_percent=discount_percent)
    uplift.append({"key": TREATED, **overall})
    window_end = start + pd.Timedelta(days=window_days)
    codes, partners = _codes(code_lines, set(per["customer_id"]), return_cost_per_unit)
    return {
        "window_days": window_days,
        "start": start.isoformat(),
        "window_end": window_end.isoformat(),
        "window_closed": bool(now >= window_end),
        "audience": len(per),
        "discount_percent": _num(discount_percent, 2),
        "return_cost_per_unit": _num(return_cost_per_unit, 2),
        "groups": groups,
        "uplift": uplift,
        "incremental_profit": overall["incremental_profit"],
        "significant": overall["significant"],
        "by_store": _breakdown(per, "store_id", store_names or {}),
        "by_ladder_step": _breakdown(per, "ladder_step_id", step_names or {}),
        "daily": _daily(per, start=start, end=min(now, window_end), tz=tz),
        "codes": codes,
        "partners": partners,
    }

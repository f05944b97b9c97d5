"""The project's own CSV formats: customers, products and orders (docs/import.md).

Pure pandas plus the pure validators of ``crm.validators``; anything that needs
the database (store codes, SKUs, customer ids) comes in as a mapping. Each
planner returns a ``ProjectPlan``: the frames to upsert, the error frame and
the counts. Columns absent from the file are left alone on existing rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd
from django.core.exceptions import ValidationError

from crm.imports.reading import LINE_COLUMN
from crm.imports.validation import (
    ErrorCollector,
    check_required,
    check_row_shape,
    check_text,
    parse_decimals,
    parse_integers,
)
from crm.validators import normalize_email, normalize_phone, validate_birth_date

TRUE_WORDS = frozenset({"yes", "y", "true", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "0"})

CUSTOMER_REQUIRED = ["external_id"]
CUSTOMER_OPTIONAL = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "gender",
    "postcode",
    "country",
    "latitude",
    "longitude",
    "home_store",
    "loyalty_card",
    "preferred_channel",
    "email_consent",
    "sms_consent",
    "consent_source",
    "consent_wording_version",
]
CONSENT_COLUMNS = {"email_consent": "email", "sms_consent": "sms"}
PRODUCT_REQUIRED = ["sku", "name", "price"]
PRODUCT_OPTIONAL = ["category", "kind", "unit_cost", "season", "consumable", "active"]
ORDER_REQUIRED = ["order_number", "placed_at", "sku", "quantity"]
ORDER_OPTIONAL = [
    "customer_external_id",
    "store_code",
    "channel",
    "unit_price",
    "status",
]
ORDER_HEADER = ["customer_external_id", "store_code", "channel", "placed_at", "status"]
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


@dataclass
class ProjectPlan:
    """Frames to write (keyed by their role), the errors, and the counts."""

    frames: dict[str, pd.DataFrame]
    errors: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    update_fields: list[str] = field(default_factory=list)


def map_validator(
    series: pd.Series, validator: Callable[[str], object]
) -> tuple[pd.Series, pd.Series]:
    """Run ``validator`` once per distinct value; (results, error messages or '')."""
    results: dict[str, object] = {}
    messages: dict[str, str] = {}
    for value in pd.unique(series.to_numpy()):
        try:
            results[value] = validator(value)
            messages[value] = ""
        except ValidationError as exc:
            results[value] = None
            messages[value] = " ".join(exc.messages)
    return series.map(results), series.map(messages)


def parse_flags(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """yes/no words → (True/False/<NA> for blank, mask of unknown words)."""
    words = series.str.strip().str.lower()
    values = pd.Series(pd.NA, index=series.index, dtype="boolean")
    values[words.isin(TRUE_WORDS)] = True
    values[words.isin(FALSE_WORDS)] = False
    return values, (words != "") & values.isna()


def _start(
    frame: pd.DataFrame,
    *,
    expected_fields: int,
    max_lengths: Mapping[str, int],
    required: list[str],
) -> ErrorCollector:
    errors = ErrorCollector(frame)
    check_row_shape(errors, frame, expected_fields=expected_fields)
    text_columns = [c for c in frame.columns if c != "_fields"]
    check_text(errors, frame[text_columns], max_lengths=max_lengths)
    check_required(errors, frame, columns=required)
    return errors


def _duplicate_keys(
    errors: ErrorCollector, frame: pd.DataFrame, *, column: str, label: str
) -> None:
    """Second and later rows with the same key are errors (which one wins?)."""
    key = frame[column].str.strip()
    errors.add(
        key.duplicated(keep="first") & (key != ""),
        column=column,
        code="duplicate_key",
        message=f"The same {label} appears on an earlier row.",
    )


def _choice(
    errors: ErrorCollector,
    frame: pd.DataFrame,
    *,
    column: str,
    allowed: list[str],
    default: str,
    lower: bool = True,
) -> pd.Series:
    if column not in frame:
        return pd.Series(default, index=frame.index)
    text = frame[column].str.strip()
    if lower:
        text = text.str.lower()
    text = text.mask(text == "", default)
    errors.add(
        ~text.isin(allowed),
        column=column,
        code="choice",
        message=f"Must be one of: {', '.join(a for a in allowed if a)}.",
    )
    return text


def _counts(frame: pd.DataFrame, errors: pd.DataFrame) -> dict[str, int]:
    rejected = int(errors["line"].nunique()) if len(errors) else 0
    return {
        "rows_read": len(frame),
        "rows_rejected": rejected,
        "rows_imported": len(frame) - rejected,
        "rows_special": 0,
    }


def plan_customers(
    frame: pd.DataFrame,
    *,
    expected_fields: int,
    max_lengths: Mapping[str, int],
    store_ids: Mapping[str, int],
    today: dt.date,
) -> ProjectPlan:
    """Customers keyed by external_id; consent columns give evidence rows.

    ``frames["customers"]`` has database columns; ``frames["consents"]``
    has [external_id, channel, granted, source, wording_version] for every
    yes/no consent cell (blank = no statement, nothing recorded).
    """
    errors = _start(
        frame,
        expected_fields=expected_fields,
        max_lengths=max_lengths,
        required=CUSTOMER_REQUIRED,
    )
    _duplicate_keys(errors, frame, column="external_id", label="external_id")
    out = pd.DataFrame({"external_id": frame["external_id"].str.strip()})
    for column in ("first_name", "last_name", "postcode", "country"):
        if column in frame:
            out[column] = frame[column].str.strip()
    if "email" in frame:
        out["email"], messages = map_validator(frame["email"], normalize_email)
        errors.add(
            messages != "", column="email", code="email", message="Invalid e-mail."
        )
    if "phone" in frame:
        out["phone"], messages = map_validator(frame["phone"], normalize_phone)
        errors.add(
            messages != "", column="phone", code="phone", message="Invalid phone."
        )
    if "birth_date" in frame:
        text = frame["birth_date"].str.strip()
        dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        errors.add(
            dates.isna() & (text != ""),
            column="birth_date",
            code="bad_date",
            message="Birth date must look like 1980-04-30.",
        )

        def check_birth(value: str) -> str:
            validate_birth_date(dt.date.fromisoformat(value), today=today)
            return value

        valid_text = text.where(dates.notna(), "")
        checked, messages = map_validator(
            valid_text, lambda v: check_birth(v) if v else None
        )
        errors.add(
            messages != "",
            column="birth_date",
            code="birth_date",
            message="Birth date in the future or more than 120 years ago.",
        )
        out["birth_date"] = checked.where(checked.notna(), None)
    if "gender" in frame:
        out["gender"] = _choice(
            errors,
            frame,
            column="gender",
            allowed=["F", "M", "X", ""],
            default="",
            lower=False,
        ).str.upper()
    if "latitude" in frame or "longitude" in frame:
        for column, limit in (("latitude", 90), ("longitude", 180)):
            source = (
                frame[column] if column in frame else pd.Series("", index=frame.index)
            )
            floats, strings, bad = parse_decimals(
                source, decimal_places=6, max_digits=9
            )
            errors.add(
                bad | (floats.abs() > limit),
                column=column,
                code="coordinate",
                message=f"{column.title()} must be a number within ±{limit}.",
            )
            out[column] = strings.where(strings.notna(), None)
        errors.add(
            out["latitude"].isna() != out["longitude"].isna(),
            column="latitude",
            code="coordinate",
            message="Give both latitude and longitude, or neither.",
        )
    if "home_store" in frame:
        code = frame["home_store"].str.strip()
        out["home_store_id"] = code.map(store_ids).astype("Int64")
        errors.add(
            (code != "") & out["home_store_id"].isna(),
            column="home_store",
            code="unknown_store",
            message="No store has this code.",
        )
    if "loyalty_card" in frame:
        out["loyalty_card"] = frame["loyalty_card"].str.strip()
        _duplicate_keys(errors, frame, column="loyalty_card", label="loyalty card")
    if "preferred_channel" in frame:
        out["preferred_channel"] = _choice(
            errors,
            frame,
            column="preferred_channel",
            allowed=["", "email", "sms", "phone", "in_store", "checkout", "web"],
            default="",
        )
        out["preferred_channel_source"] = out["preferred_channel"].map(
            lambda v: "declared" if v else ""
        )

    consent_parts = []
    source = (
        frame["consent_source"].str.strip()
        if "consent_source" in frame
        else pd.Series("", index=frame.index)
    )
    wording = (
        frame["consent_wording_version"].str.strip()
        if "consent_wording_version" in frame
        else pd.Series("", index=frame.index)
    )
    for column, channel in CONSENT_COLUMNS.items():
        if column not in frame:
            continue
        flags, bad = parse_flags(frame[column])
        errors.add(
            bad, column=column, code="choice", message="Must be yes, no or blank."
        )
        stated = flags.notna()
        errors.add(
            stated & (source == ""),
            column="consent_source",
            code="required",
            message="Say where the consent was collected (consent_source).",
        )
        consent_parts.append(
            pd.DataFrame(
                {
                    "external_id": out["external_id"][stated],
                    "channel": channel,
                    "granted": flags[stated].astype(bool),
                    "source": source[stated],
                    "wording_version": wording[stated],
                    LINE_COLUMN: frame.loc[stated, LINE_COLUMN],
                }
            )
        )
    error_frame = errors.frame()
    valid = ~errors.invalid
    consents = (
        pd.concat(consent_parts, ignore_index=True)
        if consent_parts
        else pd.DataFrame(
            columns=["external_id", "channel", "granted", "source", "wording_version"]
        )
    )
    if len(consents):
        bad_lines = set(error_frame["line"].tolist())
        consents = consents[~consents[LINE_COLUMN].isin(bad_lines)]
    customers = out[valid].sort_values("external_id").reset_index(drop=True)
    counts = _counts(frame, error_frame)
    counts["consent_statements"] = len(consents)
    return ProjectPlan(
        frames={
            "customers": customers,
            "consents": consents.drop(columns=[LINE_COLUMN], errors="ignore")
            .sort_values(["external_id", "channel"])
            .reset_index(drop=True),
        },
        errors=error_frame,
        counts=counts,
        update_fields=[c for c in customers.columns if c != "external_id"],
    )


def plan_products(
    frame: pd.DataFrame,
    *,
    expected_fields: int,
    max_lengths: Mapping[str, int],
    kinds: list[str],
    seasons: list[str],
) -> ProjectPlan:
    """Products keyed by SKU; ``frames["categories"]`` lists the slugs used."""
    errors = _start(
        frame,
        expected_fields=expected_fields,
        max_lengths=max_lengths,
        required=PRODUCT_REQUIRED,
    )
    _duplicate_keys(errors, frame, column="sku", label="SKU")
    out = pd.DataFrame(
        {"sku": frame["sku"].str.strip(), "name": frame["name"].str.strip()}
    )
    kind = _choice(errors, frame, column="kind", allowed=kinds, default="product")
    if "kind" in frame:
        out["kind"] = kind
    price, price_text, bad = parse_decimals(
        frame["price"], decimal_places=2, max_digits=10
    )
    errors.add(
        bad | price.isna() | ((price < 0) & (kind != "charge")),
        column="price",
        code="price",
        message="Price must be a number ≥ 0 (only charges may be negative).",
    )
    out["price"] = price_text
    if "unit_cost" in frame:
        cost, cost_text, bad = parse_decimals(
            frame["unit_cost"], decimal_places=2, max_digits=10
        )
        errors.add(
            bad | (cost < 0),
            column="unit_cost",
            code="unit_cost",
            message="Unit cost must be blank or a number ≥ 0.",
        )
        out["unit_cost"] = cost_text.where(cost_text.notna(), None)
    if "season" in frame:
        out["season"] = _choice(
            errors, frame, column="season", allowed=seasons, default="all_year"
        )
    for column, target, default in (
        ("consumable", "is_consumable", False),
        ("active", "active", True),
    ):
        if column in frame:
            flags, bad = parse_flags(frame[column])
            errors.add(bad, column=column, code="choice", message="Must be yes or no.")
            out[target] = flags.fillna(default).astype(bool)
    categories = pd.DataFrame({"slug": pd.Series(dtype=object)})
    if "category" in frame:
        slug = frame["category"].str.strip().str.lower()
        errors.add(
            (slug != "") & ~slug.str.fullmatch(SLUG_PATTERN),
            column="category",
            code="slug",
            message="Category must be a slug (letters, digits, - and _).",
        )
        out["category_slug"] = slug
    error_frame = errors.frame()
    valid = ~errors.invalid
    products = out[valid].sort_values("sku").reset_index(drop=True)
    if "category_slug" in products:
        slugs = products["category_slug"]
        categories = pd.DataFrame({"slug": sorted(set(slugs[slugs != ""]))})
    return ProjectPlan(
        frames={"products": products, "categories": categories},
        errors=error_frame,
        counts=_counts(frame, error_frame),
        update_fields=[
            ("category_id" if c == "category_slug" else c)
            for c in products.columns
            if c != "sku"
        ],
    )


def plan_orders(
    frame: pd.DataFrame,
    *,
    expected_fields: int,
    max_lengths: Mapping[str, int],
    time_zone: str,
    customer_ids: Mapping[str, int],
    store_ids: Mapping[str, int],
    product_prices: Mapping[str, str],
    channels: list[str],
    statuses: list[str],
) -> ProjectPlan:
    """Orders keyed by order_number, one file row per line.

    Lines are numbered after sorting an order's rows by (sku, quantity,
    unit_price), so row order in the file does not matter. Every row of an
    order must repeat the same header values (customer, store, channel,
    placed_at, status). A blank customer makes an anonymous order; a blank
    unit_price takes the product's list price.
    """
    errors = _start(
        frame,
        expected_fields=expected_fields,
        max_lengths=max_lengths,
        required=ORDER_REQUIRED,
    )
    blank = pd.Series("", index=frame.index)
    customer = frame.get("customer_external_id", blank).str.strip()
    store = frame.get("store_code", blank).str.strip()
    sku = frame["sku"].str.strip()
    out = pd.DataFrame(
        {
            "number": frame["order_number"].str.strip(),
            "customer_external_id": customer,
            "customer_id": customer.map(customer_ids).astype("Int64"),
            "store_id": store.map(store_ids).astype("Int64"),
            "sku": sku,
            LINE_COLUMN: frame[LINE_COLUMN],
        }
    )
    errors.add(
        (customer != "") & out["customer_id"].isna(),
        column="customer_external_id",
        code="unknown_customer",
        message="No customer has this external id (import customers first).",
    )
    errors.add(
        (store != "") & out["store_id"].isna(),
        column="store_code",
        code="unknown_store",
        message="No store has this code.",
    )
    errors.add(
        (sku != "") & ~sku.isin(list(product_prices)),
        column="sku",
        code="unknown_product",
        message="No product has this SKU (import products first).",
    )
    out["channel"] = _choice(
        errors, frame, column="channel", allowed=channels, default="in_store"
    )
    out["status"] = _choice(
        errors, frame, column="status", allowed=statuses, default="placed"
    )
    quantity, bad = parse_integers(frame["quantity"])
    errors.add(
        bad | (quantity <= 0),
        column="quantity",
        code="quantity",
        message="Quantity must be a whole number ≥ 1.",
    )
    out["quantity"] = quantity
    price_source = frame.get("unit_price", blank)
    price, price_text, bad = parse_decimals(
        price_source, decimal_places=2, max_digits=10
    )
    errors.add(
        bad | (price < 0),
        column="unit_price",
        code="price",
        message="Unit price must be blank or a number ≥ 0.",
    )
    out["unit_price"] = price_text.where(
        price_text.notna(), sku.map(product_prices).astype(object)
    )
    text = frame["placed_at"].str.strip()
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    naive = ~text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    if naive.any():
        local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        parsed[naive] = local.dt.tz_localize(
            time_zone, ambiguous="NaT", nonexistent="shift_forward"
        ).dt.tz_convert("UTC")
    errors.add(
        parsed.isna() & (text != ""),
        column="placed_at",
        code="bad_date",
        message="placed_at must be ISO 8601 (2024-05-01T10:30 or with an offset).",
    )
    out["placed_at"] = parsed
    header = out[["number", "customer_external_id", "store_id", "channel", "status"]]
    header = header.assign(placed_at=text)
    conflicting = header.drop_duplicates().duplicated("number", keep=False)
    conflicting_numbers = set(header.drop_duplicates()[conflicting]["number"])
    errors.add(
        out["number"].isin(conflicting_numbers),
        column="order_number",
        code="conflicting_order",
        message="Rows of this order disagree on customer, store, channel, "
        "placed_at or status.",
    )
    error_frame = errors.frame()
    valid = out[~errors.invalid]
    if len(errors.frame()):
        # An order with one bad line is left out whole, never imported half.
        bad_numbers = set(out.loc[errors.invalid, "number"])
        dropped = valid["number"].isin(bad_numbers)
        valid = valid[~dropped]
    lines = valid.sort_values(
        ["number", "sku", "quantity", "unit_price", LINE_COLUMN], kind="stable"
    ).copy()
    lines["line_no"] = lines.groupby("number", sort=False).cumcount() + 1
    orders = (
        lines.drop_duplicates("number")[
            ["number", "customer_id", "store_id", "channel", "status", "placed_at"]
        ]
        .sort_values("number")
        .reset_index(drop=True)
    )
    first_orders = (
        lines[lines["customer_external_id"] != ""]
        .groupby("customer_external_id")["placed_at"]
        .min()
        .rename("became_customer_at")
        .reset_index()
        .rename(columns={"customer_external_id": "external_id"})
    )
    counts = _counts(frame, error_frame)
    counts["rows_imported"] = len(lines)
    counts["rows_special"] = len(frame) - len(lines) - counts["rows_rejected"]
    counts["orders"] = len(orders)
    counts["anonymous_orders"] = int(orders["customer_id"].isna().sum())
    return ProjectPlan(
        frames={
            "orders": orders,
            "lines": lines[["number", "line_no", "sku", "quantity", "unit_price"]],
            "first_orders": first_orders,
        },
        errors=error_frame,
        counts=counts,
    )

"""The UCI "Online Retail" format: validation and the messy-retail policy (IMP-03).

Pure pandas, no Django: ``plan_online_retail`` turns the file's rows into the
frames a writer upserts (customers, products, orders, lines, returns), plus
the error frame and the counts of every special case. Policy, in order:

1. Invalid rows (bad shape, NUL, too long, blank invoice/stock code, bad
   quantity/price/date, quantity 0) are rejected and reported.
2. Exact duplicate rows are dropped (the first copy is kept).
3. Negative unit price (the ``A`` "adjust bad debt" invoices): skipped.
4. Negative quantity on an invoice not starting with ``C`` (stock
   adjustments): skipped.
5. ``C`` invoices are cancellations: each row is matched to the same
   customer's purchase lines of the same product placed no later than it,
   most recent first, within what is left to return on each line; matched
   quantities become ``Return`` rows (kind cancellation). The remainder is
   counted as "cancellation without a matching purchase in the file". ``C``
   rows without a customer cannot be matched and are counted and skipped.
6. Every other row is a purchase line. A blank CustomerID makes an anonymous
   order. Non-product codes (postage, manual, discount, fees ...) become
   products of kind ``charge``; zero-price lines are kept and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crm.imports.reading import LINE_COLUMN
from crm.imports.validation import (
    ErrorCollector,
    check_required,
    check_row_shape,
    check_text,
    parse_datetimes,
    parse_decimals,
    parse_integers,
    per_unique,
)

RETAIL_COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "ISO8601")
NON_PRODUCT_CODES = frozenset(
    {
        "POST",
        "D",
        "M",
        "m",
        "DOT",
        "BANK CHARGES",
        "C2",
        "PADS",
        "AMAZONFEE",
        "CRUK",
        "S",
        "B",
    }
)
NON_PRODUCT_PREFIXES = ("gift_", "DCGS")
UNMATCHED_LIST_LIMIT = 1000

CUSTOMER_COLUMNS = ["external_id", "country", "became_customer_at"]
PRODUCT_COLUMNS = ["sku", "name", "price", "is_charge"]
ORDER_COLUMNS = ["number", "customer_external_id", "placed_at"]
LINE_COLUMNS = [
    "number",
    "line_no",
    "sku",
    "quantity",
    "unit_price",
    "returned_quantity",
]
RETURN_COLUMNS = ["reference", "number", "line_no", "quantity", "returned_at"]


@dataclass
class RetailPlan:
    """What to write, and why each other row was not written.

    Frames (one row per natural key, sorted by it):
    customers CUSTOMER_COLUMNS (became_customer_at: UTC Timestamp);
    products PRODUCT_COLUMNS (price: str "2.55", is_charge: bool);
    orders ORDER_COLUMNS (customer_external_id "" = anonymous);
    lines LINE_COLUMNS (unit_price: str; returned_quantity: int);
    returns RETURN_COLUMNS (reference: the C invoice; number/line_no: the line).
    ``unmatched`` lists cancellation rows (or their remainder) with no purchase.
    """

    errors: pd.DataFrame
    customers: pd.DataFrame
    products: pd.DataFrame
    orders: pd.DataFrame
    lines: pd.DataFrame
    returns: pd.DataFrame
    unmatched: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)


def is_non_product_code(stock_codes: pd.Series) -> pd.Series:
    """True for stock codes that are charges or adjustments, not merchandise."""
    return per_unique(
        stock_codes,
        lambda codes: (
            codes.isin(NON_PRODUCT_CODES) | codes.str.startswith(NON_PRODUCT_PREFIXES)
        ),
    )


def validate_retail_rows(
    frame: pd.DataFrame,
    *,
    expected_fields: int,
    time_zone: str,
    max_lengths: Mapping[str, int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every row; return (parsed valid rows, error frame).

    Parsed rows keep the raw columns and add ``invoice``, ``sku``, ``qty``
    (int64), ``price`` (float64), ``price_text`` (canonical str),
    ``placed_at`` (UTC), ``customer`` (str, "" when blank), ``country``,
    ``description`` (stripped) and ``price_rounded`` (bool).
    """
    errors = ErrorCollector(frame)
    check_row_shape(errors, frame, expected_fields=expected_fields)
    check_text(errors, frame[RETAIL_COLUMNS + [LINE_COLUMN]], max_lengths=max_lengths)
    check_required(
        errors,
        frame,
        columns=["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice"],
    )
    quantity, bad_quantity = parse_integers(frame["Quantity"])
    errors.add(
        bad_quantity,
        column="Quantity",
        code="not_integer",
        message="Quantity must be a whole number.",
    )
    errors.add(
        quantity == 0,
        column="Quantity",
        code="zero_quantity",
        message="Quantity must not be 0.",
    )
    price, price_text, bad_price = parse_decimals(
        frame["UnitPrice"], decimal_places=2, max_digits=10
    )
    errors.add(
        bad_price,
        column="UnitPrice",
        code="not_decimal",
        message="UnitPrice must be a number below 100,000,000.",
    )
    placed_at, bad_date = parse_datetimes(
        frame["InvoiceDate"], time_zone=time_zone, formats=DATE_FORMATS
    )
    errors.add(
        bad_date & ~per_unique(frame["InvoiceDate"], lambda u: u.str.strip() == ""),
        column="InvoiceDate",
        code="bad_date",
        message="InvoiceDate must look like 2011-12-09 12:50:00.",
    )
    valid = ~errors.invalid
    rows = frame.loc[valid, RETAIL_COLUMNS].copy()
    rows["invoice"] = per_unique(rows["InvoiceNo"], lambda u: u.str.strip())
    rows["sku"] = rows["StockCode"]
    rows["qty"] = quantity[valid].astype("int64")
    rows["price"] = price[valid]
    rows["price_text"] = price_text[valid]
    rows["price_rounded"] = (
        per_unique(
            frame.loc[valid, "UnitPrice"], lambda u: pd.to_numeric(u, errors="coerce")
        )
        != rows["price"]
    )
    rows["placed_at"] = placed_at[valid]
    rows["customer"] = per_unique(
        rows["CustomerID"],
        lambda u: u.str.strip().str.replace(r"^(\d+)\.0+$", r"\1", regex=True),
    )
    rows["country"] = per_unique(rows["Country"], lambda u: u.str.strip())
    rows["description"] = per_unique(rows["Description"], lambda u: u.str.strip())
    rows[LINE_COLUMN] = frame.loc[valid, LINE_COLUMN]
    return rows, errors.frame()


def plan_online_retail(
    frame: pd.DataFrame,
    *,
    expected_fields: int,
    time_zone: str,
    max_lengths: Mapping[str, int],
) -> RetailPlan:
    """Validate the rows and apply the policy in the module docstring.

    ``max_lengths`` maps file columns to their database column lengths. The
    result does not depend on row order: every choice (line numbers, product
    names and prices, customer countries, cancellation matching) follows a
    sort on the row values.
    """
    rows, errors = validate_retail_rows(
        frame,
        expected_fields=expected_fields,
        time_zone=time_zone,
        max_lengths=max_lengths,
    )
    counts: dict[str, int] = {
        "rows_read": len(frame),
        "rows_rejected": int(errors["line"].nunique()) if len(errors) else 0,
    }
    duplicate = rows.duplicated(subset=RETAIL_COLUMNS, keep="first")
    counts["duplicate_rows"] = int(duplicate.sum())
    rows = rows[~duplicate]

    is_cancel = per_unique(rows["invoice"], lambda u: u.str.startswith("C"))
    has_customer = rows["customer"] != ""
    negative_price = rows["price"] < 0
    negative_quantity = rows["qty"] < 0
    stock_adjustment = negative_quantity & ~is_cancel & ~negative_price
    cancel_positive = is_cancel & ~negative_quantity & ~negative_price
    cancel_anonymous = is_cancel & negative_quantity & ~has_customer & ~negative_price
    cancel = is_cancel & negative_quantity & has_customer & ~negative_price
    purchase = ~is_cancel & ~negative_quantity & ~negative_price
    counts["negative_price_rows"] = int(negative_price.sum())
    counts["stock_adjustment_rows"] = int(stock_adjustment.sum())
    counts["cancellation_rows_positive_quantity"] = int(cancel_positive.sum())
    counts["cancellation_rows_without_customer"] = int(cancel_anonymous.sum())

    purchases = rows[purchase]
    products = _plan_products(purchases)
    orders = _plan_orders(purchases)
    lines = _plan_lines(purchases, orders)
    customers = _plan_customers(purchases, rows[cancel])
    returns, unmatched, matched_rows = _match_cancellations(rows[cancel], lines)
    returned = returns.groupby(["number", "line_no"])["quantity"].sum()
    lines["returned_quantity"] = (
        pd.MultiIndex.from_frame(lines[["number", "line_no"]])
        .map(returned)
        .fillna(0)
        .astype("int64")
    )

    invoices = rows["invoice"]
    counts.update(
        {
            "invoices": int(invoices.nunique()),
            "orders": len(orders),
            "anonymous_orders": int((orders["customer_external_id"] == "").sum()),
            "cancellation_invoices": int(invoices[is_cancel].nunique()),
            "skipped_invoices": int(
                invoices[~is_cancel & ~invoices.isin(orders["number"])].nunique()
            ),
            "adjustment_invoices": int(
                invoices[
                    per_unique(invoices, lambda u: u.str.startswith("A"))
                ].nunique()
            ),
            "customers": len(customers),
            "customers_only_in_cancellations": int(
                (~customers["external_id"].isin(purchases["customer"])).sum()
            ),
            "products": len(products),
            "charge_products": int(products["is_charge"].sum()),
            "products_without_description": int(
                (products["name"] == products["sku"]).sum()
            ),
            "order_lines": len(lines),
            "anonymous_lines": int((purchases["customer"] == "").sum()),
            "charge_lines": int(is_non_product_code(purchases["sku"]).sum()),
            "zero_price_lines": int((purchases["price_text"] == "0.00").sum()),
            "prices_rounded": int(purchases["price_rounded"].sum()),
            "cancellation_rows": int(cancel.sum()),
            "cancellation_rows_matched": int(matched_rows),
            "cancellation_rows_unmatched": int(cancel.sum()) - int(matched_rows),
            "cancellations_partly_unmatched": int(
                (unmatched["quantity"] < unmatched["requested"]).sum()
            ),
            "cancelled_quantity_matched": int(returns["quantity"].sum()),
            "cancelled_quantity_unmatched": int(unmatched["quantity"].sum()),
            "returns": len(returns),
        }
    )
    counts["rows_imported"] = len(purchases) + counts["cancellation_rows_matched"]
    counts["rows_special"] = (
        counts["duplicate_rows"]
        + counts["negative_price_rows"]
        + counts["stock_adjustment_rows"]
        + counts["cancellation_rows_positive_quantity"]
        + counts["cancellation_rows_without_customer"]
        + counts["cancellation_rows_unmatched"]
    )
    return RetailPlan(
        errors=errors,
        customers=customers,
        products=products,
        orders=orders,
        lines=lines[LINE_COLUMNS],
        returns=returns,
        unmatched=unmatched,
        counts=counts,
    )


def _most_frequent(frame: pd.DataFrame, *, key: str, value: str) -> pd.Series:
    """The most frequent ``value`` per ``key``; ties go to the smallest value."""
    if frame.empty:
        return pd.Series(dtype=object)
    tally = frame.groupby([key, value], sort=False).size().reset_index(name="n")
    tally = tally.sort_values([key, "n", value], ascending=[True, False, True])
    return tally.drop_duplicates(key).set_index(key)[value]


def _plan_products(purchases: pd.DataFrame) -> pd.DataFrame:
    """One product per stock code: commonest description and positive price."""
    skus = pd.Series(np.sort(purchases["sku"].unique()), name="sku")
    names = _most_frequent(
        purchases[purchases["description"] != ""], key="sku", value="description"
    )
    priced = purchases[purchases["price"] > 0]
    prices = _most_frequent(priced, key="sku", value="price_text")
    products = pd.DataFrame({"sku": skus})
    products["name"] = products["sku"].map(names).fillna(products["sku"])
    products["price"] = products["sku"].map(prices).fillna("0.00")
    products["is_charge"] = is_non_product_code(products["sku"])
    return products[PRODUCT_COLUMNS]


def _plan_orders(purchases: pd.DataFrame) -> pd.DataFrame:
    """One order per purchase invoice, placed at its earliest row."""
    grouped = purchases.groupby("invoice", sort=True)
    orders = pd.DataFrame(
        {
            "placed_at": grouped["placed_at"].min(),
            # An invoice has one customer; max() picks a non-blank id if any.
            "customer_external_id": grouped["customer"].max(),
        }
    )
    orders.index.name = "number"
    return orders.reset_index()[ORDER_COLUMNS]


def _plan_lines(purchases: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Purchase rows as order lines, numbered after a sort on their values."""
    ordered = purchases.sort_values(
        ["invoice", "sku", "qty", "price", "Description", "placed_at", "customer"],
        kind="stable",
    )
    lines = pd.DataFrame(
        {
            "number": ordered["invoice"].to_numpy(),
            "sku": ordered["sku"].to_numpy(),
            "quantity": ordered["qty"].to_numpy(),
            "unit_price": ordered["price_text"].to_numpy(),
        }
    )
    lines["line_no"] = lines.groupby("number", sort=False).cumcount() + 1
    header = orders.set_index("number")
    lines["customer"] = lines["number"].map(header["customer_external_id"])
    lines["placed_at"] = lines["number"].map(header["placed_at"])
    return lines


def _plan_customers(purchases: pd.DataFrame, cancels: pd.DataFrame) -> pd.DataFrame:
    """Every CustomerID seen on a purchase or a cancellation.

    Country is the commonest one on the customer's rows. ``became_customer_at``
    is the first purchase; a customer seen only on cancellations bought before
    the file starts, so their first cancellation stands in for it.
    """
    seen = pd.concat(
        [
            purchases.loc[
                purchases["customer"] != "", ["customer", "country", "placed_at"]
            ],
            cancels[["customer", "country", "placed_at"]],
        ]
    )
    if seen.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CUSTOMER_COLUMNS})
    first_purchase = (
        purchases[purchases["customer"] != ""].groupby("customer")["placed_at"].min()
    )
    first_seen = seen.groupby("customer")["placed_at"].min()
    customers = pd.DataFrame({"external_id": np.sort(seen["customer"].unique())})
    customers["country"] = customers["external_id"].map(
        _most_frequent(seen, key="customer", value="country")
    )
    customers["became_customer_at"] = (
        customers["external_id"]
        .map(first_purchase)
        .fillna(customers["external_id"].map(first_seen))
    )
    return customers[CUSTOMER_COLUMNS]


def _match_cancellations(
    cancels: pd.DataFrame, lines: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Allocate cancelled quantities to earlier purchase lines.

    Cancellations are taken in time order; each takes from the same
    customer's lines of the same stock code placed no later than it, most
    recent first, never more than a line has left. The work is grouped by
    (customer, stock code), so the Python loop only visits the few candidate
    lines of each cancellation. Returns (returns frame, unmatched frame,
    number of cancellation rows with at least one unit matched).
    """
    empty_returns = pd.DataFrame(
        {
            "reference": pd.Series(dtype=object),
            "number": pd.Series(dtype=object),
            "line_no": pd.Series(dtype="int64"),
            "quantity": pd.Series(dtype="int64"),
            "returned_at": pd.Series(dtype="datetime64[ns, UTC]"),
        }
    )
    unmatched_columns = [
        "line",
        "reference",
        "customer",
        "sku",
        "requested",
        "quantity",
    ]
    if cancels.empty:
        return empty_returns, pd.DataFrame(columns=unmatched_columns), 0

    candidates = lines[lines["customer"] != ""].sort_values(
        ["customer", "sku", "placed_at", "number", "line_no"],
        ascending=[True, True, False, False, False],
        kind="stable",
    )
    groups = candidates.groupby(["customer", "sku"], sort=False).indices
    left = candidates["quantity"].to_numpy().copy()
    # Naive UTC datetime64: comparing numpy values, not Timestamp objects.
    cand_time = candidates["placed_at"].dt.tz_convert(None).to_numpy()
    cand_number = candidates["number"].to_numpy()
    cand_line = candidates["line_no"].to_numpy()

    ordered = cancels.sort_values(
        ["placed_at", "invoice", "sku", "qty", "price", "Description"], kind="stable"
    )
    allocations: list[tuple[str, str, int, int, object]] = []
    unmatched: list[tuple[int, str, str, str, int, int]] = []
    matched_rows = 0
    for line, reference, customer, sku, quantity, when in zip(
        ordered[LINE_COLUMN].to_numpy(),
        ordered["invoice"].to_numpy(),
        ordered["customer"].to_numpy(),
        ordered["sku"].to_numpy(),
        ordered["qty"].to_numpy(),
        ordered["placed_at"].dt.tz_convert(None).to_numpy(),
        strict=True,
    ):
        need = -int(quantity)
        requested = need
        for position in groups.get((customer, sku), ()):
            if need == 0:
                break
            if cand_time[position] > when or left[position] == 0:
                continue
            take = min(int(left[position]), need)
            left[position] -= take
            need -= take
            allocations.append(
                (reference, cand_number[position], int(cand_line[position]), take, when)
            )
        if need < requested:
            matched_rows += 1
        if need:
            unmatched.append((int(line), reference, customer, sku, requested, need))

    if allocations:
        returns = pd.DataFrame(
            allocations, columns=["reference", "number", "line_no", "quantity", "when"]
        )
        returns = (
            returns.groupby(["reference", "number", "line_no"], sort=True)
            .agg(quantity=("quantity", "sum"), returned_at=("when", "min"))
            .reset_index()
        )
        returns["returned_at"] = pd.to_datetime(returns["returned_at"], utc=True)
        returns = returns[RETURN_COLUMNS]
    else:
        returns = empty_returns
    return (
        returns,
        pd.DataFrame(unmatched, columns=unmatched_columns),
        matched_rows,
    )

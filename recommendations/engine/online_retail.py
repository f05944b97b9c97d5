"""Reading and cleaning the UCI "Online Retail" file for rules and evaluation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recommendations.engine._validation import require_frame

#: Raw file columns. dtypes as read by ``read_online_retail``: InvoiceNo str,
#: StockCode str, Description str, Quantity int64, InvoiceDate datetime64,
#: UnitPrice float64, CustomerID Int64, Country str.
ONLINE_RETAIL_COLUMNS: tuple[str, ...] = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)

#: StockCodes that are fees, postage or adjustments rather than products.
NON_PRODUCT_CODES: frozenset[str] = frozenset(
    {"POST", "D", "M", "DOT", "BANK CHARGES", "C2", "PADS", "AMAZONFEE", "CRUK"}
    | {"S", "B"}
)
NON_PRODUCT_PREFIXES: tuple[str, ...] = ("gift_", "DCGS")

#: Cleaned transaction frame. dtypes: invoice str, customer_id int64, item str,
#: quantity int64, unit_price float64, invoiced_at datetime64 (naive, local time),
#: country str.
TRANSACTION_COLUMNS: tuple[str, ...] = (
    "invoice",
    "customer_id",
    "item",
    "quantity",
    "unit_price",
    "invoiced_at",
    "country",
)


def read_online_retail(path: str | Path) -> pd.DataFrame:
    """Read the raw Online Retail CSV (optionally gzipped) with stable dtypes."""
    return pd.read_csv(
        path,
        dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"},
        parse_dates=["InvoiceDate"],
    )


def clean_online_retail(raw: pd.DataFrame) -> pd.DataFrame:
    """Keep real purchases of real products by known customers.

    Drops cancellation invoices (InvoiceNo starting with "C"), rows without
    CustomerID, Quantity <= 0, UnitPrice <= 0 and non-product StockCodes
    (``NON_PRODUCT_CODES`` and codes starting with ``NON_PRODUCT_PREFIXES``).
    Returns a new frame with ``TRANSACTION_COLUMNS``.
    """
    require_frame(raw, name="raw", columns=ONLINE_RETAIL_COLUMNS)
    invoice = raw["InvoiceNo"].astype(str)
    code = raw["StockCode"].astype(str)
    keep = (
        ~invoice.str.startswith("C")
        & raw["CustomerID"].notna()
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
        & ~code.isin(NON_PRODUCT_CODES)
        & ~code.str.startswith(NON_PRODUCT_PREFIXES)
    )
    kept = raw.loc[keep]
    return pd.DataFrame(
        {
            "invoice": invoice[keep].to_numpy(dtype=object),
            "customer_id": kept["CustomerID"].astype("int64").to_numpy(),
            "item": code[keep].to_numpy(dtype=object),
            "quantity": kept["Quantity"].astype("int64").to_numpy(),
            "unit_price": kept["UnitPrice"].astype("float64").to_numpy(),
            "invoiced_at": pd.to_datetime(kept["InvoiceDate"]).to_numpy(),
            "country": kept["Country"].astype(str).to_numpy(dtype=object),
        }
    )

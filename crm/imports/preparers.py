"""Per-format preparation of an import: read, validate, plan, and bind the writer.

Reads the database only for lookups (store codes, SKUs, customer ids, field
lengths); all writes happen later, in ``PreparedImport.write``, inside the
service's transaction.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from django.conf import settings
from django.utils import timezone

from crm.imports import project
from crm.imports.online_retail import RETAIL_COLUMNS, UNMATCHED_LIST_LIMIT
from crm.imports.online_retail import plan_online_retail as plan_retail_frames
from crm.imports.prepared import PreparedImport, ProgressCallback
from crm.imports.reading import CsvFile, read_csv_file
from crm.imports.writers import (
    write_customers,
    write_online_retail,
    write_orders,
    write_products,
)
from crm.models import Channel, Customer, ImportJob, Order, Product, Store

ONLINE_RETAIL_TIME_ZONE = "Europe/London"
# Special-case counters of the Online Retail plan, in summary order.
RETAIL_SPECIAL_ROWS = {
    "duplicate_rows": "exact duplicate rows (dropped)",
    "stock_adjustment_rows": "negative quantity without C invoice (stock adjustment)",
    "negative_price_rows": "negative unit price (adjust bad debt)",
    "cancellation_rows_without_customer": "cancellation rows without CustomerID",
    "cancellation_rows_positive_quantity": "cancellation rows with positive quantity",
    "cancellation_rows_unmatched": (
        "cancellations without a matching purchase in the file"
    ),
}
RETAIL_FLAGS = {
    "anonymous_lines": "lines of anonymous orders (no CustomerID)",
    "charge_lines": "non-product lines (postage, fees, manual, discounts ...)",
    "zero_price_lines": "zero-price lines",
    "prices_rounded": "prices rounded to 2 decimals",
    "cancellation_rows_matched": "cancellation rows matched to purchases",
    "cancellations_partly_unmatched": "cancellation rows only partly matched",
}
SUMMARY_LABELS = {
    **RETAIL_SPECIAL_ROWS,
    **RETAIL_FLAGS,
    "rows_special": "rows of orders left out because another of their rows is invalid",
}


def prepare_import(
    job: ImportJob, *, time_zone: str | None, notify: ProgressCallback
) -> PreparedImport:
    """Read and validate the job's file in its format; nothing is written."""
    path = Path(job.file_path)
    if job.kind == ImportJob.Kind.ONLINE_RETAIL:
        return _prepare_online_retail(
            path, time_zone=time_zone or ONLINE_RETAIL_TIME_ZONE, notify=notify
        )
    preparers = {
        ImportJob.Kind.CUSTOMERS: _prepare_customers,
        ImportJob.Kind.PRODUCTS: _prepare_products,
        ImportJob.Kind.ORDERS: _prepare_orders,
    }
    return preparers[job.kind](
        path,
        time_zone=time_zone or settings.LADDER_IMPORT_ORDERS_TIME_ZONE,
        notify=notify,
    )


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def _prepare_online_retail(
    path: Path, *, time_zone: str, notify: ProgressCallback
) -> PreparedImport:
    csv_file: CsvFile = read_csv_file(path, required_columns=RETAIL_COLUMNS)
    notify(20, "validating")
    plan = plan_retail_frames(
        csv_file.frame,
        expected_fields=csv_file.expected_fields,
        time_zone=time_zone,
        max_lengths={
            "InvoiceNo": _max_length(Order, "number"),
            "StockCode": _max_length(Product, "sku"),
            "Description": _max_length(Product, "name"),
            "CustomerID": _max_length(Customer, "external_id"),
            "Country": _max_length(Customer, "country"),
        },
    )
    del csv_file.frame
    counts = plan.counts
    unmatched = plan.unmatched.head(UNMATCHED_LIST_LIMIT)
    return PreparedImport(
        errors=plan.errors,
        counts=counts,
        write=lambda progress: write_online_retail(plan, progress=progress),
        special={key: counts[key] for key in RETAIL_SPECIAL_ROWS},
        flags={key: counts[key] for key in RETAIL_FLAGS},
        file_counts={
            key: counts[key]
            for key in (
                "invoices",
                "orders",
                "anonymous_orders",
                "cancellation_invoices",
                "skipped_invoices",
                "adjustment_invoices",
                "customers",
                "customers_only_in_cancellations",
                "products",
                "charge_products",
                "products_without_description",
                "order_lines",
                "returns",
                "cancelled_quantity_matched",
                "cancelled_quantity_unmatched",
            )
        },
        details={
            "encoding": csv_file.encoding,
            "notes": csv_file.notes,
            "unmatched_cancellations_total": len(plan.unmatched),
            "unmatched_cancellations": [
                {
                    "line": int(row.line),
                    "invoice": row.reference,
                    "customer": row.customer,
                    "stock_code": row.sku,
                    "quantity": int(row.quantity),
                }
                for row in unmatched.itertuples(index=False)
            ],
        },
    )


def _max_lengths(model, mapping: dict[str, str]) -> dict[str, int]:
    """File column → max_length of the model field it lands in."""
    return {column: _max_length(model, name) for column, name in mapping.items()}


def _project_prepared(
    plan: project.ProjectPlan, csv_file: CsvFile, write
) -> PreparedImport:
    counts = plan.counts
    return PreparedImport(
        errors=plan.errors,
        counts=counts,
        write=lambda progress: write(plan, progress=progress),
        special={"rows_special": counts["rows_special"]}
        if counts["rows_special"]
        else {},
        file_counts={k: v for k, v in counts.items() if not k.startswith("rows_")},
        details={"encoding": csv_file.encoding, "notes": csv_file.notes},
    )


def _store_ids(codes) -> dict[str, int]:
    wanted = sorted({c.strip() for c in codes if c.strip()})
    return dict(Store.objects.filter(code__in=wanted).values_list("code", "id"))


def _prepare_customers(
    path: Path, *, time_zone: str, notify: ProgressCallback
) -> PreparedImport:
    csv_file = read_csv_file(
        path,
        required_columns=project.CUSTOMER_REQUIRED,
        optional_columns=project.CUSTOMER_OPTIONAL,
    )
    frame = csv_file.frame
    notify(20, "validating")
    lengths = _max_lengths(
        Customer,
        {
            c: c
            for c in (
                "external_id",
                "first_name",
                "last_name",
                "email",
                "phone",
                "postcode",
                "country",
                "loyalty_card",
            )
        },
    )
    lengths["consent_source"] = 64
    lengths["consent_wording_version"] = 32
    plan = project.plan_customers(
        frame,
        expected_fields=csv_file.expected_fields,
        max_lengths=lengths,
        store_ids=_store_ids(frame.get("home_store", [])),
        today=timezone.localdate(),
    )
    _reject_taken_loyalty_cards(plan, frame)
    return _project_prepared(plan, csv_file, write_customers)


def _reject_taken_loyalty_cards(plan: project.ProjectPlan, frame) -> None:
    """A loyalty card already held by another customer is a row error."""
    customers = plan.frames["customers"]
    if "loyalty_card" not in customers or customers.empty:
        return
    cards = customers.loc[customers["loyalty_card"] != ""]
    owners = dict(
        Customer.objects.filter(
            loyalty_card__in=cards["loyalty_card"].tolist()
        ).values_list("loyalty_card", "external_id")
    )
    taken = cards[
        cards["loyalty_card"].map(owners).notna()
        & (cards["loyalty_card"].map(owners) != cards["external_id"])
    ]
    if taken.empty:
        return
    lines = frame.loc[frame["external_id"].str.strip().isin(taken["external_id"])]
    extra = pd.DataFrame(
        {
            "line": lines["_line"].to_numpy(),
            "column": "loyalty_card",
            "code": "loyalty_card_taken",
            "message": "Another customer already holds this loyalty card.",
            "value": lines["loyalty_card"].to_numpy(),
        }
    )
    plan.errors = pd.concat([plan.errors, extra], ignore_index=True).sort_values(
        ["line", "column"], kind="stable"
    )
    plan.frames["customers"] = customers[
        ~customers["external_id"].isin(taken["external_id"])
    ].reset_index(drop=True)
    consents = plan.frames["consents"]
    plan.frames["consents"] = consents[
        ~consents["external_id"].isin(taken["external_id"])
    ]
    rejected = int(plan.errors["line"].nunique())
    plan.counts["rows_imported"] -= rejected - plan.counts["rows_rejected"]
    plan.counts["rows_rejected"] = rejected


def _prepare_products(
    path: Path, *, time_zone: str, notify: ProgressCallback
) -> PreparedImport:
    csv_file = read_csv_file(
        path,
        required_columns=project.PRODUCT_REQUIRED,
        optional_columns=project.PRODUCT_OPTIONAL,
    )
    notify(20, "validating")
    lengths = _max_lengths(Product, {"sku": "sku", "name": "name"})
    lengths["category"] = 120
    plan = project.plan_products(
        csv_file.frame,
        expected_fields=csv_file.expected_fields,
        max_lengths=lengths,
        kinds=list(Product.Kind.values),
        seasons=list(Product.Season.values),
    )
    return _project_prepared(plan, csv_file, write_products)


def _prepare_orders(
    path: Path, *, time_zone: str, notify: ProgressCallback
) -> PreparedImport:
    csv_file = read_csv_file(
        path,
        required_columns=project.ORDER_REQUIRED,
        optional_columns=project.ORDER_OPTIONAL,
    )
    frame = csv_file.frame
    notify(20, "validating")
    customer_keys = sorted(
        set(frame.get("customer_external_id", pd.Series(dtype=str)).str.strip()) - {""}
    )
    customer_ids = dict(
        Customer.objects.filter(external_id__in=customer_keys).values_list(
            "external_id", "id"
        )
    )
    skus = sorted(set(frame["sku"].str.strip()) - {""})
    prices = {
        sku: str(price)
        for sku, price in Product.objects.filter(sku__in=skus).values_list(
            "sku", "price"
        )
    }
    plan = project.plan_orders(
        frame,
        expected_fields=csv_file.expected_fields,
        max_lengths={"order_number": _max_length(Order, "number"), "sku": 40},
        time_zone=time_zone,
        customer_ids=customer_ids,
        store_ids=_store_ids(frame.get("store_code", [])),
        product_prices=prices,
        channels=list(Channel.values),
        statuses=list(Order.Status.values),
    )
    return _project_prepared(plan, csv_file, write_orders)

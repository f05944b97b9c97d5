"""Write planned import frames with bulk upserts (the only ORM-aware import code).

Each writer takes frames built by the pure planners and returns per-table
``{"inserted": n, "updated": n}``. They must run inside the caller's
``transaction.atomic()``; natural keys and their database constraints make
every write an idempotent upsert.
"""

from __future__ import annotations

import pandas as pd
from django.utils import timezone

from crm.bulk import UpsertResult, bulk_upsert, fetch_ids
from crm.imports.online_retail import RetailPlan
from crm.imports.prepared import ProgressCallback
from crm.imports.project import ProjectPlan
from crm.models import (
    Category,
    Channel,
    ChannelConsent,
    ConsentEvent,
    Customer,
    Order,
    OrderLine,
    Product,
    Return,
)

CUSTOMER_KEY_PREDICATE = "NOT (\"external_id\" = '')"
RETURN_KEY_PREDICATE = "NOT (\"reference\" = '')"
# Keep the earliest first-purchase date known, whichever import brought it.
EARLIEST = "CASE WHEN {old} IS NULL OR {new} < {old} THEN {new} ELSE {old} END"
IMPORT_SOURCE = "import"


def _tally(result: UpsertResult) -> dict[str, int]:
    return {"inserted": result.inserted, "updated": result.updated}


def write_online_retail(
    plan: RetailPlan, *, progress: ProgressCallback | None = None
) -> dict[str, dict[str, int]]:
    """Upsert the plan's customers, products, orders, lines and returns.

    Customers get no consent rows (PRIV-01: nothing in the file is consent
    evidence). Orders are web orders with no store. ``progress`` hears about
    each table (60–95 %).
    """
    report = progress or (lambda percent, stage: None)
    written: dict[str, dict[str, int]] = {}
    report(62, "writing customers")
    customers = pd.DataFrame(
        {
            "external_id": plan.customers["external_id"],
            "country": plan.customers["country"],
            "status": Customer.Status.CUSTOMER.value,
            "became_customer_at": plan.customers["became_customer_at"],
            "acquisition_source": IMPORT_SOURCE,
        }
    )
    written["customers"] = _tally(
        bulk_upsert(
            model=Customer,
            rows=customers,
            unique_fields=["external_id"],
            conflict_where=CUSTOMER_KEY_PREDICATE,
            update_fields=["country", "status", "became_customer_at"],
            update_expressions={"became_customer_at": EARLIEST},
        )
    )
    products = pd.DataFrame(
        {
            "sku": plan.products["sku"],
            "name": plan.products["name"],
            "price": plan.products["price"],
            "kind": plan.products["is_charge"].map(
                {True: Product.Kind.CHARGE.value, False: Product.Kind.PRODUCT.value}
            ),
        }
    )
    written["products"] = _tally(
        bulk_upsert(
            model=Product,
            rows=products,
            unique_fields=["sku"],
            update_fields=["name", "price", "kind"],
        )
    )
    customer_ids = _id_map(Customer, "external_id", plan.customers["external_id"])
    product_ids = _id_map(Product, "sku", plan.products["sku"])

    report(66, "writing orders")
    orders = pd.DataFrame(
        {
            "number": plan.orders["number"],
            "customer_id": plan.orders["customer_external_id"]
            .map(customer_ids)
            .astype("Int64"),
            "channel": Channel.WEB.value,
            "status": Order.Status.PLACED.value,
            "placed_at": plan.orders["placed_at"],
        }
    )
    written["orders"] = _tally(
        bulk_upsert(
            model=Order,
            rows=orders,
            unique_fields=["number"],
            update_fields=["customer_id", "placed_at"],
        )
    )
    order_ids = _id_map(Order, "number", plan.orders["number"])

    report(70, "writing order lines")
    lines = pd.DataFrame(
        {
            "order_id": plan.lines["number"].map(order_ids).astype("int64"),
            "line_no": plan.lines["line_no"].astype("int64"),
            "product_id": plan.lines["sku"].map(product_ids).astype("int64"),
            "quantity": plan.lines["quantity"].astype("int64"),
            "unit_price": plan.lines["unit_price"],
            "returned_quantity": plan.lines["returned_quantity"].astype("int64"),
        }
    )
    written["order_lines"] = _tally(
        bulk_upsert(
            model=OrderLine,
            rows=lines,
            unique_fields=["order_id", "line_no"],
            update_fields=["product_id", "quantity", "unit_price", "returned_quantity"],
        )
    )
    del lines

    report(95, "writing returns")
    returns = plan.returns.assign(
        order_id=plan.returns["number"].map(order_ids).astype("int64")
    )
    line_ids = fetch_ids(
        model=OrderLine,
        keys=returns[["order_id", "line_no"]].drop_duplicates().astype("int64"),
    )
    returns = returns.merge(line_ids, on=["order_id", "line_no"], how="inner")
    written["returns"] = _tally(
        bulk_upsert(
            model=Return,
            rows=pd.DataFrame(
                {
                    "line_id": returns["id"].astype("int64"),
                    "reference": returns["reference"],
                    "kind": Return.Kind.CANCELLATION.value,
                    "quantity": returns["quantity"].astype("int64"),
                    "returned_at": returns["returned_at"],
                }
            ),
            unique_fields=["reference", "line_id"],
            conflict_where=RETURN_KEY_PREDICATE,
            update_fields=["kind", "quantity", "returned_at"],
        )
    )
    return written


def _id_map(model, key: str, values: pd.Series) -> pd.Series:
    """Natural key → id for the given keys (one query per table on PostgreSQL)."""
    keys = pd.DataFrame({key: pd.unique(values[values != ""].to_numpy())})
    found = fetch_ids(model=model, keys=keys)
    return found.set_index(key)["id"]


def write_customers(
    plan: ProjectPlan, *, progress: ProgressCallback | None = None
) -> dict[str, dict[str, int]]:
    """Upsert customers, then record consent statements that change something.

    A consent cell is evidence only when it changes the current state: a
    ChannelConsent row is upserted and one ConsentEvent appended (PRIV-01). A
    "no" for a customer with no consent on that channel writes nothing (no row
    already means no consent), so re-importing the file appends no event.
    """
    customers = plan.frames["customers"].assign(acquisition_source=IMPORT_SOURCE)
    written = {
        "customers": _tally(
            bulk_upsert(
                model=Customer,
                rows=customers,
                unique_fields=["external_id"],
                conflict_where=CUSTOMER_KEY_PREDICATE,
                update_fields=plan.update_fields,
            )
        )
    }
    consents = plan.frames["consents"]
    written["consents"] = {"inserted": 0, "updated": 0}
    written["consent_events"] = {"inserted": 0, "updated": 0}
    if consents.empty:
        return written
    customer_ids = _id_map(Customer, "external_id", consents["external_id"])
    consents = consents.assign(customer_id=consents["external_id"].map(customer_ids))
    current = pd.DataFrame.from_records(
        ChannelConsent.objects.filter(
            customer_id__in=consents["customer_id"].unique().tolist()
        ).values("customer_id", "channel", "granted"),
        columns=["customer_id", "channel", "granted"],
    ).rename(columns={"granted": "current"})
    merged = consents.merge(current, on=["customer_id", "channel"], how="left")
    has_current = merged["current"].notna()
    changes = merged[
        (~has_current & merged["granted"])
        | (has_current & (merged["current"].astype("boolean") != merged["granted"]))
    ]
    if changes.empty:
        return written
    now = timezone.now()
    written["consents"] = _tally(
        bulk_upsert(
            model=ChannelConsent,
            rows=pd.DataFrame(
                {
                    "customer_id": changes["customer_id"].astype("int64"),
                    "channel": changes["channel"],
                    "granted": changes["granted"].astype(bool),
                    "legal_basis": ChannelConsent.LegalBasis.CONSENT.value,
                    "source": changes["source"],
                    "changed_at": pd.Timestamp(now),
                }
            ),
            unique_fields=["customer_id", "channel"],
            update_fields=["granted", "legal_basis", "source", "changed_at"],
        )
    )
    events = ConsentEvent.objects.bulk_create(
        ConsentEvent(
            customer_id=int(row.customer_id),
            channel=row.channel,
            action=(
                ConsentEvent.Action.GRANTED
                if row.granted
                else ConsentEvent.Action.WITHDRAWN
            ),
            legal_basis=ChannelConsent.LegalBasis.CONSENT,
            source=row.source,
            wording_version=row.wording_version,
            occurred_at=now,
        )
        for row in changes.itertuples(index=False)
    )
    written["consent_events"] = {"inserted": len(events), "updated": 0}
    return written


def write_products(
    plan: ProjectPlan, *, progress: ProgressCallback | None = None
) -> dict[str, dict[str, int]]:
    """Create missing categories (by slug), then upsert products by SKU."""
    categories = plan.frames["categories"]
    written = {
        "categories": _tally(
            bulk_upsert(
                model=Category,
                rows=categories.assign(
                    name=categories["slug"]
                    .str.replace(r"[-_]+", " ", regex=True)
                    .str.strip()
                    .str.capitalize()
                ),
                unique_fields=["slug"],
                update_fields=[],
            )
        )
    }
    products = plan.frames["products"]
    if "category_slug" in products:
        category_ids = _id_map(Category, "slug", products["category_slug"])
        products = products.assign(
            category_id=products["category_slug"].map(category_ids).astype("Int64")
        ).drop(columns=["category_slug"])
    written["products"] = _tally(
        bulk_upsert(
            model=Product,
            rows=products,
            unique_fields=["sku"],
            update_fields=plan.update_fields,
        )
    )
    return written


def write_orders(
    plan: ProjectPlan, *, progress: ProgressCallback | None = None
) -> dict[str, dict[str, int]]:
    """Upsert orders and their lines; their customers become customers.

    Bulk imports do not send ``order_committed``: recompute ladders and
    suggestions after a large import instead of once per order.
    """
    orders = plan.frames["orders"]
    written = {
        "orders": _tally(
            bulk_upsert(
                model=Order,
                rows=orders,
                unique_fields=["number"],
                update_fields=[
                    "customer_id",
                    "store_id",
                    "channel",
                    "status",
                    "placed_at",
                ],
            )
        )
    }
    lines = plan.frames["lines"]
    order_ids = _id_map(Order, "number", orders["number"])
    product_ids = _id_map(Product, "sku", lines["sku"])
    written["order_lines"] = _tally(
        bulk_upsert(
            model=OrderLine,
            rows=pd.DataFrame(
                {
                    "order_id": lines["number"].map(order_ids).astype("int64"),
                    "line_no": lines["line_no"].astype("int64"),
                    "product_id": lines["sku"].map(product_ids).astype("int64"),
                    "quantity": lines["quantity"].astype("int64"),
                    "unit_price": lines["unit_price"],
                }
            ),
            unique_fields=["order_id", "line_no"],
            update_fields=["product_id", "quantity", "unit_price"],
        )
    )
    first_orders = plan.frames["first_orders"]
    bulk_upsert(
        model=Customer,
        rows=first_orders.assign(status=Customer.Status.CUSTOMER.value),
        unique_fields=["external_id"],
        conflict_where=CUSTOMER_KEY_PREDICATE,
        update_fields=["status", "became_customer_at"],
        update_expressions={"became_customer_at": EARLIEST},
    )
    return written

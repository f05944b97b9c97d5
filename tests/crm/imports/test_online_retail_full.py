"""The whole shared Online Retail file: one import and one re-import.

Slow (tens of seconds), so a developer's ``make test`` runs it only when
selected (``-m shared_data`` or ``LADDER_FULL_IMPORT=1``); CI (``CI=true``)
always runs it. Run it against PostgreSQL, where it counts:
``DATABASE_URL=postgres://… pytest -m shared_data tests/crm/imports``.
"""

from __future__ import annotations

import gzip
import os

import pandas as pd
import pytest

from crm.models import Customer, ImportJob, Order, OrderLine, Product, Return
from crm.services.imports import create_import_job, run_import_job

pytestmark = [pytest.mark.django_db, pytest.mark.shared_data]


@pytest.fixture
def selected(request):
    markexpr = request.config.getoption("-m") or ""
    wanted = (
        "shared_data" in markexpr
        or os.environ.get("LADDER_FULL_IMPORT") == "1"
        or os.environ.get("CI", "").lower() == "true"
    )
    if not wanted:
        pytest.skip("slow: select with -m shared_data or LADDER_FULL_IMPORT=1")


def test_full_file_imports_with_consistent_counts_and_reimports_nothing(
    selected, online_retail_file
):
    # given: the file's own figures, computed independently with pandas
    with gzip.open(online_retail_file, "rt", encoding="utf-8") as handle:
        raw = pd.read_csv(handle, dtype=str, keep_default_na=False)
    invoices = raw["InvoiceNo"].nunique()
    customers = raw.loc[raw["CustomerID"] != "", "CustomerID"].nunique()
    cancellation_invoices = raw.loc[
        raw["InvoiceNo"].str.startswith("C"), "InvoiceNo"
    ].nunique()
    del raw

    # when
    job = create_import_job(
        kind=ImportJob.Kind.ONLINE_RETAIL,
        file_path=online_retail_file,
        file_name=online_retail_file.name,
        skip_invalid=False,
    )
    job = run_import_job(job_id=job.pk)

    # then
    assert job.status == ImportJob.Status.DONE, job.message
    summary, counts = job.summary, job.summary["file_counts"]
    assert summary["rows"]["read"] == 541_909
    assert summary["rows"]["rejected"] == 0
    assert summary["rows"]["imported"] + summary["rows"]["special"] == 541_909
    assert summary["special"]["duplicate_rows"] == 5_268
    assert invoices == 25_900
    assert counts["invoices"] == invoices
    assert counts["cancellation_invoices"] == cancellation_invoices
    assert invoices == (
        counts["orders"] + counts["cancellation_invoices"] + counts["skipped_invoices"]
    )
    assert counts["adjustment_invoices"] == 3
    assert customers == 4_372
    assert Customer.objects.count() == counts["customers"] == customers
    assert Order.objects.count() == counts["orders"]
    assert (
        Order.objects.filter(customer__isnull=True).count()
        == counts["anonymous_orders"]
    )
    assert Product.objects.count() == counts["products"]
    assert OrderLine.objects.count() == counts["order_lines"]
    assert Return.objects.count() == counts["returns"]
    flags, special = summary["flags"], summary["special"]
    assert summary["rows"]["imported"] == (
        counts["order_lines"] + flags["cancellation_rows_matched"]
    )
    assert summary["rows"]["special"] == sum(special.values())
    assert (
        OrderLine.objects.filter(order__customer__isnull=True).count()
        == flags["anonymous_lines"]
    )
    assert (
        Product.objects.filter(kind=Product.Kind.CHARGE).count()
        == counts["charge_products"]
    )

    # when: the same file again, really re-processed
    again = create_import_job(
        kind=ImportJob.Kind.ONLINE_RETAIL,
        file_path=online_retail_file,
        file_name=online_retail_file.name,
        skip_invalid=False,
    )
    again = run_import_job(job_id=again.pk, force=True)

    # then
    assert again.status == ImportJob.Status.DONE
    assert again.summary["added"] == 0
    assert all(table["updated"] == 0 for table in again.summary["written"].values())

"""import_online_retail: the messy-data policy, all-or-nothing, idempotency."""

from __future__ import annotations

import csv
import io
import random
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from crm.models import (
    ChannelConsent,
    Customer,
    ImportJob,
    Order,
    OrderLine,
    Product,
    Return,
)
from crm.services.imports import create_import_job, run_import_job

from .conftest import RETAIL_HEADER, write_retail

pytestmark = pytest.mark.django_db

MODELS = (Customer, Product, Order, OrderLine, Return)


def db_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def db_state() -> dict[str, list]:
    """Every imported row by natural key (ids left out), to compare runs."""
    return {
        "customers": sorted(
            Customer.objects.values_list(
                "external_id", "country", "status", "became_customer_at"
            )
        ),
        "products": sorted(Product.objects.values_list("sku", "name", "price", "kind")),
        "orders": sorted(
            Order.objects.values_list(
                "number", "customer__external_id", "placed_at", "channel"
            )
        ),
        "lines": sorted(
            OrderLine.objects.values_list(
                "order__number",
                "line_no",
                "product__sku",
                "quantity",
                "unit_price",
                "returned_quantity",
            )
        ),
        "returns": sorted(
            Return.objects.values_list(
                "reference", "line__order__number", "line__line_no", "quantity", "kind"
            )
        ),
    }


def import_file(path, *, skip_invalid=False, force=False) -> ImportJob:
    job = create_import_job(
        kind=ImportJob.Kind.ONLINE_RETAIL,
        file_path=path,
        file_name=path.name,
        skip_invalid=skip_invalid,
    )
    return run_import_job(job_id=job.pk, force=force)


@pytest.fixture
def messy_job(fixture_path):
    return import_file(fixture_path("retail_messy.csv"), skip_invalid=True)


def test_messy_file_is_rejected_whole_by_default(fixture_path, run_command, tmp_path):
    # given
    report = tmp_path / "report.csv"
    # when
    with pytest.raises(CommandError, match="2 invalid row"):
        run_command(
            "import_online_retail",
            str(fixture_path("retail_messy.csv")),
            "--report",
            str(report),
        )
    # then
    assert db_counts() == dict.fromkeys(db_counts(), 0)
    rows = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert [(r["line"], r["column"], r["code"]) for r in rows] == [
        ("17", "Description", "nul"),
        ("18", "Description", "too_long"),
    ]
    assert rows[0]["value"] == "HAND\\0WARMER"
    assert "10240 characters" in rows[1]["value"]
    assert ImportJob.objects.get().status == ImportJob.Status.REJECTED


def test_bom_header_is_read(messy_job):
    assert messy_job.status == ImportJob.Status.DONE, messy_job.message
    assert messy_job.summary["encoding"] == "utf-8"


def test_rows_add_up(messy_job):
    assert messy_job.summary["rows"] == {
        "read": 17,
        "imported": 10,
        "special": 5,
        "rejected": 2,
    }
    assert messy_job.summary["rejected"] == {"nul": 1, "too_long": 1}


def test_invalid_rows_are_reported_but_valid_ones_imported(messy_job):
    assert not Order.objects.filter(number__in=["536006", "536007"]).exists()
    assert "17,Description,nul" in messy_job.error_report


def test_exact_duplicate_rows_are_dropped(messy_job):
    assert messy_job.summary["special"]["duplicate_rows"] == 1
    lanterns = OrderLine.objects.filter(order__number="536001", product__sku="71053")
    assert [line.quantity for line in lanterns] == [6]


def test_invoices_add_up(messy_job):
    counts = messy_job.summary["file_counts"]
    assert counts["invoices"] == 10
    assert counts["orders"] == Order.objects.count() == 5
    assert counts["cancellation_invoices"] == 3
    assert counts["skipped_invoices"] == 2
    assert counts["invoices"] == (
        counts["orders"] + counts["cancellation_invoices"] + counts["skipped_invoices"]
    )


def test_c_invoice_cancels_the_most_recent_purchases_first(messy_job):
    returns = {
        (r.line.order.number, r.line.product.sku): r
        for r in Return.objects.select_related("line__order", "line__product")
    }
    assert set(returns) == {("536004", "85123A"), ("536001", "85123A")}
    assert returns[("536004", "85123A")].quantity == 10
    assert returns[("536001", "85123A")].quantity == 2
    assert {r.kind for r in returns.values()} == {Return.Kind.CANCELLATION}
    assert {r.reference for r in returns.values()} == {"C536010"}
    assert (
        OrderLine.objects.get(
            order__number="536004", product__sku="85123A"
        ).returned_quantity
        == 10
    )


def test_cancellation_without_a_purchase_is_counted_and_listed(messy_job):
    assert messy_job.summary["special"]["cancellation_rows_unmatched"] == 1
    assert messy_job.summary["unmatched_cancellations"] == [
        {
            "line": 14,
            "invoice": "C536012",
            "customer": "17850",
            "stock_code": "90000",
            "quantity": 4,
        }
    ]
    assert not Product.objects.filter(sku="90000").exists()


def test_cancellation_without_customer_is_counted(messy_job):
    assert messy_job.summary["special"]["cancellation_rows_without_customer"] == 1


def test_blank_customer_makes_an_anonymous_order(messy_job):
    order = Order.objects.get(number="536003")
    assert order.customer is None
    assert order.lines.count() == 2
    assert messy_job.summary["flags"]["anonymous_lines"] == 2
    assert messy_job.summary["file_counts"]["anonymous_orders"] == 1


def test_negative_quantity_without_c_is_a_skipped_stock_adjustment(messy_job):
    assert messy_job.summary["special"]["stock_adjustment_rows"] == 1
    assert not Order.objects.filter(number="536020").exists()


def test_negative_price_adjustment_invoice_is_skipped(messy_job):
    assert messy_job.summary["special"]["negative_price_rows"] == 1
    assert messy_job.summary["file_counts"]["adjustment_invoices"] == 1
    assert not Order.objects.filter(number="A536030").exists()
    assert not Product.objects.filter(sku="B").exists()


def test_zero_price_line_is_kept_and_counted(messy_job):
    line = OrderLine.objects.get(order__number="536003", product__sku="21777")
    assert line.unit_price == Decimal("0.00")
    assert messy_job.summary["flags"]["zero_price_lines"] == 1


def test_non_product_codes_become_charges(messy_job):
    charges = Product.objects.filter(kind=Product.Kind.CHARGE)
    assert sorted(charges.values_list("sku", flat=True)) == ["M", "POST"]
    assert messy_job.summary["flags"]["charge_lines"] == 2
    assert OrderLine.objects.filter(product__sku="POST").get().unit_price == Decimal(
        "18.00"
    )


def test_customer_ids_keep_leading_zeros_and_lose_float_suffix(messy_job):
    ids = set(Customer.objects.values_list("external_id", flat=True))
    assert ids == {"17850", "00123", "12583"}
    customer = Customer.objects.get(external_id="00123")
    assert customer.country == "France"
    assert customer.status == Customer.Status.CUSTOMER
    assert customer.acquisition_source == "import"


def test_imported_customers_get_no_consent(messy_job):
    assert not ChannelConsent.objects.exists()


def test_formula_text_is_stored_as_data(messy_job):
    assert Product.objects.get(sku="21777").name == '=HYPERLINK("http://evil","x")'


def test_line_numbers_follow_stock_code_order(messy_job):
    lines = OrderLine.objects.filter(order__number="536001").order_by("line_no")
    assert [line.product.sku for line in lines] == ["71053", "85123A", "POST"]


def test_local_times_are_read_in_london(messy_job):
    order = Order.objects.get(number="536001")
    assert order.placed_at.isoformat() == "2010-12-01T08:26:00+00:00"


def test_latin1_file_is_imported_with_a_note(fixture_path):
    job = import_file(fixture_path("retail_latin1.csv"))
    assert job.status == ImportJob.Status.DONE
    assert Product.objects.get(sku="84997B").name == "CAFÉ CRÈME MUG"
    assert "not valid UTF-8" in job.summary["notes"][0]


def test_reimport_adds_nothing_and_keeps_updated_at(fixture_path):
    # given
    first = import_file(fixture_path("retail_messy.csv"), skip_invalid=True)
    before = db_state()
    stamps = sorted(Product.objects.values_list("sku", "updated_at"))
    customer_stamps = sorted(Customer.objects.values_list("external_id", "updated_at"))
    # when
    skipped = import_file(fixture_path("retail_messy.csv"), skip_invalid=True)
    forced = import_file(
        fixture_path("retail_messy.csv"), skip_invalid=True, force=True
    )
    # then
    assert first.summary["added"] > 0
    assert skipped.status == ImportJob.Status.SKIPPED
    assert forced.status == ImportJob.Status.DONE
    assert forced.summary["added"] == 0
    assert all(w["updated"] == 0 for w in forced.summary["written"].values())
    assert db_state() == before
    assert sorted(Product.objects.values_list("sku", "updated_at")) == stamps
    assert (
        sorted(Customer.objects.values_list("external_id", "updated_at"))
        == customer_stamps
    )


def test_shuffled_rows_give_the_same_database(
    fixture_path, tmp_path, django_db_blocker
):
    # given
    lines = (
        fixture_path("retail_messy.csv").read_text(encoding="utf-8-sig").splitlines()
    )
    header, body = lines[0], lines[1:]
    shuffled = body[:]
    random.Random(7).shuffle(shuffled)
    # when
    import_file(
        write_retail(tmp_path / "a.csv", body, header=header), skip_invalid=True
    )
    original = db_state()
    for model in (Return, OrderLine, Order, Customer, Product):
        model.objects.all().delete()
    import_file(
        write_retail(tmp_path / "b.csv", shuffled, header=header), skip_invalid=True
    )
    # then
    assert db_state() == original


def test_bad_row_in_the_middle_writes_nothing(tmp_path, run_command):
    # given
    rows = [
        f"5{n:05d},SKU{n % 7},THING {n % 7},{n % 5 + 1},2011-01-01 10:00:00,1.50,"
        f"{12000 + n % 30},United Kingdom"
        for n in range(200)
    ]
    rows[99] = rows[99].replace("2011-01-01 10:00:00", "2011-13-45 99:00")
    path = write_retail(tmp_path / "malformed.csv", rows)
    # when
    with pytest.raises(CommandError, match="1 invalid row"):
        run_command("import_online_retail", str(path))
    # then
    assert db_counts() == dict.fromkeys(db_counts(), 0)
    report = (tmp_path / "malformed.errors.csv").read_text(encoding="utf-8")
    assert "101,InvoiceDate,bad_date" in report


def test_skip_invalid_imports_the_valid_rows(tmp_path, run_command):
    rows = [
        "1001,A1,THING,2,2011-01-01 10:00:00,1.50,12000,United Kingdom",
        "1002,A1,THING,two,2011-01-01 10:00:00,1.50,12000,United Kingdom",
        "1003,A1,THING,0,2011-01-01 10:00:00,abc,12000,United Kingdom",
    ]
    path = write_retail(tmp_path / "some_bad.csv", rows)
    out = run_command("import_online_retail", str(path), "--skip-invalid")
    assert list(Order.objects.values_list("number", flat=True)) == ["1001"]
    assert "rejected 2" in out
    report = (tmp_path / "some_bad.errors.csv").read_text(encoding="utf-8")
    assert "3,Quantity,not_integer" in report
    assert "4,Quantity,zero_quantity" in report
    assert "4,UnitPrice,not_decimal" in report


def test_truncated_copy_is_refused_and_writes_nothing(tmp_path, run_command):
    rows = [
        "1001,A1,THING,2,2011-01-01 10:00:00,1.50,12000,United Kingdom",
        "1002,A2,OTHER,2,2011-01-01 10:00:00,1.50,12000,United Kingdom",
    ]
    path = tmp_path / "cut.csv"
    path.write_text(
        RETAIL_HEADER + "\n" + rows[0] + "\n" + rows[1][:25], encoding="utf-8"
    )
    with pytest.raises(CommandError, match="1 invalid row"):
        run_command("import_online_retail", str(path))
    assert db_counts() == dict.fromkeys(db_counts(), 0)
    report = (tmp_path / "cut.errors.csv").read_text(encoding="utf-8")
    assert "3,*,field_count" in report


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("nocol.csv", b"InvoiceNo,StockCode\n1,2\n", "missing column"),
        ("cut.csv.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff\xcb", "truncated"),
    ],
)
def test_unusable_file_stops_with_a_message(
    tmp_path, run_command, name, content, message
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run_command("import_online_retail", str(path))
    assert db_counts() == dict.fromkeys(db_counts(), 0)


def test_missing_file_stops_before_creating_a_job(tmp_path, run_command):
    with pytest.raises(CommandError, match="no such file"):
        run_command("import_online_retail", str(tmp_path / "nope.csv"))
    assert not ImportJob.objects.exists()


def test_command_prints_the_summary(fixture_path, run_command):
    out = run_command("import_online_retail", str(fixture_path("retail_latin1.csv")))
    assert "rows read 2: imported 2, handled specially 0, rejected 0" in out
    assert "orders: +1 / ~0" in out

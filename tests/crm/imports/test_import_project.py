"""import_csv customers|products|orders: the project's own formats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from crm.models import (
    Category,
    ChannelConsent,
    ConsentEvent,
    Customer,
    Order,
    OrderLine,
    Product,
)
from tests.crm.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

CUSTOMER_HEADER = "external_id,email,email_consent,sms_consent,consent_source"


@pytest.fixture
def imported_customers(store_a, store_b, fixture_path, run_command):
    run_command("import_csv", "customers", str(fixture_path("customers.csv")))


@pytest.fixture
def imported_catalogue(fixture_path, run_command):
    run_command("import_csv", "products", str(fixture_path("products.csv")))


def test_customers_are_normalised(imported_customers, store_a):
    anna = Customer.objects.get(external_id="C001")
    assert anna.email == "anna.rossi@example.com"
    assert anna.phone == "+390612345678"
    assert anna.birth_date == dt.date(1980, 4, 30)
    assert anna.home_store == store_a
    assert anna.loyalty_card == "L-0001"
    assert anna.latitude == Decimal("41.900000")
    assert anna.preferred_channel == "email"
    assert anna.preferred_channel_source == "declared"
    assert anna.status == Customer.Status.PROSPECT
    assert anna.acquisition_source == "import"
    assert Customer.objects.filter(external_id="00C4").exists()


def test_formula_looking_names_are_stored_as_data(imported_customers):
    assert Customer.objects.get(external_id="C003").first_name == "=cmd|' /C calc'!A0"


def test_consent_yes_records_evidence(imported_customers):
    consents = sorted(
        ChannelConsent.objects.values_list(
            "customer__external_id", "channel", "granted"
        )
    )
    assert consents == [("C001", "email", True), ("C002", "sms", True)]
    event = ConsentEvent.objects.get(customer__external_id="C001")
    assert (event.action, event.source, event.wording_version) == (
        ConsentEvent.Action.GRANTED,
        "shop form",
        "v2",
    )


def test_no_consent_column_means_no_consent(imported_customers):
    assert not ChannelConsent.objects.filter(customer__external_id="C003").exists()
    assert not ChannelConsent.objects.filter(
        customer__external_id="C002", channel="email"
    ).exists()


def test_customer_reimport_adds_no_evidence(
    imported_customers, fixture_path, run_command
):
    stamps = sorted(Customer.objects.values_list("external_id", "updated_at"))
    out = run_command(
        "import_csv", "customers", str(fixture_path("customers.csv")), "--force"
    )
    assert "0 database row(s) added" in out
    assert ConsentEvent.objects.count() == 2
    assert sorted(Customer.objects.values_list("external_id", "updated_at")) == stamps


def test_consent_no_withdraws_with_evidence(imported_customers, tmp_path, run_command):
    path = tmp_path / "withdraw.csv"
    path.write_text(
        CUSTOMER_HEADER + "\nC001,anna.rossi@example.com,no,,phone call\n",
        encoding="utf-8",
    )
    run_command("import_csv", "customers", str(path))
    consent = ChannelConsent.objects.get(customer__external_id="C001", channel="email")
    assert consent.granted is False
    latest = ConsentEvent.objects.filter(customer__external_id="C001").first()
    assert (latest.action, latest.source) == (
        ConsentEvent.Action.WITHDRAWN,
        "phone call",
    )


def test_invalid_customers_write_nothing(tmp_path, run_command):
    path = tmp_path / "bad.csv"
    path.write_text(
        CUSTOMER_HEADER + "\n"
        "K1,ok@example.com,yes,,form\n"
        "K2,not-an-email,,,\n"
        "K3,k3@example.com,perhaps,,form\n"
        "K4,k4@example.com,yes,,\n"
        "K1,dup@example.com,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="4 invalid row"):
        run_command("import_csv", "customers", str(path))
    assert not Customer.objects.exists()
    report = (tmp_path / "bad.errors.csv").read_text(encoding="utf-8")
    for expected in (
        "3,email,email",
        "4,email_consent,choice",
        "5,consent_source,required",
        "6,external_id,duplicate_key",
    ):
        assert expected in report


def test_loyalty_card_of_another_customer_is_rejected(tmp_path, run_command):
    CustomerFactory(external_id="OLD", loyalty_card="CARD-1")
    path = tmp_path / "cards.csv"
    path.write_text("external_id,loyalty_card\nNEW,CARD-1\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 invalid row"):
        run_command("import_csv", "customers", str(path))
    assert "loyalty_card_taken" in (tmp_path / "cards.errors.csv").read_text()


def test_products_and_categories(imported_catalogue):
    shoe = Product.objects.get(sku="P-100")
    assert (shoe.price, shoe.unit_cost, shoe.category.slug) == (
        Decimal("89.90"),
        Decimal("40.00"),
        "running-shoes",
    )
    assert Product.objects.get(sku="P-200").is_consumable is True
    assert Product.objects.get(sku="SHIP").kind == Product.Kind.CHARGE
    jacket = Product.objects.get(sku="P-300")
    assert (jacket.kind, jacket.price, jacket.active, jacket.season) == (
        Product.Kind.PRODUCT,
        Decimal("149.00"),
        False,
        Product.Season.AUTUMN_WINTER,
    )
    assert Category.objects.count() == 3


def test_product_reimport_changes_only_what_changed(
    imported_catalogue, tmp_path, run_command
):
    stamps = dict(Product.objects.values_list("sku", "updated_at"))
    path = tmp_path / "prices.csv"
    path.write_text("sku,name,price\nP-100,Trail shoe,99.00\nP-200,Energy gel,2.50\n")
    out = run_command("import_csv", "products", str(path))
    assert "products: +0 / ~1" in out
    assert Product.objects.get(sku="P-100").price == Decimal("99.00")
    assert Product.objects.get(sku="P-100").category.slug == "running-shoes"
    assert Product.objects.get(sku="P-200").updated_at == stamps["P-200"]


def test_orders_with_lines(
    imported_customers, imported_catalogue, fixture_path, run_command
):
    out = run_command("import_csv", "orders", str(fixture_path("orders.csv")))
    assert "imported 4" in out
    first = Order.objects.get(number="ORD-1")
    assert [
        (ln.product.sku, ln.quantity, ln.unit_price) for ln in first.lines.all()
    ] == [
        ("P-100", 1, Decimal("79.90")),
        ("P-200", 3, Decimal("2.50")),
    ]
    assert first.placed_at == dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC)
    assert Order.objects.get(number="ORD-2").customer is None
    assert Order.objects.get(number="ORD-3").channel == "web"
    anna = Customer.objects.get(external_id="C001")
    assert anna.status == Customer.Status.CUSTOMER
    assert anna.became_customer_at == first.placed_at
    # re-import: nothing added
    again = run_command(
        "import_csv", "orders", str(fixture_path("orders.csv")), "--force"
    )
    assert "0 database row(s) added" in again
    assert OrderLine.objects.count() == 4


def test_order_rows_with_unknown_references_are_rejected(tmp_path, run_command):
    ProductFactory(sku="P-1")
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_number,customer_external_id,placed_at,sku,quantity\n"
        "O1,,2024-01-01T10:00,P-1,1\n"
        "O1,,2024-01-02T10:00,P-1,1\n"
        "O2,GHOST,2024-01-01T10:00,P-1,1\n"
        "O3,,2024-01-01T10:00,NOPE,1\n"
        "O4,,2024-01-01T10:00,P-1,1\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="4 invalid row"):
        run_command("import_csv", "orders", str(path))
    report = (tmp_path / "orders.errors.csv").read_text()
    assert "2,order_number,conflicting_order" in report
    assert "4,customer_external_id,unknown_customer" in report
    assert "5,sku,unknown_product" in report
    assert not Order.objects.exists()
    run_command("import_csv", "orders", str(path), "--skip-invalid")
    assert list(Order.objects.values_list("number", flat=True)) == ["O4"]

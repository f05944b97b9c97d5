"""Opt-outs from staff and erasure leave the contact suppressed (PRIV-02, PRIV-03)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.models import (
    ChannelConsent,
    ConsentEvent,
    Customer,
    Interaction,
    Order,
    Suppression,
)
from crm.selectors import list_marketable_customers
from crm.services.customers import erase_customer, set_consent
from tests.crm.factories import CustomerFactory, InteractionFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def _consenting(**fields) -> Customer:
    customer = CustomerFactory(phone="+393331234567", **fields)
    for channel in ("email", "sms"):
        set_consent(customer=customer, channel=channel, granted=True, source="shop")
    return customer


def _old_email_consent(customer: Customer, *, days: int) -> None:
    """E-mail consent evidence dated ``days`` ago (e.g. from an old list)."""
    ChannelConsent.objects.create(
        customer=customer,
        channel="email",
        granted=True,
        source="old list",
        changed_at=timezone.now() - dt.timedelta(days=days),
    )


def test_a_staff_withdrawal_suppresses_the_contact_until_new_consent():
    customer = _consenting()
    set_consent(customer=customer, channel="email", granted=False, source="phone call")
    assert Suppression.objects.is_suppressed(channel="email", contact=customer.email)
    assert not Suppression.objects.is_suppressed(channel="sms", contact=customer.phone)
    # A record of the same address carrying older consent stays out.
    twin = CustomerFactory(email=customer.email)
    _old_email_consent(twin, days=10)
    assert twin not in set(list_marketable_customers(channel="email"))
    # New evidence after the opt-out lifts it.
    set_consent(customer=customer, channel="email", granted=True, source="web form")
    assert customer in set(list_marketable_customers(channel="email"))


def test_erasing_a_customer_without_orders_deletes_them_and_suppresses_both_contacts():
    customer = _consenting()
    email, phone = customer.email, customer.phone
    assert erase_customer(customer=customer) is True
    assert not Customer.objects.filter(pk=customer.pk).exists()
    suppressed = set(Suppression.objects.values_list("channel", "reason"))
    assert suppressed == {
        ("email", Suppression.Reason.ERASURE),
        ("sms", Suppression.Reason.ERASURE),
        ("phone", Suppression.Reason.ERASURE),
    }
    assert Suppression.objects.is_suppressed(channel="email", contact=email)
    assert Suppression.objects.is_suppressed(channel="sms", contact=phone)


def test_erasing_a_customer_with_orders_keeps_the_orders_on_an_anonymous_record():
    line = OrderLineFactory(order__customer=_consenting(loyalty_card="L-77"))
    customer = line.order.customer
    InteractionFactory(customer=customer, notes="asked about the blue sofa")
    assert erase_customer(customer=customer) is False
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name, customer.email) == ("", "", "")
    assert (customer.phone, customer.loyalty_card, customer.external_id) == ("", "", "")
    assert customer.birth_date is None
    assert Order.objects.get(pk=line.order_id).customer_id == customer.pk
    assert not ChannelConsent.objects.filter(customer=customer).exists()
    assert not ConsentEvent.objects.filter(customer=customer).exists()
    assert not Interaction.objects.filter(customer=customer).exists()
    assert customer not in set(list_marketable_customers(channel="email"))


def test_an_erased_contact_reimported_from_csv_is_not_marketable(tmp_path):
    # PRIV-03's check: erase, re-import the same address, the suppression matches.
    customer = _consenting()
    email = customer.email
    erase_customer(customer=customer)
    path = tmp_path / "customers.csv"
    path.write_text(f"external_id,email\nBACK1,{email.upper()}\n", encoding="utf-8")
    call_command(
        "import_csv",
        "customers",
        str(path),
        "--no-progress",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    again = Customer.objects.get(external_id="BACK1")
    assert again.email == email
    assert Suppression.objects.is_suppressed(channel="email", contact=again.email)
    # Even with consent evidence older than the erasure it stays out.
    _old_email_consent(again, days=30)
    assert again not in set(list_marketable_customers(channel="email"))


def test_the_api_delete_erases_for_managers_only(manager, sales, api_client_for):
    line = OrderLineFactory(order__customer=_consenting())
    customer = line.order.customer
    url = f"/api/customers/{customer.pk}/"
    assert api_client_for(sales).delete(url).status_code == 403
    assert api_client_for(manager).delete(url).status_code == 204
    customer.refresh_from_db()
    assert customer.email == "" and Order.objects.filter(customer=customer).exists()
    assert Suppression.objects.filter(reason=Suppression.Reason.ERASURE).count() == 3


def test_deleting_in_the_admin_erases_a_customer_with_orders(admin_client):
    line = OrderLineFactory(order__customer=_consenting())
    customer = line.order.customer
    url = f"/admin/crm/customer/{customer.pk}/delete/"
    page = admin_client.get(url)
    assert page.status_code == 200 and b"Cannot delete" not in page.content
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    customer.refresh_from_db()
    assert customer.email == "" and Order.objects.filter(customer=customer).exists()
    assert Suppression.objects.filter(reason=Suppression.Reason.ERASURE).exists()

"""PRIV-01: audiences are filtered per channel by consent evidence."""

import pytest
from django.core.management import call_command

from crm.models import Customer
from crm.selectors import list_marketable_customers
from crm.services.customers import set_consent
from tests.crm.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_email_consent_only_reaches_email_audiences():
    # given
    email_only = CustomerFactory()
    set_consent(customer=email_only, channel="email", granted=True, source="store")
    nobody = CustomerFactory()
    # then
    assert list(list_marketable_customers(channel="email")) == [email_only]
    assert not list_marketable_customers(channel="sms").exists()
    assert nobody not in list_marketable_customers(channel="email")


def test_a_withdrawn_consent_leaves_the_audience():
    customer = CustomerFactory()
    set_consent(customer=customer, channel="sms", granted=True, source="web")
    set_consent(customer=customer, channel="sms", granted=False, source="web")
    assert not list_marketable_customers(channel="sms").exists()


def test_imported_customers_without_consent_evidence_are_not_marketable(tmp_path):
    source = tmp_path / "customers.csv"
    source.write_text(
        "external_id,first_name,email,phone\n"
        "K1,Anna,anna@example.com,+390212345678\n"
        "K2,Bruno,bruno@example.com,+390298765432\n"
    )
    call_command("import_csv", "customers", str(source), "--no-progress")
    assert Customer.objects.count() == 2
    for channel in ("email", "sms", "phone"):
        assert not list_marketable_customers(channel=channel).exists()

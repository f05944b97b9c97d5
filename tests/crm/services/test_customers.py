"""Customer and consent services (SEC-12, PRIV-01)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm.models import ChannelConsent, ConsentEvent, Customer
from crm.services.customers import create_customer, set_consent, update_customer
from tests.crm.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_contact_fields_are_normalised():
    customer = create_customer(
        first_name="Anna", email="  Anna.Rossi@Example.COM ", phone="02 1234 5678"
    )
    assert customer.email == "anna.rossi@example.com"
    assert customer.phone == "+390212345678"
    assert customer.status == Customer.Status.PROSPECT


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("phone", "call me maybe"),
        ("phone", "+39 1"),
        ("birth_date", dt.date.today() + dt.timedelta(days=1)),
        ("birth_date", dt.date(1850, 1, 1)),
        ("first_name", "Ann\x00a"),
        ("first_name", "x" * 81),
    ],
)
def test_invalid_input_is_refused_and_nothing_is_written(field, value):
    with pytest.raises(ValidationError) as error:
        create_customer(**{"first_name": "Anna", field: value})
    assert field in error.value.message_dict
    assert Customer.objects.count() == 0


def test_update_keeps_unchanged_fields():
    customer = CustomerFactory(email="a@example.com", phone="+390212345678")
    update_customer(customer=customer, phone="+39 02 9999 8888")
    customer.refresh_from_db()
    assert customer.email == "a@example.com"
    assert customer.phone == "+390299998888"


def test_external_ids_and_loyalty_cards_are_unique_in_the_database():
    CustomerFactory(external_id="X1", loyalty_card="L1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(external_id="X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(external_id="X2", loyalty_card="L1")
    # blank ids are not natural keys: many customers may lack one
    Customer.objects.create(external_id="")
    Customer.objects.create(external_id="")


def test_a_new_customer_has_no_consent():
    customer = CustomerFactory()
    assert not ChannelConsent.objects.filter(customer=customer, granted=True).exists()


def test_consent_is_recorded_with_evidence_and_withdrawal_is_kept():
    customer = CustomerFactory()
    clerk = UserFactory()
    # when
    set_consent(
        customer=customer,
        channel="email",
        granted=True,
        source="store",
        actor=clerk,
        wording_version="v2",
    )
    set_consent(customer=customer, channel="email", granted=False, source="web")
    # then
    consent = ChannelConsent.objects.get(customer=customer, channel="email")
    assert consent.granted is False
    events = list(
        ConsentEvent.objects.filter(customer=customer).order_by("occurred_at", "id")
    )
    assert [(e.action, e.source) for e in events] == [
        ("granted", "store"),
        ("withdrawn", "web"),
    ]
    assert events[0].actor == clerk and events[0].wording_version == "v2"


def test_repeating_the_same_consent_writes_no_new_evidence():
    customer = CustomerFactory()
    for _ in range(3):
        set_consent(customer=customer, channel="sms", granted=True, source="store")
    assert ConsentEvent.objects.filter(customer=customer).count() == 1


def test_consent_needs_a_known_channel_and_a_source():
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        set_consent(customer=customer, channel="pigeon", granted=True, source="store")
    with pytest.raises(ValidationError):
        set_consent(customer=customer, channel="sms", granted=True, source="")
    assert not ConsentEvent.objects.exists()

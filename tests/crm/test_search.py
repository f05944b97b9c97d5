"""Global customer search: forgiving matching, role scoping, query budget."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.search import parse_query, search_text
from crm.selectors import search_customers
from crm.services.customers import create_customer
from tests.crm.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def nicolo(store_a):
    return create_customer(
        first_name="Nicolò",
        last_name="De Lucà",
        email="Nicolo.DeLuca@Example.com",
        phone="+39 333 123 4567",
        loyalty_card="2700001234",
        external_id="EXT-42",
        home_store=store_a,
    )


@pytest.fixture
def others(store_a):
    return [
        CustomerFactory(first_name="Mario", last_name="Rossi", home_store=store_a),
        CustomerFactory(first_name="Anna", last_name="Bianchi", home_store=store_a),
    ]


def ids(customers):
    return [c.pk for c in customers]


def test_search_text_folds_accents_case_and_spaces():
    assert search_text("Nicolò", "De  Lucà") == "nicolo de luca nicolodeluca"
    assert search_text("", "D'Angelo") == "d angelo dangelo"


@pytest.mark.parametrize(
    "query",
    [
        "nicolo",
        "NICOLÒ",
        "de luca",
        "deluca",
        "  De   Lucà ",
        "luca nicolo",
        "nicolodeluca",
        "+39 333 123 4567",
        "333 1234567",
        "333-123-4567",
        "0039 333 123 4567",
        "(333) 123.4567",
        "nicolo.deluca@example.com",
        "NICOLO.DELUCA@EXAMPLE.COM",
        "2700001234",
        "2700 0012 34",
        "EXT-42",
        "ext-42",
    ],
)
def test_finds_customer_whatever_the_formatting(manager, nicolo, others, query):
    assert ids(search_customers(manager, query)) == [nicolo.pk]


@pytest.mark.parametrize("query", ["", "   ", "ni", "33", "zzzz", "\x00"])
def test_short_or_unknown_queries_find_nothing(manager, nicolo, query):
    assert search_customers(manager, query) == []


def test_exact_key_matches_rank_before_name_matches(manager, store_a):
    by_name = CustomerFactory(first_name="Abc", last_name="Card12345X")
    by_card = CustomerFactory(
        first_name="Zed", last_name="Zulu", loyalty_card="CARD12345X"
    )
    found = search_customers(manager, "card12345x")
    assert ids(found) == [by_card.pk, by_name.pk]


def test_limit_is_respected(manager, store_a):
    CustomerFactory.create_batch(5, first_name="Giulia", home_store=store_a)
    assert len(search_customers(manager, "giulia", limit=3)) == 3


def test_clerk_only_finds_customers_of_their_store(
    clerk_a, clerk_b, sales, nicolo, store_b
):
    assert ids(search_customers(clerk_a, "nicolo")) == [nicolo.pk]
    assert search_customers(clerk_b, "nicolo") == []
    assert search_customers(clerk_b, "+393331234567") == []
    assert search_customers(clerk_b, "2700001234") == []
    assert ids(search_customers(sales, "nicolo")) == [nicolo.pk]


def test_anonymous_finds_nothing(nicolo):
    from django.contrib.auth.models import AnonymousUser

    assert search_customers(AnonymousUser(), "nicolo") == []


def test_search_is_one_query_with_the_store(manager, clerk_a, nicolo, others):
    for user in (manager, clerk_a):
        search_customers(user, "warm up")  # role lookup is cached per user
        with CaptureQueriesContext(connection) as queries:
            found = search_customers(user, "nicolo")
            assert found[0].home_store.code == "A"
        assert len(queries) == 1


def test_query_parsing_keeps_digits_out_of_name_matching():
    parsed = parse_query("333 1234567")
    assert parsed.name_tokens == ()
    assert "+393331234567" in parsed.phones


def test_postgresql_function_matches_python_twin(nicolo, others):
    if connection.vendor != "postgresql":
        pytest.skip("the SQL function is PostgreSQL's; SQLite uses the Python one")
    from crm.models import Customer
    from crm.search import CustomerSearchText

    rows = Customer.objects.annotate(text=CustomerSearchText()).values_list(
        "first_name", "last_name", "text"
    )
    for first, last, text in rows:
        assert text == search_text(first, last)


# Every writer of customers produces searchable rows: the name match is an
# expression over the name columns, so no writer has anything to keep in step.


def test_api_created_customer_is_found(manager, store_a, api_client_for):
    response = api_client_for(manager).post(
        "/api/customers/",
        {
            "first_name": "Zoë",
            "last_name": "Ångström",
            "phone": "02 8888 7777",
            "home_store": store_a.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    found = search_customers(manager, "zoe angstrom")
    assert [c.pk for c in found] == [response.json()["id"]]
    assert ids(search_customers(manager, "+39 02-8888-7777")) == [response.json()["id"]]


def test_imported_customers_are_found(manager, store_a, store_b):
    import io
    from pathlib import Path

    from django.core.management import call_command

    fixture = Path(__file__).resolve().parents[1] / "fixtures/import/customers.csv"
    call_command(
        "import_csv", "customers", str(fixture), "--no-progress", stdout=io.StringIO()
    )
    assert [c.external_id for c in search_customers(manager, "anna rossi")] == ["C001"]
    assert [c.external_id for c in search_customers(manager, "06 1234 5678")] == [
        "C001"
    ]
    assert [c.external_id for c in search_customers(manager, "l-0001")] == ["C001"]


def test_demo_customers_are_found(manager, settings):
    import io

    from django.core.management import call_command

    from crm.models import Customer

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo", "--customers", "30", stdout=io.StringIO())
    someone = Customer.objects.exclude(phone="").exclude(last_name="").first()
    by_name = search_customers(manager, f"{someone.first_name} {someone.last_name}")
    assert someone.pk in ids(by_name)
    assert ids(search_customers(manager, someone.phone))[0] == someone.pk

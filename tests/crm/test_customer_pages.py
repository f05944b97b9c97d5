"""The salesperson's customer list and customer page (issue 6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Channel, Interaction, Order, OrderLine, Return
from crm.services.customers import set_consent
from recommendations.models import CustomerScore, RecommendationRun, Suggestion
from tests.crm.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from tests.ladder.factories import (
    CustomerLadderPositionFactory,
    LadderFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db

LIST_BUDGET = 12
PAGE_BUDGET = 15


def counted(queries: CaptureQueriesContext) -> list[str]:
    """The statements a page really runs: the savepoints only exist because
    each test runs inside a transaction (the session save is wrapped in one)."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
    ]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def list_url(**params) -> str:
    from urllib.parse import urlencode

    return f"{reverse('crm:customer_list')}?{urlencode(params)}"


def page_url(customer) -> str:
    return reverse("crm:customer_detail", args=[customer.pk])


def buy(customer, *, price="50.00", days_ago=3, product=None, store=None):
    order = OrderFactory(
        customer=customer,
        store=store or customer.home_store,
        placed_at=timezone.now() - dt.timedelta(days=days_ago),
    )
    OrderLineFactory(
        order=order,
        line_no=1,
        product=product or ProductFactory(),
        unit_price=Decimal(price),
    )
    return order


@pytest.fixture
def alice(store_a):
    customer = CustomerFactory(
        first_name="Alice",
        last_name="Arancio",
        home_store=store_a,
        preferred_channel=Channel.EMAIL,
        phone="+393331112222",
    )
    buy(customer, price="120.00", days_ago=10)
    return customer


@pytest.fixture
def bruno(store_b):
    customer = CustomerFactory(first_name="Bruno", last_name="Blu", home_store=store_b)
    buy(customer, price="30.00", days_ago=400)
    return customer


# --- list ---------------------------------------------------------------------


def test_list_shows_every_store_to_sales_and_one_store_to_a_clerk(
    sales, clerk_a, clerk_b, alice, bruno, store_a
):
    body = client_for(sales).get(list_url()).content.decode()
    assert "Alice Arancio" in body and "Bruno Blu" in body
    # The list's search box forgives like the global search.
    for query in ("ALICE arancio", "333 111 2222"):
        found = client_for(sales).get(list_url(q=query)).context["customers"]
        assert [c.pk for c in found] == [alice.pk]
    response = client_for(clerk_b).get(list_url())
    names = {c.pk for c in response.context["customers"]}
    assert names == {bruno.pk}
    # Asking for the other store's customers finds nothing, not an error.
    response = client_for(clerk_b).get(list_url(store=store_a.pk))
    assert response.status_code == 200
    assert alice.pk not in {c.pk for c in response.context["customers"]}
    response = client_for(clerk_b).get(list_url(q="Alice"))
    assert list(response.context["customers"]) == []


def test_list_filters_by_spend_last_purchase_and_channel(manager, alice, bruno):
    client = client_for(manager)
    found = client.get(list_url(spend_min="100")).context["customers"]
    assert [c.pk for c in found] == [alice.pk]
    found = client.get(list_url(spend_max="100")).context["customers"]
    assert [c.pk for c in found] == [bruno.pk]
    since = (timezone.now() - dt.timedelta(days=30)).date().isoformat()
    found = client.get(list_url(last_purchase_from=since)).context["customers"]
    assert [c.pk for c in found] == [alice.pk]
    found = client.get(list_url(last_purchase_to=since)).context["customers"]
    assert [c.pk for c in found] == [bruno.pk]
    found = client.get(list_url(preferred_channel="email")).context["customers"]
    assert [c.pk for c in found] == [alice.pk]


def test_list_sorts_and_keeps_filters_in_pager_links(manager, store_a):
    for index in range(55):
        buy(CustomerFactory(home_store=store_a), price=f"{index + 1}.00")
    client = client_for(manager)
    response = client.get(list_url(sort="-spend", store=store_a.pk))
    rows = list(response.context["customers"])
    assert len(rows) == 50
    assert rows[0].lifetime_value == Decimal("55.00")
    assert rows[0].lifetime_value >= rows[-1].lifetime_value
    body = response.content.decode()
    assert f"sort=-spend&amp;store={store_a.pk}&amp;page=2" in body
    second = client.get(list_url(sort="-spend", store=store_a.pk, page=2))
    assert len(second.context["customers"]) == 5


def test_list_filters_by_ladder_step_and_eligibility_from_higher_apps(
    manager, alice, bruno
):
    ladder = LadderFactory(active=True)
    step = StepFactory(ladder=ladder, position=1)
    CustomerLadderPositionFactory(customer=alice, step=step)
    run = RecommendationRun.objects.create(
        status=RecommendationRun.Status.COMPLETED, is_current=True
    )
    CustomerScore.objects.create(
        run=run, customer=bruno, eligibility="excluded", reason="Returns a lot."
    )
    client = client_for(manager)
    found = client.get(list_url(ladder_step=step.pk)).context["customers"]
    assert [c.pk for c in found] == [alice.pk]
    assert found[0].ladder_step.endswith(step.name)
    found = client.get(list_url(eligibility="excluded")).context["customers"]
    assert [c.pk for c in found] == [bruno.pk]


def test_bad_filter_values_give_a_message_not_a_500(manager, alice):
    response = client_for(manager).get(
        list_url(spend_min="lots", last_purchase_from="yesterday", sort="nope")
    )
    assert response.status_code == 200
    assert list(response.context["customers"]) == []
    assert "not valid" in response.content.decode()


def _list_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(list_url(**params))
    assert response.status_code == 200
    return len(counted(queries)), len(response.context["customers"])


@pytest.mark.parametrize("role", ["manager", "sales", "clerk_a"])
def test_list_costs_the_same_queries_for_1_and_50_rows(request, role, store_a):
    user = request.getfixturevalue(role)
    client = client_for(user)
    buy(CustomerFactory(home_store=store_a))
    one, rows = _list_queries(client, sort="-spend")
    assert rows == 1
    for _ in range(60):
        buy(CustomerFactory(home_store=store_a))
    fifty, rows = _list_queries(client, sort="-spend")
    assert rows == 50
    assert one == fifty <= LIST_BUDGET


def test_list_htmx_request_gets_the_rows_fragment(manager, alice):
    response = client_for(manager).get(list_url(), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Alice Arancio" in body and "<html" not in body


# --- customer page ---------------------------------------------------------


def test_page_shows_facts_consents_and_history(sales, alice):
    set_consent(customer=alice, channel=Channel.EMAIL, granted=True, source="web form")
    order = alice.orders.get()
    line = order.lines.get()
    Return.objects.create(
        line=line, quantity=1, reason="Too small", returned_at=timezone.now()
    )
    OrderLine.objects.filter(pk=line.pk).update(returned_quantity=1)
    InteractionFactory(customer=alice, notes="Called about the sale")
    response = client_for(sales).get(page_url(alice))
    assert response.status_code == 200
    body = response.content.decode()
    customer = response.context["customer"]
    assert customer.lifetime_value == Decimal("0")  # the only item came back
    assert customer.orders_count == 1
    assert "web form" in body  # consent source
    assert "No consent" in body  # SMS and phone
    assert order.number in body and "Too small" in body
    assert "Called about the sale" in body
    assert (
        response["Cache-Control"].startswith("max-age=0")
        or "no-store" in (response["Cache-Control"])
    )


def test_clerk_of_another_store_gets_404_everywhere(clerk_a, clerk_b, alice):
    assert client_for(clerk_a).get(page_url(alice)).status_code == 200
    other = client_for(clerk_b)
    assert other.get(page_url(alice)).status_code == 404
    url = reverse("crm:customer_timeline", args=[alice.pk])
    assert other.get(url, headers={"HX-Request": "true"}).status_code == 404
    log = reverse("crm:customer_log_contact", args=[alice.pk])
    assert other.post(log, {"kind": "call"}).status_code == 404
    assert not Interaction.objects.filter(customer=alice).exists()


def test_warning_when_returns_make_the_customer_ineligible(sales, alice):
    run = RecommendationRun.objects.create(
        status=RecommendationRun.Status.COMPLETED, is_current=True
    )
    CustomerScore.objects.create(
        run=run,
        customer=alice,
        return_rate=0.6,
        cancellation_rate=0.1,
        eligibility="excluded",
        reason="Returns 60% of what they buy.",
    )
    body = client_for(sales).get(page_url(alice)).content.decode()
    assert "Excluded from offers." in body
    assert "Returns 60% of what they buy." in body
    assert "60" in body  # the return rate itself


def test_ladder_positions_and_suggestions_panels_are_on_the_page(sales, alice):
    ladder = LadderFactory(active=True, name="Laptop ladder")
    base = StepFactory(ladder=ladder, position=1)
    pro = StepFactory(ladder=ladder, position=2)
    CustomerLadderPositionFactory(customer=alice, step=base)
    Suggestion.objects.create(
        customer=alice,
        product=pro.product,
        step=pro,
        kind="upsell",
        channel="email",
        reason_code="upsell",
        reason="Customers on the base model often move up to Pro.",
        expected_value=42.5,
        probability=0.25,
        evidence={"source": "upsell", "strength": 0.8},
    )
    body = client_for(sales).get(page_url(alice)).content.decode()
    assert "Laptop ladder" in body and pro.name in body
    assert "Customers on the base model often move up to Pro." in body
    assert "<details" in body and "Strength" in body
    assert 'value="accepted"' in body


def test_outcome_buttons_record_an_interaction_and_move_the_suggestion(sales, alice):
    product = ProductFactory()
    suggestion = Suggestion.objects.create(
        customer=alice,
        product=product,
        kind="cross_sell",
        channel="phone",
        reason_code="rule",
        reason="Goes with what they bought.",
    )
    client = client_for(sales)
    url = reverse("recommendations:suggestion_outcome", args=[suggestion.pk])
    response = client.post(
        url,
        {"outcome": "accepted", "note": "Will pick it up Friday"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and "accepted" in body.lower()
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.ACCEPTED
    interaction = Interaction.objects.get(customer=alice)
    assert interaction.kind == Interaction.Kind.OFFER_ACCEPTED
    assert interaction.notes == "Will pick it up Friday"
    # Without htmx the button falls back to a redirect to the customer page.
    other = Suggestion.objects.create(
        customer=alice,
        product=ProductFactory(),
        kind="cross_sell",
        channel="phone",
        reason_code="rule",
        reason="Also goes with it.",
    )
    url = reverse("recommendations:suggestion_outcome", args=[other.pk])
    response = client.post(url, {"outcome": "declined"})
    assert response.status_code == 302
    assert response["Location"] == page_url(alice)
    other.refresh_from_db()
    assert other.status == Suggestion.Status.DECLINED


def test_log_contact_form_records_and_validates(sales, alice):
    client = client_for(sales)
    url = reverse("crm:customer_log_contact", args=[alice.pk])
    response = client.post(
        url, {"kind": "call", "outcome": "reached", "notes": "Likes the new range"}
    )
    assert response.status_code == 302
    interaction = Interaction.objects.get(customer=alice)
    assert (interaction.kind, interaction.channel, interaction.outcome) == (
        "call",
        "phone",
        "reached",
    )
    assert interaction.staff == sales
    # A note needs text; a date in the future is refused; nothing is written.
    future = (timezone.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    for data in (
        {"kind": "note", "notes": "  "},
        {"kind": "call", "occurred_at": future},
        {"kind": "fax"},
        {"kind": "call", "notes": "bad\x00byte"},
    ):
        response = client.post(url, data)
        assert response.status_code == 400, data
    assert Interaction.objects.filter(customer=alice).count() == 1
    # htmx: the activity fragment comes back with the error, not a page.
    response = client.post(
        url, {"kind": "note", "notes": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and "Write the note." in body


def test_clerk_logs_contacts_for_their_store(clerk_a, alice, store_a):
    url = reverse("crm:customer_log_contact", args=[alice.pk])
    response = client_for(clerk_a).post(
        url, {"kind": "visit", "notes": "Came in"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Came in" in response.content.decode()
    assert Interaction.objects.get(customer=alice).store == store_a


def test_posts_need_a_csrf_token(sales, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales)
    url = reverse("crm:customer_log_contact", args=[alice.pk])
    assert client.post(url, {"kind": "call"}).status_code == 403
    assert not Interaction.objects.exists()


def test_newcomer_page_offers_where_ladders_start(sales, store_a, alice):
    ladder = LadderFactory(active=True, name="Salon care")
    entry = StepFactory(ladder=ladder, position=1, name="Cut and shampoo")
    StepFactory(ladder=ladder, position=2, name="Monthly cut")
    buy(alice, product=entry.product)
    newcomer = CustomerFactory(home_store=store_a)
    body = client_for(sales).get(page_url(newcomer)).content.decode()
    assert "what to offer first" in body
    assert "Cut and shampoo" in body and "Monthly cut" not in body
    assert "No orders, returns or contacts yet." in body


# --- a long history ----------------------------------------------------------


@pytest.fixture
def loyal(store_a):
    """A customer with 5,000 orders (one line each), 50 returns, 50 contacts."""
    customer = CustomerFactory(first_name="Lea", last_name="Loyal", home_store=store_a)
    product = ProductFactory()
    start = timezone.now() - dt.timedelta(days=5000)
    orders = Order.objects.bulk_create(
        Order(
            number=f"L{index:06d}",
            customer=customer,
            store=store_a,
            placed_at=start + dt.timedelta(days=index),
        )
        for index in range(5000)
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order, line_no=1, product=product, quantity=1, unit_price="10.00"
        )
        for order in orders
    )
    Return.objects.bulk_create(
        Return(line=line, quantity=1, returned_at=line.order.placed_at)
        for line in lines[-50:]
    )
    Interaction.objects.bulk_create(
        Interaction(
            customer=customer,
            kind="call",
            channel="phone",
            occurred_at=start + dt.timedelta(days=4950 + index, hours=1),
        )
        for index in range(50)
    )
    return customer


@pytest.mark.parametrize("role", ["manager", "sales", "clerk_a"])
def test_page_of_a_5000_order_customer_stays_within_budget(request, role, loyal):
    # given every panel has something to show: a ladder, offers, consents
    ladder = LadderFactory(active=True)
    step = StepFactory(ladder=ladder, position=1)
    StepFactory(ladder=ladder, position=2)
    CustomerLadderPositionFactory(customer=loyal, step=step)
    Suggestion.objects.create(
        customer=loyal,
        product=ProductFactory(),
        kind="cross_sell",
        channel="in_store",
        reason_code="rule",
        reason="Goes with it.",
    )
    set_consent(customer=loyal, channel=Channel.SMS, granted=True, source="till")
    client = client_for(request.getfixturevalue(role))
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page_url(loyal))
    # then
    assert response.status_code == 200
    statements = counted(queries)
    assert len(statements) <= PAGE_BUDGET, [sql[:120] for sql in statements]
    assert response.context["customer"].orders_count == 5000
    assert len(response.context["timeline"].events) == 20


def test_timeline_pages_through_the_whole_history_in_order(sales, loyal):
    client = client_for(sales)
    response = client.get(page_url(loyal))
    seen = [(e["source"], e["row_id"]) for e in response.context["timeline"].events]
    cursor = response.context["timeline"].next_cursor
    url = reverse("crm:customer_timeline", args=[loyal.pk])
    previous_last = response.context["timeline"].events[-1]["at"]
    for _page in range(3):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                url, {"before": cursor}, headers={"HX-Request": "true"}
            )
        assert response.status_code == 200
        assert len(counted(queries)) <= 9
        body = response.content.decode()
        assert "<html" not in body and "<li" in body
        events = response.context["timeline"].events
        assert len(events) == 20
        assert events[0]["at"] <= previous_last
        assert [e["at"] for e in events] == sorted(
            (e["at"] for e in events), reverse=True
        )
        seen.extend((e["source"], e["row_id"]) for e in events)
        previous_last = events[-1]["at"]
        cursor = response.context["timeline"].next_cursor
    assert len(seen) == len(set(seen)) == 80
    # The newest 50 events are the calls and returns interleaved with orders.
    sources = {source for source, _ in seen}
    assert sources == {"order", "return", "interaction"}


def test_timeline_without_htmx_redirects_to_the_page(sales, loyal):
    url = reverse("crm:customer_timeline", args=[loyal.pk])
    response = client_for(sales).get(url, {"before": "garbage"})
    assert response.status_code == 302
    response = client_for(sales).get(page_url(loyal), {"before": "garbage|x|y"})
    assert response.status_code == 200  # a bad cursor is the first page


def test_equal_timestamps_are_neither_lost_nor_repeated(sales, alice):
    when = timezone.now() - dt.timedelta(days=1)
    Interaction.objects.bulk_create(
        Interaction(customer=alice, kind="note", notes=f"n{index}", occurred_at=when)
        for index in range(45)
    )
    client = client_for(sales)
    response = client.get(page_url(alice))
    timeline = response.context["timeline"]
    seen = [(e["source"], e["row_id"]) for e in timeline.events]
    url = reverse("crm:customer_timeline", args=[alice.pk])
    while timeline.next_cursor:
        response = client.get(
            url, {"before": timeline.next_cursor}, headers={"HX-Request": "true"}
        )
        timeline = response.context["timeline"]
        seen.extend((e["source"], e["row_id"]) for e in timeline.events)
    assert len(seen) == len(set(seen)) == 45 + 1  # notes + the order


# --- search pages and layout ---------------------------------------------------


def test_search_page_and_dropdown(sales, clerk_b, alice):
    client = client_for(sales)
    url = reverse("crm:search")
    response = client.get(url, {"q": "arancio"})
    assert response.status_code == 200
    assert page_url(alice) in response.content.decode()
    response = client.get(url, {"q": "333 111 2222"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert page_url(alice) in body and "<html" not in body
    response = client_for(clerk_b).get(url, {"q": "arancio"})
    assert page_url(alice) not in response.content.decode()


def test_layout_has_search_navigation_language_and_skip_link(sales, alice):
    body = client_for(sales).get(page_url(alice)).content.decode()
    assert 'id="global-search"' in body
    assert reverse("crm:customer_list") in body
    assert 'class="skip"' in body and '<html lang="en' in body
    assert "crm/site.js" in body
    body = (
        client_for(sales)
        .get(page_url(alice), headers={"Accept-Language": "it"})
        .content.decode()
    )
    assert '<html lang="it' in body


def test_anonymous_users_are_sent_to_login(alice):
    response = Client().get(page_url(alice))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


# --- hooks: a higher app adds rows to the timeline -------------------------


def offers_as_timeline(user, customer_id, cursor):
    """A ``customer_timeline`` hook as campaigns would write one (crm.hooks)."""
    from django.db.models import F, Value

    from recommendations.selectors import suggestions_visible_to

    rows = suggestions_visible_to(user).filter(customer_id=customer_id)
    if cursor is not None:
        rows = rows.filter(cursor.q("created_at", 3))
    columns = {
        "at": F("created_at"),
        "source": "message",
        "rank": Value(3),
        "row_id": F("pk"),
        "title": F("reason"),
        "channel": F("channel"),
        "status": F("status"),
    }
    return [(rows.order_by("-created_at", "-pk"), columns)]


@pytest.fixture
def timeline_hook(monkeypatch):
    from django.apps import apps

    from crm.hooks import app_hooks

    config = apps.get_app_config("recommendations")
    monkeypatch.setattr(
        config,
        "customer_timeline",
        "tests.crm.test_customer_pages.offers_as_timeline",
        raising=False,
    )
    app_hooks.cache_clear()
    yield
    app_hooks.cache_clear()


def test_a_higher_apps_rows_join_the_timeline_in_date_order(
    timeline_hook, sales, alice
):
    Suggestion.objects.create(
        customer=alice,
        product=ProductFactory(),
        kind="cross_sell",
        channel="email",
        reason_code="rule",
        reason="Spring newsletter: matching scarf",
    )
    client = client_for(sales)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page_url(alice))
    events = response.context["timeline"].events
    assert [e["source"] for e in events] == ["message", "order"]
    assert "Spring newsletter: matching scarf" in response.content.decode()
    assert len(counted(queries)) <= PAGE_BUDGET


# --- base layout ---------------------------------------------------------------


@pytest.mark.parametrize("role", ["sales", "clerk_a", "manager"])
def test_every_staff_role_gets_the_counter_link(request, role):
    body = client_for(request.getfixturevalue(role)).get(list_url()).content.decode()
    assert f'href="{reverse("recommendations:counter")}"' in body


def test_htmx_indicator_styles_come_from_site_css_not_inline(sales):
    from pathlib import Path

    from django.conf import settings

    body = client_for(sales).get(list_url()).content.decode()
    # htmx would otherwise inject a <style> the CSP (style-src 'self') blocks.
    assert (
        """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>"""
        in body
    )
    css = (Path(settings.BASE_DIR) / "crm/static/crm/site.css").read_text()
    assert ".htmx-indicator {" in css and ".htmx-request .htmx-indicator" in css

"""A salesperson in a real browser: find a customer, act on an offer, log a call."""

from __future__ import annotations

import re

from tests.browser.conftest import InPlace, expect, log_in


def test_sales_finds_a_customer_from_the_global_search_as_they_type(shop, page):
    # given
    log_in(page, "sales")
    # when: "/" jumps to the global search; lower case, surname only
    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Find a customer")
    expect(search).to_be_focused()
    search.press_sequentially("bianchi", delay=20)
    results = page.get_by_role("list", name="Matching customers")
    results.get_by_role("link", name=re.compile("Giulia Bianchi")).click()
    # then: her page
    expect(page.get_by_role("heading", level=1)).to_have_text("Giulia Bianchi")


def test_the_search_forgives_accents_spaces_and_the_country_code(shop, page):
    log_in(page, "sales")
    search = page.get_by_role("searchbox", name="Find a customer")
    for query in ("GIULIA  BIANCHÌ", "333 123 4567", "lc0001234"):
        search.fill(query)
        search.press("Enter")  # the full results page
        results = page.get_by_role("main").get_by_role(
            "list", name="Matching customers"
        )
        expect(results.get_by_role("link")).to_have_count(1)
        expect(results.get_by_role("link")).to_contain_text("Giulia Bianchi")
        search = page.get_by_role("searchbox", name="Find a customer")


def test_sales_records_an_accepted_offer_in_place(shop, page):
    from crm.models import Interaction
    from recommendations.models import Suggestion

    # given: her page, with her offers
    log_in(page, "sales")
    page.goto(f"/crm/customers/{shop.giulia.pk}/")
    offers = page.get_by_role("region", name="Best offers")
    coffee = offers.get_by_role("article").filter(has_text="Ground coffee 250 g")
    expect(coffee).to_contain_text("Moka pot, 6 cups")  # the reason
    # when
    with InPlace(page):
        coffee.get_by_label("Note (optional)").fill("Takes two packs next time")
        coffee.get_by_role("button", name="Accepted").click()
        # then: the panel says so at once, in place on the customer's page,
        # and the answered offer leaves the open ones
        offers = page.get_by_role("region", name="Best offers")
        expect(offers.get_by_role("status")).to_have_text(
            "Recorded: “Ground coffee 250 g” accepted."
        )
        expect(
            offers.get_by_role("article").filter(has_text="Ground coffee 250 g")
        ).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/crm/customers/{shop.giulia.pk}/$"))
    # and it is recorded: the suggestion, an interaction, the timeline
    suggestion = Suggestion.objects.get(
        customer=shop.giulia, product=shop.products["COFFEE250"]
    )
    assert suggestion.status == Suggestion.Status.ACCEPTED
    assert suggestion.decided_by == shop.sales
    interaction = Interaction.objects.get(
        customer=shop.giulia, kind=Interaction.Kind.OFFER_ACCEPTED
    )
    assert interaction.notes == "Takes two packs next time"
    page.reload()
    history = page.get_by_role("region", name="History")
    event = history.get_by_role("listitem").filter(has_text="Offer accepted")
    expect(event).to_contain_text("Ground coffee 250 g")
    expect(event).to_contain_text("Takes two packs next time")


def test_sales_logs_a_call_and_sees_it_on_top_of_the_history(shop, page):
    # given
    log_in(page, "sales")
    page.goto(f"/crm/customers/{shop.giulia.pk}/")
    form = page.get_by_role("region", name="Log a contact")
    # when
    form.get_by_label("What").select_option(label="Call")
    form.get_by_label("Outcome").select_option(label="Interested")
    form.get_by_label("Notes").fill("Wants to see the espresso machine")
    with InPlace(page):
        form.get_by_role("button", name="Log it").click()
        # then: swapped in place, newest first
        expect(
            page.get_by_role("status").filter(has_text="Contact logged.")
        ).to_be_visible()
        history = page.get_by_role("region", name="History")
        first = history.get_by_role("listitem").first
        expect(first).to_contain_text("Call")
        expect(first).to_contain_text("Wants to see the espresso machine")


def test_a_customer_with_no_history_gets_newcomer_offers(shop, page):
    log_in(page, "sales")
    page.goto(f"/crm/customers/{shop.newcomer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nadia Nuova")
    newcomer = page.get_by_role("region", name=re.compile("^New here"))
    expect(newcomer).to_be_visible()
    expect(
        page.get_by_role("region", name="History").get_by_role("listitem").first
    ).to_contain_text("No orders, returns or contacts yet.")


def test_a_five_thousand_order_history_opens_fast_and_pages_in_place(shop, page):
    import datetime as dt
    import time

    from django.utils import timezone

    from crm.models import Order, OrderLine

    # given: years of weekly shopping, 5,000 orders
    now = timezone.now()
    orders = Order.objects.bulk_create(
        Order(
            number=f"LONG{number:05d}",
            customer=shop.giulia,
            store=shop.milano,
            placed_at=now - dt.timedelta(days=50 + number),
        )
        for number in range(5000)
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_no=1,
            product=shop.products["COFFEE250"],
            quantity=1,
            unit_price=shop.products["COFFEE250"].price,
        )
        for order in orders
    )
    log_in(page, "sales")
    # when
    started = time.perf_counter()
    page.goto(f"/crm/customers/{shop.giulia.pk}/")
    elapsed = time.perf_counter() - started
    # then: one page of history, and the rest on demand, appended in place
    history = page.get_by_role("region", name="History")
    expect(history.get_by_role("listitem").filter(has_text="LONG00000")).to_be_visible()
    assert elapsed < 5, f"the page took {elapsed:.1f} s"
    shown = history.locator("ol.timeline > li.event").count()
    assert 0 < shown <= 50
    with InPlace(page):
        history.get_by_role("link", name="Older events").click()
        expect(history.locator("ol.timeline > li.event")).to_have_count(2 * shown)

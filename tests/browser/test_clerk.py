"""A store clerk in a real browser: the counter, the basket, and what is refused."""

from __future__ import annotations

import re

from tests.browser.conftest import (
    GIULIA_CARD,
    GIULIA_PHONE_TYPED,
    TABLET,
    InPlace,
    expect,
    log_in,
)


def test_a_clerk_sees_only_their_stores_customers(shop, page):
    # given
    log_in(page, "clerk_mi")
    # when: Marco belongs to Torino
    response = page.goto(f"/crm/customers/{shop.marco.pk}/")
    # then: as if he did not exist, and nothing of his shows
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("404")
    expect(page.locator("body")).not_to_contain_text("Conti")
    # and the clerk's own customer opens
    response = page.goto(f"/crm/customers/{shop.giulia.pk}/")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Giulia Bianchi")
    # and the search knows only the clerk's store
    page.goto("/crm/search/?q=conti")
    expect(page.get_by_role("main")).not_to_contain_text("Marco Conti")
    page.goto("/crm/search/?q=bianchi")
    expect(
        page.get_by_role("main").get_by_role("link", name=re.compile("Giulia Bianchi"))
    ).to_be_visible()


def test_a_clerk_cannot_open_manager_pages(shop, page):
    log_in(page, "clerk_mi")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Ladders")).to_have_count(0)
    for path in ("/ladders/", "/suggestions/runs/", "/crm/imports/"):
        response = page.goto(path)
        assert response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("403")


def _counter(page):
    log_in(page, "clerk_mi")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Counter"
    ).click()
    expect(page.get_by_label("Phone, loyalty card or name")).to_be_focused()


def _cross_sells(page):
    """The names on the basket's "Goes with this basket" cards."""
    basket = page.locator("#counter-basket-body")
    return basket.get_by_role("article").get_by_role("heading", level=4)


def test_a_clerk_finds_a_customer_by_phone_and_sees_the_offers_change_with_the_basket(
    shop, open_page
):
    page = open_page(viewport=TABLET, touch=True)
    # given
    _counter(page)
    # when: the number as the customer says it, no country code
    lookup = page.get_by_label("Phone, loyalty card or name")
    lookup.fill(GIULIA_PHONE_TYPED)
    lookup.press("Enter")
    # then: her in-person offers, as cards
    expect(
        page.get_by_role("heading", level=2, name="Giulia Bianchi", exact=True)
    ).to_be_visible()
    offers = page.locator(".counter-who").get_by_role("article")
    expect(offers.filter(has_text="Espresso machine")).to_be_visible()
    expect(offers.filter(has_text="Ground coffee 250 g")).to_be_visible()
    # when: the moka pot is rung up, typed then Enter (as a scanner does);
    # the basket and its suggestions update live, without a page load
    basket = page.get_by_role("region", name="Basket for Giulia Bianchi")
    with InPlace(page):
        sku = page.get_by_label("Product code")
        sku.fill("moka6")
        sku.press("Enter")
        # then
        expect(
            basket.get_by_role("listitem").filter(has_text="Moka pot, 6 cups")
        ).to_be_visible()
        expect(
            _cross_sells(page).filter(has_text="Ground coffee 250 g")
        ).to_be_visible()
        expect(_cross_sells(page).filter(has_text="Green tea, 50 bags")).to_have_count(
            0
        )
        # when: a teapot joins the basket; the box is ready for the next scan
        expect(page.get_by_label("Product code")).to_have_value("")
        page.get_by_label("Product code").fill("TEAPOT")
        page.get_by_label("Product code").press("Enter")
        # then: what goes with the basket changes
        expect(
            basket.get_by_role("listitem").filter(has_text="Glass teapot")
        ).to_be_visible()
        expect(_cross_sells(page).filter(has_text="Green tea, 50 bags")).to_be_visible()
        expect(basket).to_contain_text("2 items")


def test_a_scanned_card_opens_the_customer_and_one_tap_records_the_offer(
    shop, open_page
):
    from crm.models import Interaction
    from recommendations.models import Suggestion

    page = open_page(viewport=TABLET, touch=True)
    # given
    _counter(page)
    # when: a keyboard-wedge scanner types the card and Enter
    page.get_by_label("Phone, loyalty card or name").press_sequentially(
        GIULIA_CARD + "\n", delay=5
    )
    card = (
        page.locator(".counter-who")
        .get_by_role("article")
        .filter(has_text="Espresso machine")
    )
    card.get_by_role("button", name="Accepted").tap()
    # then: the card says so and the product is in her basket
    expect(page.get_by_role("status").filter(has_text="Accepted")).to_contain_text(
        "Espresso machine"
    )
    basket = page.get_by_role("region", name="Basket for Giulia Bianchi")
    expect(
        basket.get_by_role("listitem").filter(has_text="Espresso machine")
    ).to_be_visible()
    suggestion = Suggestion.objects.get(
        customer=shop.giulia, product=shop.products["ESPRESSO"]
    )
    assert suggestion.status == Suggestion.Status.ACCEPTED
    assert suggestion.decided_by == shop.clerk_mi
    recorded = Interaction.objects.get(
        customer=shop.giulia, kind=Interaction.Kind.OFFER_ACCEPTED
    )
    assert recorded.store == shop.milano


def test_an_anonymous_basket_gets_suggestions_too(shop, open_page):
    page = open_page(viewport=TABLET, touch=True)
    _counter(page)
    # when: no customer, straight to the basket
    page.get_by_label("Product code").fill("TEAPOT")
    page.get_by_label("Product code").press("Enter")
    # then
    basket = page.get_by_role("region", name="Basket (anonymous sale)")
    expect(
        basket.get_by_role("listitem").filter(has_text="Glass teapot")
    ).to_be_visible()
    expect(_cross_sells(page).filter(has_text="Green tea, 50 bags")).to_be_visible()
    # and an unknown code is refused, plainly, changing nothing
    page.get_by_label("Product code").fill("NOPE-123")
    page.get_by_label("Product code").press("Enter")
    expect(page.get_by_text("Unknown product code")).to_contain_text("NOPE-123")
    expect(basket).to_contain_text("1 item")


def test_the_clerk_cannot_look_up_another_stores_customer_at_the_counter(
    shop, open_page
):
    page = open_page(viewport=TABLET, touch=True)
    _counter(page)
    lookup = page.get_by_label("Phone, loyalty card or name")
    lookup.fill("347 111 2233")  # Marco's phone; he belongs to Torino
    lookup.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("No customer matches")
    expect(page.locator("main")).not_to_contain_text("Marco Conti")

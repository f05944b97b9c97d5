"""The site chrome in a real browser: logging in, the language, the CSP."""

from __future__ import annotations

import re

from tests.browser.conftest import expect, log_in


def test_a_manager_logs_in_and_reaches_the_ladders_and_the_runs(shop, page):
    # given
    page.goto("/")
    # then: nothing is shown before logging in
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    # when
    log_in(page, "manager")
    # then
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("link", name="Ladders").click()
    expect(page).to_have_url(re.compile(r"/ladders/$"))
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Suggestions"
    ).click()
    expect(page).to_have_url(re.compile(r"/suggestions/runs/$"))
    # the completed run is listed, with its suggestions counted
    runs = page.get_by_role("table", name="Runs with figures and progress")
    expect(runs).to_contain_text("Completed")


def test_a_wrong_password_is_refused_with_a_message(shop, page):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("sales")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_the_switcher_turns_the_interface_italian(shop, page):
    # given
    log_in(page, "sales")
    page.goto(f"/crm/customers/{shop.giulia.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("main")).to_contain_text("€34.90")
    # when
    page.get_by_label("Language").select_option("it")
    page.get_by_role("button", name="Change language").click()
    # then: the same page, in Italian words and Italian numbers
    expect(page).to_have_url(re.compile(rf"/crm/customers/{shop.giulia.pk}/$"))
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("button", name="Esci")).to_be_visible()
    expect(page.get_by_role("region", name="Offerte migliori")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("34,90 €")
    # and the choice sticks
    page.get_by_role("banner").get_by_role("link", name="Clienti").click()
    expect(page).to_have_url(re.compile(r"/crm/customers/$"))
    expect(page.locator("html")).to_have_attribute("lang", "it")


def test_a_browser_asking_for_italian_gets_italian(open_page):
    page = open_page(locale="it-IT")
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accedi")


def test_an_inline_script_is_blocked_and_reported(page, browser_log):
    """The CSP check of every test is live: an injected inline script is
    refused by the policy, and the refusal reaches the log."""
    # given
    page.goto("/accounts/login/")
    # when
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "document.body.dataset.ran = 'yes'";
            document.body.appendChild(script);
        }"""
    )
    # then
    expect(page.locator("body")).not_to_have_attribute("data-ran", "yes")
    assert any("script-src" in text for text in browser_log.csp_violations)
    browser_log.csp_violations.clear()  # expected here; not a failure


def test_every_page_of_the_managers_navigation_loads_without_errors(shop, page):
    """Each page the manager's menu offers answers 200 and, like every page
    in these tests, breaks no Content-Security-Policy rule and throws no
    script error (checked when the test ends)."""
    log_in(page, "manager")
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    targets = [
        href
        for href in links.evaluate_all("(links) => links.map((a) => a.pathname)")
        if not href.startswith("/admin/")  # Django's own admin is out of scope
    ]
    assert len(targets) >= 5, targets
    for target in targets:
        response = page.goto(target)
        assert response.status == 200, target
        page.wait_for_load_state("networkidle")

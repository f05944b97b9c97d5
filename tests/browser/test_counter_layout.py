"""The counter's buttons show their whole label on a tablet, in both languages.

A real Chromium at 820 px (the tablet of the README screenshots), using the
browser tests' fixtures: Italian labels are longer, and "Aggiungi" once ran
past the edge of the basket card.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    GIULIA_PHONE_TYPED,
    PASSWORD,
    TABLET,
    expect,
)
from tests.crm.i18n_support import compile_catalogues

pytestmark = pytest.mark.browser

LOGIN = {
    "en-GB": ("Username", "Password", "Log in", "Phone, loyalty card or name"),
    "it-IT": ("Nome utente", "Password", "Accedi", "Telefono, carta fedeltà o nome"),
}

# Every counter button whose label is cut: its text is wider than the button,
# or the button runs past the card (or section) that holds it.
CLIPPED = """() => [...document.querySelectorAll('.counter button')].filter(b => {
  if (!b.offsetParent) return false;
  const box = b.getBoundingClientRect();
  const holder = b.closest('.counter-card, .counter-basket, .counter-search, .counter-who');
  const outer = holder ? holder.getBoundingClientRect() : {left: 0, right: innerWidth};
  return b.scrollWidth > b.clientWidth + 1 || box.right > outer.right + 0.5
    || box.left < outer.left - 0.5;
}).map(b => b.textContent.trim())"""


@pytest.mark.parametrize("locale", ["it-IT", "en-GB"])
def test_counter_buttons_are_never_clipped_on_a_tablet(shop, open_page, locale):  # noqa: F811
    compile_catalogues()
    username, password, log_in, lookup = LOGIN[locale]
    page = open_page(locale=locale, viewport=TABLET, touch=True)
    page.goto("/accounts/login/")
    page.get_by_label(username).fill("clerk_mi")
    page.get_by_label(password, exact=True).fill(PASSWORD)
    page.get_by_role("button", name=log_in).click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto("/suggestions/counter/")
    field = page.get_by_label(lookup)
    field.fill(GIULIA_PHONE_TYPED)
    field.press("Enter")
    expect(page.locator(".counter-card").first).to_be_visible()
    add = page.locator("#counter-sku")
    expect(add).to_be_visible()
    assert page.evaluate(CLIPPED) == []
    # The basket's cross-sell cards have the same outcome buttons.
    add.fill("moka6")
    add.press("Enter")
    expect(page.locator("#counter-basket-body article").first).to_be_visible()
    assert page.evaluate(CLIPPED) == []

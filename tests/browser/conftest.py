"""Real-browser fixtures: Playwright's sync API driving Debian's Chromium
against pytest-django's ``live_server``.

The tests skip when Playwright or ``/usr/bin/chromium`` is missing
(``skip_or_fail``). Under CI they fail instead, and ``.ci/run`` installs Chromium.
Every page a test opens is checked for Content-Security-Policy violations and
uncaught script errors when the test ends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.roles_support import ensure_roles

try:
    from playwright.sync_api import expect
except ImportError:  # the ``chromium`` fixture skips (or fails) every test
    expect = None
from tests.crm.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StoreFactory,
    UserFactory,
)

# Playwright's sync API keeps an asyncio event loop running in the test's
# thread while the browser is open. Django's ORM sees the loop and refuses to
# run (SynchronousOnlyOperation), even though nothing here is asynchronous: the
# loop only waits for the browser's replies, and the ORM calls still happen one
# at a time in this thread. Django reads the variable on every ORM call, and
# pytest imports this conftest at collection time, before any fixture touches
# the database. Setting it here therefore covers the fixtures that build data
# and the assertions that read it back. It only ever applies to a pytest
# process that collects these tests; the application never sets it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("LADDER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # containers and CI run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "pass-Word-123"  # UserFactory's default
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}  # a 10.9" tablet held upright
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items):
    """Everything in this folder is a browser test (``-m "not browser"``)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)


# --- the browser ---------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (about 1 s to start)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright is not installed (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


@dataclass
class BrowserLog:
    """What the browser reported while a test ran."""

    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def on_console(self, message) -> None:
        if message.type not in {"error", "warning"}:
            return
        text = message.text
        # Chromium reports every blocked inline script, inline style, eval or
        # foreign source as a console error naming the policy.
        if "Content Security Policy" in text:
            self.csp_violations.append(text)
        elif message.type == "error":
            self.console_errors.append(text)


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


def _new_page(chromium, live_server, browser_log, *, locale, viewport, touch):
    context = chromium.new_context(
        base_url=live_server.url, locale=locale, viewport=viewport, has_touch=touch
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", browser_log.on_console)
    page.on("pageerror", lambda error: browser_log.page_errors.append(str(error)))
    return context, page


@pytest.fixture
def open_page(chromium, live_server, browser_log):
    """Factory of fresh browser tabs (own cookies): ``open_page(locale=…,
    viewport=…, touch=…)``.

    At teardown, any CSP violation or uncaught script error seen on any of
    them fails the test.
    """
    contexts = []

    def make(
        *, locale: str = "en-GB", viewport: dict | None = None, touch: bool = False
    ):
        context, page = _new_page(
            chromium,
            live_server,
            browser_log,
            locale=locale,
            viewport=viewport or DESKTOP,
            touch=touch,
        )
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()
    problems = browser_log.csp_violations + browser_log.page_errors
    if problems:
        pytest.fail("the browser reported:\n" + "\n".join(problems))


@pytest.fixture
def page(open_page):
    """A desktop-sized tab whose browser asks for English."""
    return open_page()


class InPlace:
    """Asserts that what happens inside the block updates the page in place
    (htmx swaps), without loading a new document."""

    def __init__(self, page) -> None:
        self.page = page

    def __enter__(self):
        self.page.evaluate("() => { window.__ladderSameDocument = true }")
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            same = self.page.evaluate("() => window.__ladderSameDocument === true")
            assert same, "the page was reloaded instead of updated in place"


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


# The roles survive the live server's flushes: see tests/roles_support.py.


@pytest.fixture(autouse=True)
def _fresh_recommendation_caches():
    """The live server runs in this process: its per-run caches must not
    carry one test's rules into the next (run ids restart after a flush)."""
    from recommendations import selectors, services

    def clear():
        services.clear_reference_cache()
        services.clear_run_states()
        services._RULES_CACHE.clear()
        selectors._BASKET_RULES.clear()

    clear()
    yield
    clear()


# --- a small, realistic shop -------------------------------------------------------


@dataclass
class Shop:
    """Two stores, four staff, a coffee-and-tea catalogue, a completed run."""

    milano: object
    torino: object
    manager: object
    sales: object
    clerk_mi: object
    clerk_to: object
    products: dict
    giulia: object  # Milano; bought a moka pot alone, so coffee is suggested
    marco: object  # Torino; another store's customer for the Milano clerk
    newcomer: object  # Milano; no history at all
    run: object = None


GIULIA_PHONE = "+393331234567"
GIULIA_PHONE_TYPED = "333 123 4567"
GIULIA_CARD = "LC0001234"

CATALOGUE = [
    ("MOKA6", "Moka pot, 6 cups", "34.90"),
    ("COFFEE250", "Ground coffee 250 g", "5.90"),
    ("CUPS6", "Espresso cups, set of 6", "18.00"),
    ("TEAPOT", "Glass teapot", "24.50"),
    ("GREENTEA", "Green tea, 50 bags", "6.40"),
    ("HONEY", "Acacia honey 500 g", "8.90"),
    ("ESPRESSO", "Espresso machine", "149.00"),
]


def _coffee_ladder(products: dict) -> None:
    """Moka pot, then an espresso machine; coffee and cups go with both."""
    from ladder import services

    ladder = services.create_ladder(name="Coffee at home")
    for sku in ("MOKA6", "ESPRESSO"):
        step = services.add_step(ladder=ladder, product=products[sku])
        for complement in ("COFFEE250", "CUPS6"):
            services.add_step_offer(step=step, product=products[complement])
    services.update_ladder(ladder=ladder, active=True)


def _buy(customer, *products, store=None, days_ago: int = 30):
    import datetime as dt

    from django.utils import timezone

    order = OrderFactory(
        customer=customer,
        store=store or customer.home_store,
        placed_at=timezone.now() - dt.timedelta(days=days_ago),
    )
    for number, product in enumerate(products, start=1):
        OrderLineFactory(order=order, product=product, line_no=number)
    return order


@pytest.fixture
def shop(live_server, transactional_db) -> Shop:
    """The shop behind most browser tests, with one completed suggestion run.

    Most customers buy a moka pot with coffee, and a teapot with green tea;
    Giulia bought the moka pot alone, so coffee is her best offer, and a
    basket with a teapot gets green tea.
    """
    from ladder.services import recompute_all_positions
    from recommendations.services import run_all

    ensure_roles()
    milano = StoreFactory(code="MI01", name="Milano Centro", city="Milano")
    torino = StoreFactory(code="TO01", name="Torino Porta Nuova", city="Torino")
    products = {
        sku: ProductFactory(sku=sku, name=name, price=price, unit_cost="2.00")
        for sku, name, price in CATALOGUE
    }
    names = [
        ("Luca", "Rossi"),
        ("Sara", "Ferrari"),
        ("Paolo", "Esposito"),
        ("Chiara", "Romano"),
        ("Andrea", "Colombo"),
        ("Elena", "Ricci"),
        ("Matteo", "Marino"),
        ("Francesca", "Greco"),
        ("Davide", "Bruno"),
        ("Anna", "Gallo"),
    ]
    for number, (first, last) in enumerate(names):
        customer = CustomerFactory(
            first_name=first,
            last_name=last,
            home_store=milano if number % 2 else torino,
        )
        _buy(customer, products["MOKA6"], products["COFFEE250"], days_ago=200)
        _buy(customer, products["TEAPOT"], products["GREENTEA"], days_ago=100)
        if number < 4:
            _buy(customer, products["CUPS6"], products["HONEY"], days_ago=60)
    giulia = CustomerFactory(
        first_name="Giulia",
        last_name="Bianchi",
        email="giulia.bianchi@example.com",
        phone=GIULIA_PHONE,
        loyalty_card=GIULIA_CARD,
        home_store=milano,
        preferred_channel="in_store",
    )
    _buy(giulia, products["MOKA6"], days_ago=40)
    marco = CustomerFactory(
        first_name="Marco",
        last_name="Conti",
        phone="+393471112233",
        home_store=torino,
    )
    _buy(marco, products["MOKA6"], days_ago=20)
    newcomer = CustomerFactory(first_name="Nadia", last_name="Nuova", home_store=milano)
    sales = UserFactory(
        username="sales", first_name="Silvia", last_name="Sales", role="sales"
    )
    InteractionFactory(customer=giulia, staff=sales, notes="Asked about coffee.")
    shop = Shop(
        milano=milano,
        torino=torino,
        manager=UserFactory(username="manager", role="manager"),
        sales=sales,
        clerk_mi=UserFactory(username="clerk_mi", role="clerk", store=milano),
        clerk_to=UserFactory(username="clerk_to", role="clerk", store=torino),
        products=products,
        giulia=giulia,
        marco=marco,
        newcomer=newcomer,
    )
    _coffee_ladder(products)
    recompute_all_positions()
    shop.run = run_all()
    return shop

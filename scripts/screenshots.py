"""Screenshots of the customer page and the counter view for the README.

Run: .venv/bin/python scripts/screenshots.py [--rebuild] [--customers 5000]
(or ``make screenshots``). Needs Playwright (a dev dependency) and Debian's
Chromium at /usr/bin/chromium.

The script builds the deterministic demo shop (``manage.py demo``) in its own
SQLite file, var/screenshots/demo.sqlite3. The file is reused, and
``--rebuild`` builds it again. The script then serves the shop with
``runserver`` on a free loopback port, logs in as the demo users in a headless
Chromium, and writes docs/screenshots/*.png:

* customer-en.png, customer-it.png: a salesperson (``sales``) on the page of a
  Milano customer with offers, a ladder position and a history, on a desktop;
* counter-en.png, counter-it.png: the Milano clerk (``clerk_mi``) at the
  counter, after looking that customer up by phone, on a tablet;
* counter-basket-en.png: the clerk's basket mode with two items rung up.

Each file is checked to be under 300 KB.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = ROOT / "var" / "screenshots" / "demo.sqlite3"
OUTPUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("LADDER_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "ladder-demo"
MAX_BYTES = 300 * 1024
DESKTOP = {"width": 1280, "height": 1300}
TABLET = {"width": 820, "height": 1180}
LOCALES = {"en": "en-GB", "it": "it-IT"}
LABELS = {
    "en": {"username": "Username", "password": "Password", "log_in": "Log in"},
    "it": {"username": "Nome utente", "password": "Password", "log_in": "Accedi"},
}


def _env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "DATABASE_URL"))
    }
    env["DATABASE_URL"] = f"sqlite:///{DATABASE}"
    return env


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=_env(), check=True
    )


def build_demo(*, customers: int, rebuild: bool) -> None:
    if rebuild and DATABASE.exists():
        DATABASE.unlink()
    DATABASE.parent.mkdir(parents=True, exist_ok=True)
    manage("migrate", "--noinput", "-v0")
    # The Italian screenshots need the compiled catalogues (as `make demo`).
    subprocess.run(
        [sys.executable, "manage.py", "compilemessages", "--ignore=.venv", "-v0"],
        cwd=ROOT,
        env=_env(),
        check=False,
    )
    manage("demo", "--customers", str(customers))


def pick_subject() -> dict:
    """The Milano customer to show: offers now, a ladder position, a history.

    Chosen by a fixed rule on the deterministic demo, so the same customer
    appears each time the shop is built with the same seed.
    """
    # The same embedded settings as the server below, whatever the shell has.
    wanted = _env()
    for key in list(os.environ):
        if key not in wanted:
            del os.environ[key]
    os.environ.update(wanted)
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db.models import Count, Q

    from crm.models import Customer
    from recommendations.selectors import get_current_run_id

    run_id = get_current_run_id()
    customer = (
        Customer.objects.filter(
            home_store__code="MI01",
            suggestions__run_id=run_id,
            suggestions__status="new",
            suggestions__channel__in=["in_store", "checkout"],
        )
        .exclude(phone="")
        .annotate(
            offers=Count("suggestions", distinct=True),
            ladders=Count("ladder_positions", distinct=True),
            bought=Count("orders", filter=Q(orders__status="placed"), distinct=True),
        )
        .filter(offers__gte=2, ladders__gte=1, bought__range=(4, 12))
        .order_by("-offers", "-ladders", "-bought", "pk")
        .first()
    )
    if customer is None:
        raise SystemExit("no demo customer with offers: is the demo built?")
    bought = customer.orders.filter(status="placed").order_by("-placed_at", "-pk")
    skus = list(dict.fromkeys(bought.values_list("lines__product__sku", flat=True)))
    skus = skus[:2]
    return {"pk": customer.pk, "phone": customer.phone, "skus": skus}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            "--skip-checks",
        ],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/") as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the demo server did not start")


def log_in(page, username: str, language: str) -> None:
    labels = LABELS[language]
    page.goto("/accounts/login/")
    page.get_by_label(labels["username"]).fill(username)
    page.get_by_label(labels["password"]).fill(PASSWORD)
    page.get_by_role("button", name=labels["log_in"]).click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def customer_flow(page, subject: dict) -> None:
    from django.urls import reverse

    page.goto(reverse("crm:customer_detail", args=[subject["pk"]]))
    page.wait_for_load_state("networkidle")


def counter_flow(page, subject: dict) -> None:
    from django.urls import reverse

    page.goto(reverse("recommendations:counter"))
    lookup = page.locator("#counter-q")
    # As a customer says it: no country code, in groups.
    national = subject["phone"].removeprefix("+39")
    lookup.fill(f"{national[:3]} {national[3:6]} {national[6:]}")
    lookup.press("Enter")
    page.locator(".counter-card").first.wait_for()
    page.wait_for_load_state("networkidle")


def basket_flow(page, subject: dict) -> None:
    field = page.locator("#counter-sku")
    for sku in subject["skus"]:
        field.fill(sku)
        field.press("Enter")
        page.wait_for_load_state("networkidle")
    page.locator("#counter-basket").scroll_into_view_if_needed()


def save(page, name: str) -> Path:
    path = OUTPUT / name
    page.screenshot(path=str(path), type="png", animations="disabled")
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT)}: {size // 1024} KB")
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size // 1024} KB, over {MAX_BYTES // 1024} KB")
    return path


def shoot(*, base_url: str, subject: dict) -> None:
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        for language, locale in LOCALES.items():
            context = browser.new_context(
                base_url=base_url, locale=locale, viewport=DESKTOP
            )
            page = context.new_page()
            log_in(page, "sales", language)
            customer_flow(page, subject)
            save(page, f"customer-{language}.png")
            context.close()

            context = browser.new_context(
                base_url=base_url,
                locale=locale,
                viewport=TABLET,
                has_touch=True,
                is_mobile=True,
            )
            page = context.new_page()
            log_in(page, "clerk_mi", language)
            counter_flow(page, subject)
            save(page, f"counter-{language}.png")
            if language == "en":
                basket_flow(page, subject)
                save(page, "counter-basket-en.png")
            context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--customers", type=int, default=5000)
    args = parser.parse_args()
    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")
    # The demo command keeps an existing demo (it only refreshes the users).
    build_demo(customers=args.customers, rebuild=args.rebuild)
    subject = pick_subject()
    port = _free_port()
    server = start_server(port)
    try:
        shoot(base_url=f"http://127.0.0.1:{port}", subject=subject)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()

"""SEC-02: security headers on every named URL, and no inline script or style.

Walks every route of ``get_resolver()`` as a manager, so a page added later is
checked without being listed; a route with arguments needs a row in
``tests/security/routes.py`` (the test says so by name).
"""

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.security.routes import all_routes, route_url

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
ROUTES = all_routes()

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
# Django's own admin templates are not ours to rewrite.
BODY_CHECK_EXEMPT = ("admin:",)
# Declared, page-scoped CSP relaxations: route name → why. Anything else with
# 'unsafe-inline' fails the test.
CSP_EXCEPTIONS = {
    "crm-api:redoc": "ReDoc's bundle injects <style> elements (schema only, no PII)",
}


def assert_security_headers(response, label: str, *, name: str = "") -> None:
    assert response["X-Content-Type-Options"] == "nosniff", label
    assert response["Referrer-Policy"] == "same-origin", label
    assert response["X-Frame-Options"] == "DENY", label
    csp = response.get("Content-Security-Policy", "")
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
    ):
        assert directive in csp, f"{label}: CSP lacks {directive!r}: {csp!r}"
    assert "unsafe-eval" not in csp, label
    if name in CSP_EXCEPTIONS:
        assert "script-src 'self';" in csp + ";", f"{label}: scripts stay strict"
    else:
        assert "unsafe-inline" not in csp, f"{label}: undeclared CSP exception"
    assert "no-store" in response.get("Cache-Control", ""), (
        f"{label}: Cache-Control is {response.get('Cache-Control')!r}"
    )


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_every_page_and_api_answer_carries_the_security_headers(
    route, scenario, manager
):
    client = Client()
    client.force_login(manager)
    url = route_url(route, scenario)
    response = client.get(url)
    label = f"{route.name} GET {url} → {response.status_code}"
    assert response.status_code < 500, label
    assert_security_headers(response, label, name=route.name)
    if response.get("Content-Type", "").startswith("text/html") and not (
        route.name.startswith(BODY_CHECK_EXEMPT)
    ):
        body = response.content.decode()
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, INLINE_HANDLER):
            found = pattern.search(body)
            assert found is None, f"{label}: inline code the CSP blocks: {found[0]!r}"


@pytest.mark.parametrize("name", ["login", "health", "crm-api:token"])
def test_anonymous_answers_carry_the_headers_too(name, db):
    from django.urls import reverse

    response = Client().get(reverse(name))
    assert_security_headers(response, name)


def test_error_pages_carry_the_headers(manager):
    client = Client()
    client.force_login(manager)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_security_headers(response, "404")


def test_no_template_in_the_repository_has_inline_script_or_style():
    offenders = []
    for template in REPO.glob("**/templates/**/*.html"):
        if ".venv" in template.parts or "staticfiles" in template.parts:
            continue
        text = template.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, INLINE_HANDLER):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{template.relative_to(REPO)}:{line}: {match[0]}")
    assert not offenders, "inline code the CSP blocks:\n" + "\n".join(offenders)


def test_the_policy_forbids_inline_code_and_framing(settings):
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]


def test_htmx_does_not_inject_its_inline_indicator_style(manager):
    """htmx adds a <style> for its indicator unless told not to; the CSP blocks it.

    Found with a real browser on the counter page (console: "Applying inline
    style violates ... style-src 'self'"); site.css carries the rules instead.
    """
    client = Client()
    client.force_login(manager)
    html = client.get("/").content.decode()
    assert (
        """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>"""
        in html
    )
    assert ".htmx-indicator" in (REPO / "crm/static/crm/site.css").read_text()

"""SEC-10: no state change with a session unless the request carries a CSRF token.

Every named route gets POST, PUT, PATCH and DELETE from a logged-in manager
without a token: each must be refused with 403 before any view code runs. The
only route allowed to skip the check is RFC 8058's one-click unsubscribe,
which is authenticated by its own signed token, not by a session.
"""

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.security.routes import all_routes, route_url

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
ROUTES = all_routes()
# Modules allowed to use csrf_exempt, and the one route: RFC 8058 one-click
# unsubscribe, a POST from the mail client authenticated by its signed token.
CSRF_EXEMPT_ALLOWLIST = {"campaigns/unsubscribe.py"}
CSRF_EXEMPT_ROUTES = {"campaigns_public:unsubscribe_one_click"}
UNSAFE_METHODS = ("post", "put", "patch", "delete")


def csrf_exempt_by_design(route) -> bool:
    """A plain Django view marked csrf_exempt from an allowlisted module.

    DRF views are all marked csrf_exempt by DRF itself; SessionAuthentication
    re-applies the check, so they are tested like every other route.
    """
    if route.view_class is not None and hasattr(
        route.view_class, "authentication_classes"
    ):
        return False
    if not getattr(route.callback, "csrf_exempt", False):
        return False
    module = route.callback.__module__.replace(".", "/") + ".py"
    assert route.name in CSRF_EXEMPT_ROUTES and module in CSRF_EXEMPT_ALLOWLIST, (
        f"{route.name} ({module}) is csrf_exempt but not allowlisted (SEC-10)"
    )
    return True


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_unsafe_methods_without_a_csrf_token_are_refused(route, scenario, manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    url = route_url(route, scenario)
    if csrf_exempt_by_design(route):
        return  # RFC 8058 one-click: token-authenticated, checked in campaigns' tests
    for method in UNSAFE_METHODS:
        response = getattr(client, method)(url)
        assert response.status_code == 403, (
            f"{route.name}: {method.upper()} {url} without a CSRF token answered "
            f"{response.status_code}"
        )


def test_the_login_form_keeps_django_csrf(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403


def test_csrf_exempt_is_used_only_where_allowlisted():
    usages = []
    for path in REPO.glob("**/*.py"):
        relative = path.relative_to(REPO)
        if relative.parts[0] in {".venv", "tests", "staticfiles"}:
            continue
        text = path.read_text()
        if re.search(r"\bcsrf_exempt\b", text):
            usages.append(str(relative))
    unexpected = sorted(set(usages) - CSRF_EXEMPT_ALLOWLIST)
    assert not unexpected, f"csrf_exempt outside the allowlist: {unexpected}"

"""Deny by default (SEC-06) and generic error pages (SEC-17)."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Reachable without logging in, on purpose.
PUBLIC_URL_NAMES = {
    "login",
    "health",
    "set_language",
    "crm-api:token",
    "admin:login",
    "admin:logout",
    "admin:jsi18n",
    # One-click unsubscribe must work from a mail client without a login
    # (RFC 8058); the token in the URL is the authentication. The SMS gateway
    # webhook authenticates with a shared secret instead of a session.
    "campaigns_public:unsubscribe",
    "campaigns_public:unsubscribe_one_click",
}


def walk(patterns, prefix="", namespace=""):
    """Yield (url name, concrete path) for every pattern, params filled with 1."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}{pattern.namespace}:"
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            if "format>" in route:
                continue  # the same view as the suffix-less route
            yield f"{namespace}{pattern.name}", concrete_path(route)


def concrete_path(route: str) -> str:
    route = (
        route.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\.", ".")
    )
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = re.sub(
        r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) != "str" else "x", route
    )
    route = route.replace("/?", "/").replace("(?:", "").replace(")?", "")
    return "/" + route


ALL_URLS = sorted(set(walk(get_resolver().url_patterns)))


def test_every_named_url_is_walked():
    names = {name for name, _ in ALL_URLS}
    assert "crm:home" in names and "crm-api:customer-list" in names


@pytest.mark.parametrize(
    ("name", "path"), [u for u in ALL_URLS if u[0] not in PUBLIC_URL_NAMES]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_users_are_refused_everywhere_but_the_allowlist(name, path, method):
    response = getattr(Client(), method)(path)
    if response.status_code in (301, 302):
        assert "login" in response["Location"], (
            f"{name} {path} → {response['Location']}"
        )
    else:
        assert response.status_code in (401, 403, 404, 405), (
            f"{name} {path} answered {response.status_code} to an anonymous {method}"
        )
        assert response.status_code != 404 or "admin" in name or name.startswith("None")


def test_health_is_public_and_checks_the_database():
    response = Client().get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.urls("tests.crm.urls_with_error")
def test_server_errors_show_no_internals(manager, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    response = client.get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Traceback" not in body and "SELECT" not in body
    assert "SECRET_KEY" not in body and "kaboom-secret" not in body
    assert "Something went wrong" in body


def test_login_logout_round_trip(manager):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "manager", "password": "pass-Word-123"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_message(manager):
    response = Client().post(
        "/accounts/login/", {"username": "manager", "password": "nope"}
    )
    assert response.status_code == 200
    assert "didn" in response.content.decode()

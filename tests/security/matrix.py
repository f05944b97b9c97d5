"""Load ``permission_matrix.yaml`` and replay one cell: a role, a route, a method."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction
from django.test import Client

from tests.security.routes import Route, route_url

MATRIX_FILE = Path(__file__).with_name("permission_matrix.yaml")
ROLES = ("anonymous", "inactive", "clerk_a", "clerk_b", "sales", "manager")
# Methods replayed per route kind; PUT is checked through PATCH (same permission).
DETAIL_METHODS = ("get", "patch", "delete")


def load_matrix() -> dict:
    with MATRIX_FILE.open() as handle:
        document = yaml.safe_load(handle)
    return document["routes"]


def methods_of(route: Route) -> tuple[str, ...]:
    """The HTTP methods a route answers, lower-case, OPTIONS/HEAD left out."""
    actions = getattr(route.callback, "actions", None)
    if actions:  # a DRF viewset route: method → action
        methods = [m for m in actions if m != "put"]
        return tuple(m for m in ("get", "post", "patch", "delete") if m in methods)
    view_class = route.view_class
    if view_class is None:  # a function view: GET and POST are both tried
        return ("get", "post")
    allowed = [
        m
        for m in ("get", "post", "patch", "delete")
        if m in view_class.http_method_names and hasattr(view_class, m)
    ]
    return tuple(allowed)


def replay(*, route: Route, method: str, role: str, users: dict, scenario) -> int:
    """The status the route answers ``role``; writes are rolled back."""
    client = Client()
    if role != "anonymous":
        client.force_login(users[role])
    url = route_url(route, scenario)
    kwargs = {}
    if method in ("post", "patch", "put"):
        kwargs = (
            {"data": "{}", "content_type": "application/json"}
            if route.is_api
            else {"data": {}}
        )
    with transaction.atomic():
        status = getattr(client, method)(url, **kwargs).status_code
        transaction.set_rollback(True)
    return status

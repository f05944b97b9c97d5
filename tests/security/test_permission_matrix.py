"""SEC-07: replay every cell of permission_matrix.yaml, HTML pages and API alike.

One test per route and method; inside it, one request per role. A route that
is in the URLconf but not in the matrix fails ``test_every_route_is_in_the_matrix``
with a draft of its observed statuses to review and paste.
"""

import fnmatch

import pytest
import yaml

from tests.security.matrix import ROLES, load_matrix, methods_of, replay
from tests.security.routes import all_routes

pytestmark = pytest.mark.django_db

MATRIX = load_matrix()
ROUTES = {route.name: route for route in all_routes()}


def matrix_entry(name: str) -> dict | None:
    if name in MATRIX:
        return MATRIX[name]
    for pattern, entry in MATRIX.items():
        if "*" in pattern and fnmatch.fnmatchcase(name, pattern):
            return entry
    return None


CELLS = [
    (name, method)
    for name in sorted(ROUTES)
    if matrix_entry(name) is not None
    for method in matrix_entry(name)
    if method in ("get", "post", "put", "patch", "delete")
]


@pytest.fixture
def users(manager, sales, clerk_a, clerk_b, inactive):
    return {
        "manager": manager,
        "sales": sales,
        "clerk_a": clerk_a,
        "clerk_b": clerk_b,
        "inactive": inactive,
    }


@pytest.mark.parametrize(("name", "method"), CELLS, ids=[f"{n}-{m}" for n, m in CELLS])
def test_each_role_gets_the_declared_status(name, method, users, scenario):
    expected = matrix_entry(name)[method]
    assert set(expected) == set(ROLES), f"{name} {method}: give a status for {ROLES}"
    route = ROUTES[name]
    observed = {
        role: replay(
            route=route, method=method, role=role, users=users, scenario=scenario
        )
        for role in ROLES
    }
    wrong = {
        role: f"expected {expected[role]}, got {observed[role]}"
        for role in ROLES
        if observed[role] != expected[role]
    }
    assert not wrong, f"{name} {method.upper()}: {wrong}"


def test_every_route_is_in_the_matrix(users, scenario):
    missing = [name for name in sorted(ROUTES) if matrix_entry(name) is None]
    if not missing:
        return
    draft = {}
    for name in missing:
        route = ROUTES[name]
        try:
            draft[name] = {
                "resource": "?",
                **{
                    method: {
                        role: replay(
                            route=route,
                            method=method,
                            role=role,
                            users=users,
                            scenario=scenario,
                        )  # fmt: skip
                        for role in ROLES
                    }
                    for method in methods_of(route)
                },
            }
        except Exception as exc:  # no URL_ARGUMENTS row yet, or the view crashed
            draft[name] = {"resource": "?", "error": f"{type(exc).__name__}: {exc}"}
    pytest.fail(
        f"{len(missing)} route(s) missing from tests/security/permission_matrix.yaml:\n"
        + "\n".join(f"  - {name}" for name in missing)
        + "\n\nObserved today (review before pasting; observed is not intended):\n"
        + yaml.safe_dump(draft, sort_keys=False, default_flow_style=None, width=120)
    )


def test_the_matrix_names_no_route_that_is_gone():
    stale = [name for name in MATRIX if "*" not in name and name not in ROUTES]
    assert not stale, f"routes in the matrix but not in the URLconf: {stale}"


def test_every_declared_method_is_one_the_route_answers():
    unknown = {
        name: sorted(
            set(entry) - {"resource", "actions"} - set(methods_of(ROUTES[name]))
        )
        for name, entry in MATRIX.items()
        if "*" not in name and name in ROUTES
    }
    unknown = {name: methods for name, methods in unknown.items() if methods}
    assert not unknown, f"methods the routes do not answer: {unknown}"

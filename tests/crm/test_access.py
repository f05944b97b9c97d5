"""crm.auth: the logged-in user's roles and permissions in one query (PERF-01).

The backend must answer exactly what Django's ModelBackend answers, so each
check compares the two on the same fresh user.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.auth import RoleBackend, group_names
from crm.roles import CLERK, MANAGER, role_of, store_id_of
from tests.crm.factories import UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    """The user as a new request loads it (no cache from earlier checks)."""
    return RoleBackend().get_user(user.pk)


@pytest.mark.parametrize("role", ["manager", "sales", "clerk_a"])
def test_permissions_are_the_model_backends(role, request):
    user = request.getfixturevalue(role)
    user.user_permissions.add(Permission.objects.get(codename="view_suggestion"))
    expected = ModelBackend().get_all_permissions(
        get_user_model().objects.get(pk=user.pk)
    )
    fresh = _fresh(user)
    assert RoleBackend().get_all_permissions(fresh) == expected
    assert "recommendations.view_suggestion" in expected  # the user's own permission
    assert RoleBackend().get_user_permissions(fresh) == {
        "recommendations.view_suggestion"
    }


def test_role_store_and_permissions_cost_one_query_after_the_user(clerk_a, store_a):
    with CaptureQueriesContext(connection) as queries:
        user = _fresh(clerk_a)
        assert role_of(user) == CLERK
        assert store_id_of(user) == store_a.pk
        assert user.has_perm("crm.view_customer")
        assert not user.has_perm("crm.delete_customer")
        assert user.has_perms(["crm.view_customer", "crm.add_order"])
    # The user row with the staff profile joined, then groups and permissions.
    assert len(queries) == 2, [q["sql"] for q in queries.captured_queries]
    assert group_names(user) == {"clerk"}


def test_inactive_users_have_no_permission_and_no_role(manager):
    get_user_model().objects.filter(pk=manager.pk).update(is_active=False)
    user = get_user_model().objects.get(pk=manager.pk)
    assert RoleBackend().get_user(manager.pk) is None  # logged out
    assert RoleBackend().get_all_permissions(user) == set()
    assert role_of(user) is None


def test_superusers_have_every_permission():
    admin = UserFactory(username="root", is_superuser=True)
    fresh = _fresh(admin)
    assert RoleBackend().get_all_permissions(
        fresh
    ) == ModelBackend().get_all_permissions(get_user_model().objects.get(pk=admin.pk))
    assert fresh.has_perm("campaigns.launch_campaign")
    assert role_of(fresh) == MANAGER


def test_a_user_without_a_role_or_profile(db):
    nobody = _fresh(UserFactory(username="nobody"))
    assert role_of(nobody) is None
    assert store_id_of(nobody) is None
    assert not nobody.has_perm("crm.view_customer")

"""Who a logged-in user is and may do, in two queries per request (PERF-01).

Django's ``ModelBackend`` reads a user's own permissions and their groups'
permissions in two queries, ``crm.roles.role_of`` read the group names in a
third and ``crm.roles.store_id_of`` the staff profile in a fourth: every page
paid all four on top of the user row. Here the user row comes with the staff
profile (one join), and the group names and both kinds of permission come in
one UNION query, cached on the user object for the request like Django's own
``_perm_cache`` (so a role change is seen from the next request on, as before).

Superusers keep ``ModelBackend``'s path (every permission), inactive and
anonymous users have none, exactly as before.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, F, Value

_GROUP, _USER_PERM, _GROUP_PERM = "g", "u", "p"


def _rows(queryset, kind: str, app, name):
    text = CharField()
    # No ORDER BY: SQLite refuses one inside a UNION (Permission has a default).
    return (
        queryset.order_by()
        .annotate(
            access_kind=Value(kind, output_field=text),
            access_app=app,
            access_name=name,
        )
        .values_list("access_kind", "access_app", "access_name")
    )


def load_access(user) -> None:
    """Read the user's group names and permissions in one query and cache them.

    Sets ``_ladder_groups`` (group names) and ``ModelBackend``'s
    ``_user_perm_cache`` / ``_group_perm_cache`` ("app_label.codename" sets).
    Does nothing when they are already loaded for this request.
    """
    if hasattr(user, "_ladder_groups"):
        return
    text = CharField()
    groups = _rows(
        Group.objects.filter(user=user),
        _GROUP,
        Value("", output_field=text),
        F("name"),
    )
    own = _rows(
        Permission.objects.filter(user=user),
        _USER_PERM,
        F("content_type__app_label"),
        F("codename"),
    )
    inherited = _rows(
        Permission.objects.filter(group__user=user),
        _GROUP_PERM,
        F("content_type__app_label"),
        F("codename"),
    )
    names: set[str] = set()
    perms: dict[str, set[str]] = {_USER_PERM: set(), _GROUP_PERM: set()}
    for kind, app, name in groups.union(own, inherited, all=True):
        if kind == _GROUP:
            names.add(name)
        else:
            perms[kind].add(f"{app}.{name}")
    user._ladder_groups = frozenset(names)
    if not user.is_superuser:
        user._user_perm_cache = perms[_USER_PERM]
        user._group_perm_cache = perms[_GROUP_PERM]


def group_names(user) -> frozenset[str]:
    """The names of the user's groups (their roles), from the request's cache."""
    load_access(user)
    return user._ladder_groups


class RoleBackend(ModelBackend):
    """``ModelBackend`` with the staff profile joined and permissions in one query."""

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("staff_profile").get(
                pk=user_id
            )
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def _get_permissions(self, user_obj, obj, from_name):
        if (
            not user_obj.is_active
            or user_obj.is_anonymous
            or obj is not None
            or user_obj.is_superuser
        ):
            return super()._get_permissions(user_obj, obj, from_name)
        load_access(user_obj)
        return getattr(user_obj, f"_{from_name}_perm_cache")

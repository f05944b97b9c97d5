"""Staff roles: Django groups, and who may do what with which model.

The groups are created by a data migration; ``ROLE_PERMISSIONS`` is the single
source of truth for what each role may do, read by that migration and by the
``sync_roles`` management command when permissions change.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

SALES = "sales"
CLERK = "clerk"
MANAGER = "manager"
ROLES = (MANAGER, SALES, CLERK)

_ALL = ("view", "add", "change", "delete")

# model label → actions, per role. Clerks are further limited to their store
# by the selectors; these rows only say which kinds of object they may touch.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    MANAGER: {
        "crm.store": _ALL,
        "crm.customer": _ALL,
        "crm.channelconsent": _ALL,
        "crm.consentevent": ("view",),
        "crm.category": _ALL,
        "crm.product": _ALL,
        "crm.order": _ALL,
        "crm.orderline": _ALL,
        "crm.return": _ALL,
        "crm.interaction": _ALL,
        "crm.importjob": ("view", "add"),
        "crm.staffprofile": ("view",),
    },
    SALES: {
        "crm.store": ("view",),
        "crm.customer": ("view", "add", "change"),
        "crm.channelconsent": ("view", "add", "change"),
        "crm.consentevent": ("view",),
        "crm.category": ("view",),
        "crm.product": ("view",),
        "crm.order": ("view", "add"),
        "crm.orderline": ("view", "add"),
        "crm.return": ("view", "add"),
        "crm.interaction": ("view", "add", "change"),
    },
    CLERK: {
        "crm.store": ("view",),
        "crm.customer": ("view", "add", "change"),
        "crm.channelconsent": ("view", "add", "change"),
        "crm.consentevent": ("view",),
        "crm.category": ("view",),
        "crm.product": ("view",),
        "crm.order": ("view", "add"),
        "crm.orderline": ("view", "add"),
        "crm.return": ("view", "add"),
        "crm.interaction": ("view", "add"),
    },
}


def role_of(user: AbstractBaseUser | AnonymousUser) -> str | None:
    """The user's role name, the highest if several; None for anonymous users.

    Superusers count as managers. Group names are cached on the user object
    for the request, so checking the role costs one query at most: the one
    that also loads the user's permissions (``crm.auth.load_access``).
    """
    from crm.auth import group_names

    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return MANAGER
    cached = getattr(user, "_ladder_role", False)
    if cached is not False:
        return cached
    names = group_names(user)
    role = next((r for r in ROLES if r in names), None)
    user._ladder_role = role
    return role


def store_id_of(user: AbstractBaseUser | AnonymousUser) -> int | None:
    """The store a clerk acts for (None for other roles or an unassigned clerk)."""
    if not user.is_authenticated:
        return None
    profile = getattr(user, "staff_profile", None)
    return profile.store_id if profile is not None else None


def is_store_scoped(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Clerks see only their own store's customers and orders."""
    return role_of(user) == CLERK

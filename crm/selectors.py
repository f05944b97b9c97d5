"""Read queries for the core domain, with the role scoping policy (SEC-08).

Every list, detail, search and export of customer data starts from one of the
``*_visible_to(user)`` selectors, so a clerk's store limit is applied in one
place and cannot be forgotten by a view. The policy:

* managers and sales staff see every store's data;
* a clerk sees the customers whose home store is their store, the orders
  placed at their store, and the lines, returns, interactions and consents
  hanging off those; a clerk with no store sees nothing;
* anyone else (anonymous, inactive, no role) sees nothing: deny by default.

The querysets come with the joins their API lists need, so a page costs the
same number of queries for 1 row and for 50 (PERF-01).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from crm.models import (
    Category,
    ChannelConsent,
    ConsentEvent,
    Customer,
    Interaction,
    Order,
    OrderLine,
    Product,
    Return,
    Store,
)
from crm.roles import CLERK, ROLES, role_of, store_id_of

User = AbstractBaseUser | AnonymousUser


class _Scope:
    """Which stores a user may see: all of them, one, or none."""

    __slots__ = ("all_stores", "store_id")

    def __init__(self, *, all_stores: bool, store_id: int | None) -> None:
        self.all_stores = all_stores
        self.store_id = store_id

    @property
    def nothing(self) -> bool:
        return not self.all_stores and self.store_id is None


def _scope_of(user: User) -> _Scope:
    role = role_of(user)
    if role is None or role not in ROLES:
        return _Scope(all_stores=False, store_id=None)
    if role == CLERK:
        return _Scope(all_stores=False, store_id=store_id_of(user))
    return _Scope(all_stores=True, store_id=None)


def acting_store_id(user: User) -> int | None:
    """The store a store-scoped user must act for; None when not scoped.

    Raises nothing: callers decide what an unassigned clerk may do (nothing).
    """
    return store_id_of(user) if role_of(user) == CLERK else None


def stores_visible_to(user: User) -> QuerySet[Store]:
    """Stores are reference data: every staff role may read them all."""
    if role_of(user) is None:
        return Store.objects.none()
    return Store.objects.all()


def categories_visible_to(user: User) -> QuerySet[Category]:
    """The whole category tree, for any staff role."""
    if role_of(user) is None:
        return Category.objects.none()
    return Category.objects.all()


def products_visible_to(user: User) -> QuerySet[Product]:
    """The whole catalogue (inactive products included), for any staff role."""
    if role_of(user) is None:
        return Product.objects.none()
    return Product.objects.select_related("category")


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """Customers the user may see: all, or a clerk's home-store customers."""
    scope = _scope_of(user)
    queryset = Customer.objects.all()
    if scope.nothing:
        return queryset.none()
    if not scope.all_stores:
        queryset = queryset.filter(home_store_id=scope.store_id)
    return queryset


def orders_visible_to(user: User) -> QuerySet[Order]:
    """Orders the user may see, with their lines and products prefetched.

    A clerk sees the orders placed at their store, whoever the customer is.
    """
    scope = _scope_of(user)
    lines = OrderLine.objects.select_related("product").order_by("line_no")
    queryset = Order.objects.prefetch_related(Prefetch("lines", queryset=lines))
    if scope.nothing:
        return queryset.none()
    if not scope.all_stores:
        queryset = queryset.filter(store_id=scope.store_id)
    return queryset


def order_lines_visible_to(user: User) -> QuerySet[OrderLine]:
    """Lines of the orders the user may see (used to validate a return)."""
    scope = _scope_of(user)
    queryset = OrderLine.objects.select_related("order", "product")
    if scope.nothing:
        return queryset.none()
    if not scope.all_stores:
        queryset = queryset.filter(order__store_id=scope.store_id)
    return queryset


def returns_visible_to(user: User) -> QuerySet[Return]:
    """Returns of the lines of the orders the user may see."""
    scope = _scope_of(user)
    queryset = Return.objects.select_related("line")
    if scope.nothing:
        return queryset.none()
    if not scope.all_stores:
        queryset = queryset.filter(line__order__store_id=scope.store_id)
    return queryset


def interactions_visible_to(user: User) -> QuerySet[Interaction]:
    """Interactions with the customers the user may see."""
    scope = _scope_of(user)
    queryset = Interaction.objects.all()
    if scope.nothing:
        return queryset.none()
    if not scope.all_stores:
        queryset = queryset.filter(customer__home_store_id=scope.store_id)
    return queryset


def consents_visible_to(user: User) -> QuerySet[ChannelConsent]:
    """Current consent rows of the customers the user may see."""
    scope = _scope_of(user)
    queryset = ChannelConsent.objects.order_by("customer_id", "channel")
    if scope.nothing:
        return queryset.none()
    if not scope.all_stores:
        queryset = queryset.filter(customer__home_store_id=scope.store_id)
    return queryset


def consent_events_visible_to(user: User) -> QuerySet[ConsentEvent]:
    """Consent evidence of the customers the user may see, newest first."""
    scope = _scope_of(user)
    queryset = ConsentEvent.objects.all()
    if scope.nothing:
        return queryset.none()
    if not scope.all_stores:
        queryset = queryset.filter(customer__home_store_id=scope.store_id)
    return queryset


def list_marketable_customers(*, channel: str) -> QuerySet[Customer]:
    """Customers who may receive marketing on ``channel`` (PRIV-01).

    Only a granted consent row counts: no row (the default, and what an
    import without consent evidence leaves) means no marketing, and a
    withdrawal blocks the channel. Consent on one channel never opens another.
    """
    granted = ChannelConsent.objects.filter(channel=channel, granted=True)
    return Customer.objects.filter(pk__in=granted.values("customer_id"))

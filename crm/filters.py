"""FilterSets for the core domain: one per model, shared by HTML lists and the API.

Foreign keys are filtered by id with ``NumberFilter`` rather than
``ModelChoiceFilter``: a choice filter validates the id against the whole
table, so a clerk asking for another store's customer would get a 400 where a
customer of their own store gives an empty page, which tells them the row
exists. By id, an out-of-scope filter simply matches nothing, because the
queryset the FilterSet narrows already comes from a ``*_visible_to`` selector.

Each FilterSet also has a ``q`` free-text filter for the HTML lists; the API
uses DRF's ``?search=`` over the same ``*_SEARCH_FIELDS``.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from crm.models import (
    Category,
    Channel,
    ChannelConsent,
    ConsentEvent,
    Customer,
    Interaction,
    Order,
    Product,
    Return,
    Store,
)
from crm.validators import normalize_phone

MAX_ID = 2**63 - 1  # BigAutoField

STORE_SEARCH_FIELDS = ("code", "name", "city")
CATEGORY_SEARCH_FIELDS = ("name", "slug")
PRODUCT_SEARCH_FIELDS = ("name", "sku")
CUSTOMER_SEARCH_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "loyalty_card",
    "external_id",
)
ORDER_SEARCH_FIELDS = ("number",)
INTERACTION_SEARCH_FIELDS = ("notes",)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """Filter by a row id: a whole number in the id column's range, else a 400.

    The range check matters: SQLite raises OverflowError (a 500) on an id
    beyond 64 bits, and foreign-key lookups get no overflow guard from Django.
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def _search(queryset: QuerySet, fields: tuple[str, ...], value: str) -> QuerySet:
    condition = Q()
    for term in value.split():
        term_condition = Q()
        for field in fields:
            term_condition |= Q(**{f"{field}__icontains": term})
        condition &= term_condition
    return queryset.filter(condition)


class StoreFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = Store
        fields = ["code", "city", "country"]

    def filter_q(self, queryset, name, value):
        return _search(queryset, STORE_SEARCH_FIELDS, value)


class CategoryFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    parent = IdFilter(field_name="parent_id")
    root = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label="Root categories only"
    )

    class Meta:
        model = Category
        fields = ["slug"]

    def filter_q(self, queryset, name, value):
        return _search(queryset, CATEGORY_SEARCH_FIELDS, value)


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    category = IdFilter(field_name="category_id")

    class Meta:
        model = Product
        fields = ["sku", "kind", "active", "season", "is_consumable"]

    def filter_q(self, queryset, name, value):
        return _search(queryset, PRODUCT_SEARCH_FIELDS, value)


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    home_store = IdFilter(field_name="home_store_id")
    store = IdFilter(
        field_name="home_store_id", label="Home store (alias of home_store)"
    )
    has_email = django_filters.BooleanFilter(method="filter_has_email")
    has_phone = django_filters.BooleanFilter(method="filter_has_phone")

    class Meta:
        model = Customer
        fields = ["status", "preferred_channel", "gender", "country"]

    def filter_q(self, queryset, name, value):
        found = _search(queryset, CUSTOMER_SEARCH_FIELDS, value)
        # Phones are stored in E.164: "06 1234 5678" should find +390612345678.
        try:
            phone = normalize_phone(value)
        except ValidationError:
            phone = ""
        if phone:
            found = found | queryset.filter(phone=phone)
        return found

    def filter_has_email(self, queryset, name, value):
        return queryset.exclude(email="") if value else queryset.filter(email="")

    def filter_has_phone(self, queryset, name, value):
        return queryset.exclude(phone="") if value else queryset.filter(phone="")


class OrderFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    customer = IdFilter(field_name="customer_id")
    store = IdFilter(field_name="store_id")
    placed_after = django_filters.IsoDateTimeFilter(
        field_name="placed_at", lookup_expr="gte"
    )
    placed_before = django_filters.IsoDateTimeFilter(
        field_name="placed_at", lookup_expr="lt"
    )

    class Meta:
        model = Order
        fields = ["status", "channel", "number"]

    def filter_q(self, queryset, name, value):
        return _search(queryset, ORDER_SEARCH_FIELDS, value)


class ReturnFilterSet(django_filters.FilterSet):
    line = IdFilter(field_name="line_id")
    order = IdFilter(field_name="line__order_id")
    returned_after = django_filters.IsoDateTimeFilter(
        field_name="returned_at", lookup_expr="gte"
    )
    returned_before = django_filters.IsoDateTimeFilter(
        field_name="returned_at", lookup_expr="lt"
    )

    class Meta:
        model = Return
        fields = ["kind", "reference"]


class InteractionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    customer = IdFilter(field_name="customer_id")
    product = IdFilter(field_name="product_id")
    staff = IdFilter(field_name="staff_id")
    store = IdFilter(field_name="store_id")
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte"
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt"
    )

    class Meta:
        model = Interaction
        fields = ["kind", "channel", "outcome"]

    def filter_q(self, queryset, name, value):
        return _search(queryset, INTERACTION_SEARCH_FIELDS, value)


class ChannelConsentFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)

    class Meta:
        model = ChannelConsent
        fields = ["granted", "legal_basis"]


class ConsentEventFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte"
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt"
    )

    class Meta:
        model = ConsentEvent
        fields = ["action", "legal_basis"]

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

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
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
    # Purchase figures are subqueries (crm.selectors.annotate_customer_figures):
    # the customer list already has them; an API queryset gets them on demand.
    last_purchase_from = django_filters.DateFilter(
        method="filter_figure", label=_("Last purchase from")
    )
    last_purchase_to = django_filters.DateFilter(
        method="filter_figure", label=_("Last purchase to")
    )
    spend_min = django_filters.NumberFilter(
        method="filter_figure",
        label=_("Lifetime spend at least"),
        min_value=0,
        max_value=10**11,
    )
    spend_max = django_filters.NumberFilter(
        method="filter_figure",
        label=_("Lifetime spend at most"),
        min_value=0,
        max_value=10**11,
    )

    class Meta:
        model = Customer
        fields = ["status", "preferred_channel", "gender", "country"]

    def filter_figure(self, queryset, name, value):
        from crm.selectors import annotate_customer_figures

        if "lifetime_value" not in queryset.query.annotations:
            queryset = annotate_customer_figures(queryset)
        if name == "last_purchase_from":
            start = dt.datetime.combine(value, dt.time.min)
            return queryset.filter(last_purchase_at__gte=timezone.make_aware(start))
        if name == "last_purchase_to":
            end = dt.datetime.combine(value + dt.timedelta(days=1), dt.time.min)
            return queryset.filter(last_purchase_at__lt=timezone.make_aware(end))
        # The customer list brings a precomputed value when one exists
        # (crm.selectors.customer_stored_value): filter on it, as it sorts.
        field = (
            "stored_value"
            if "stored_value" in queryset.query.annotations
            else "lifetime_value"
        )
        if name == "spend_min":
            return queryset.filter(**{f"{field}__gte": value})
        return queryset.filter(**{f"{field}__lte": value})

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


class CustomerListFilterSet(CustomerFilterSet):
    """The HTML customer list's filters: the API's, plus the higher apps'.

    Ladder step and eligibility live in ladder and recommendations, which crm
    may not import (DESIGN.md); each declares ``customer_list_filters`` on its
    AppConfig (crm.hooks) and the filters are added here per instance. They
    stay out of the API's FilterSet, whose schema is generated from the class.
    """

    def __init__(self, *args, **kwargs):
        from crm.hooks import app_hooks

        super().__init__(*args, **kwargs)
        # The page's search box finds what the global search finds (accents,
        # spaces and phone formats forgiven, on indexes) rather than the
        # API's substring ``q``.
        self.filters["q"] = django_filters.CharFilter(
            method=self.filter_search, label="Search", max_length=100
        )
        self.hook_filters = {}
        for declare in app_hooks("customer_list_filters"):
            for spec in declare():
                self.hook_filters[spec.name] = spec
                self.filters[spec.name] = django_filters.ChoiceFilter(
                    choices=spec.choices,
                    label=spec.label,
                    method=self.filter_hook,
                    field_name=spec.name,
                )

    def filter_search(self, queryset, name, value):
        from crm.selectors import filter_customers_by_query

        return filter_customers_by_query(queryset, value)

    def filter_hook(self, queryset, name, value):
        return self.hook_filters[name].apply(queryset, value)

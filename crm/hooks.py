"""How apps above crm add to crm's customer pages without crm importing them.

Model dependencies point one way (``crm ← ladder ← recommendations ←
campaigns``, DESIGN.md), yet the customer list filters by ladder step and
eligibility and the customer page shows ladder positions and campaign
messages. As with ``manage.py demo`` (``demo_build``), each higher app names
a function on its AppConfig by dotted path, and crm calls whatever is
declared. An app that is absent or declares nothing simply contributes
nothing, so crm works alone.

AppConfig attributes (each a dotted path to a function):

``customer_list_filters() -> list[ListFilter]``
    Extra filters for the customer list (ladder step, eligibility).
``customer_annotations(user) -> dict[str, Expression]``
    Per-customer values as ORM expressions (e.g. a Subquery on the app's own
    model), added to the customer list and page queries: no extra query.
``customer_panels(request, customer) -> list[Panel]``
    Sections of the customer page, each a template and its context.
``customer_timeline(user, customer_id, cursor) -> list[(QuerySet, dict)]``
    Rows for the timeline: a queryset of the app's model (scoped to the user
    and customer, ordered newest first, and when ``cursor`` is not None
    filtered with ``cursor.q(date_field, rank)``) and a dict of expressions
    for the columns of ``TIMELINE_FIELDS`` (``at``, ``source`` e.g.
    "message", ``rank`` = Value(3) or more, ``row_id``, ``title``, …). The
    page UNIONs every source, so a timeline page is one query whatever the
    number of sources or the length of the history.
``newcomer_offers(user, customer, limit) -> list[Offer]``
    What to offer a customer with no history yet.
``customer_erased(customer_id) -> None``
    Blank or delete what the app holds about a customer being erased (free
    text staff typed, provider replies that may quote an address). Called
    inside ``erase_customer``'s transaction, before the customer is deleted
    or blanked; rows that only link ids may stay.
``customer_value(user) -> StoredValue | None``
    A lifetime value (net of returns) computed ahead for every customer,
    which the customer list sorts and filters by: summing every order line of
    every customer per request takes seconds at 100,000 customers. The
    first app returning one wins; with none (no app, or nothing computed
    yet) the list sorts and filters by the live figure, slower but exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string

TIMELINE_FIELDS = (
    "at",
    "source",
    "rank",
    "row_id",
    "title",
    "channel",
    "status",
    "detail",
    "notes",
    "amount",
    "quantity",
    "extra",
)


@dataclass(frozen=True)
class ListFilter:
    """One extra customer list filter: a select of ``choices()``."""

    name: str
    label: str
    choices: Callable[[], list[tuple[str, str]]]
    apply: Callable[[Any, str], Any]  # (queryset, value) -> queryset


@dataclass(frozen=True)
class Panel:
    """One section of the customer page, rendered with ``{% include %}``."""

    template: str
    context: dict = field(default_factory=dict)
    order: int = 50


@dataclass(frozen=True)
class Offer:
    """Something to offer a newcomer, with the reason a person can read."""

    name: str
    sku: str
    price: Any
    reason: str


@dataclass(frozen=True)
class StoredValue:
    """A precomputed per-customer lifetime value and when it was computed.

    ``annotations`` are added to the list query (expressions, or a
    ``FilteredRelation`` and the expression reading it, so the value is one
    join rather than a subquery per customer) and must define
    ``stored_value`` (NULL for a customer the computation did not cover);
    ``as_of`` and ``source`` are shown next to the figure so nobody mistakes
    it for a live one.
    """

    annotations: dict
    as_of: Any
    source: str


@cache
def app_hooks(attribute: str) -> tuple[Callable, ...]:
    """The functions the installed apps declare under ``attribute``."""
    return tuple(
        import_string(getattr(config, attribute))
        for config in apps.get_app_configs()
        if getattr(config, attribute, None)
    )

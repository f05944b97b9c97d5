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

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import and_, or_

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

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
    Suppression,
)
from crm.models.suppression import contact_digest, contact_for_channel
from crm.roles import CLERK, ROLES, role_of, store_id_of
from crm.search import CustomerSearchText, parse_query

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
    A contact on the suppression list (PRIV-03) stays out unless its consent
    was given after it was suppressed (new evidence).
    """
    granted = ChannelConsent.objects.filter(channel=channel, granted=True)
    customers = Customer.objects.filter(pk__in=granted.values("customer_id"))
    suppressed = list_suppressed_customer_ids(channel=channel)
    return customers.exclude(pk__in=suppressed) if suppressed else customers


def list_suppressed_customer_ids(*, channel: str) -> list[int]:
    """Ids of consenting customers whose contact is suppressed on ``channel``.

    The list holds keyed digests, so matching hashes each consenting
    customer's contact in Python (about 1 µs each); with an empty list for
    the channel it costs one query and nothing else.
    """
    since = dict(
        Suppression.objects.filter(channel=channel).values_list("digest", "created_at")
    )
    if not since:
        return []
    rows = ChannelConsent.objects.filter(channel=channel, granted=True).values_list(
        "customer_id", "changed_at", "customer__email", "customer__phone"
    )
    excluded = []
    for customer_id, changed_at, email, phone in rows.iterator(chunk_size=5000):
        contact = contact_for_channel(email=email, phone=phone, channel=channel)
        suppressed_at = since.get(contact_digest(contact)) if contact else None
        if suppressed_at is not None and suppressed_at >= changed_at:
            excluded.append(customer_id)
    return excluded


def filter_customers_by_query(
    queryset: QuerySet[Customer], query: str
) -> QuerySet[Customer]:
    """Narrow ``queryset`` to the customers a search box query matches.

    Matches an exact phone (any formatting), e-mail, loyalty card or external
    id on their indexes, or every name word inside the accent-, case- and
    space-folded name (``crm.search``: a trigram index on PostgreSQL).
    Annotates ``search_rank`` (0 for an exact key match, 1 for a name
    match). A query too short to search gives an empty queryset.
    """
    parsed = parse_query(query)
    if parsed.empty:
        return queryset.none()
    exact_parts = []
    if parsed.phones:
        exact_parts.append(Q(phone__in=parsed.phones))
    if parsed.email:
        exact_parts.append(Q(email=parsed.email))
    if parsed.codes:
        exact_parts.append(Q(loyalty_card__in=parsed.codes))
        exact_parts.append(Q(external_id__in=parsed.codes))
    conditions = list(exact_parts)
    if parsed.name_tokens:
        queryset = queryset.annotate(search_text=CustomerSearchText())
        conditions.append(
            reduce(and_, (Q(search_text__contains=t) for t in parsed.name_tokens))
        )
    rank = Value(1)
    if exact_parts:
        rank = Case(
            When(reduce(or_, exact_parts), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    return queryset.filter(reduce(or_, conditions)).annotate(search_rank=rank)


def search_customers(user: User, query: str, *, limit: int = 20) -> list[Customer]:
    """Customers matching a search box query, best matches first (PERF-01).

    See ``filter_customers_by_query`` for what matches. Scoped by
    ``customers_visible_to``, so a clerk only finds their store's customers.
    Exact key matches rank first, then by name. One query (home store
    included); an empty or too short query returns [] without a query.
    """
    if limit <= 0 or parse_query(query).empty:
        return []
    visible = customers_visible_to(user).select_related("home_store")
    matches = filter_customers_by_query(visible, query)
    return list(
        matches.order_by("search_rank", "last_name", "first_name", "id")[:limit]
    )


# --- Customer list and customer page (issue 6) ------------------------------

MONEY = DecimalField(max_digits=14, decimal_places=2)
TIMELINE_PAGE_SIZE = 20


def _placed_lines_of_outer_customer() -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(
        order__customer_id=OuterRef("pk"), order__status=Order.Status.PLACED
    ).order_by()


def _sum_of(lines: QuerySet[OrderLine], expression) -> Subquery:
    return Subquery(
        lines.values("order__customer_id")
        .annotate(total=Sum(expression, output_field=MONEY))
        .values("total")[:1],
        output_field=MONEY,
    )


def annotate_customer_figures(
    queryset: QuerySet[Customer], *, now: dt.datetime | None = None
) -> QuerySet[Customer]:
    """Add lifetime value, 12-month spend, order count and last purchase.

    Correlated subqueries on the (customer, placed_at) index: no extra query,
    and a page of 50 customers costs the same as a page of 1 (PERF-01).
    Values are net of returns (kept quantity x unit price) over placed
    orders, across every store: they describe the customer, not a till.
    """
    now = now or timezone.now()
    kept = ExpressionWrapper(
        (F("quantity") - F("returned_quantity")) * F("unit_price"), output_field=MONEY
    )
    lines = _placed_lines_of_outer_customer()
    placed = Order.objects.filter(
        customer_id=OuterRef("pk"), status=Order.Status.PLACED
    ).order_by()
    return queryset.annotate(
        lifetime_value=Coalesce(_sum_of(lines, kept), Value(Decimal("0"))),
        spend_12_months=Coalesce(
            _sum_of(
                lines.filter(order__placed_at__gte=now - dt.timedelta(days=365)),
                kept,
            ),
            Value(Decimal("0")),
        ),
        last_purchase_at=Subquery(
            placed.order_by("-placed_at").values("placed_at")[:1]
        ),
        orders_count=Coalesce(
            Subquery(
                placed.values("customer_id").annotate(n=Count("pk")).values("n")[:1],
                output_field=IntegerField(),
            ),
            Value(0),
        ),
    )


def annotate_customer_hooks(
    queryset: QuerySet[Customer], *, user: User
) -> QuerySet[Customer]:
    """Add the per-customer values higher apps declare (crm.hooks)."""
    from crm.hooks import app_hooks

    for hook in app_hooks("customer_annotations"):
        queryset = queryset.annotate(**hook(user))
    return queryset


def list_customers(user: User) -> QuerySet[Customer]:
    """The customer list's rows: scoped, with store, figures and hook values."""
    queryset = customers_visible_to(user).select_related("home_store")
    return annotate_customer_hooks(annotate_customer_figures(queryset), user=user)


def customer_stored_value(user: User):
    """The precomputed lifetime value the list sorts and filters by, if any.

    A ``crm.hooks.StoredValue`` from the first app declaring
    ``customer_value`` that has one, else None (the list then sorts and
    filters by the live figure: exact, but it aggregates every order line).
    """
    from crm.hooks import app_hooks

    for hook in app_hooks("customer_value"):
        stored = hook(user)
        if stored is not None:
            return stored
    return None


def get_customer_for_page(user: User, *, customer_id: int) -> Customer | None:
    """One customer with figures, hook values and consents; None if not visible.

    Two queries: the customer row (figures as subqueries) and the consents.
    """
    customer = (
        list_customers(user)
        .prefetch_related(
            Prefetch("consents", queryset=ChannelConsent.objects.order_by("channel"))
        )
        .filter(pk=customer_id)
        .first()
    )
    return customer


@dataclass(frozen=True)
class TimelineCursor:
    """Where a timeline page starts: after (at, rank, row_id) in the order
    newest first, then source rank, then newest id; ties on the date keep
    their place, so paging never drops or repeats an event."""

    at: dt.datetime
    rank: int
    row_id: int

    def encode(self) -> str:
        return f"{self.at.isoformat()}|{self.rank}|{self.row_id}"

    @classmethod
    def decode(cls, value: str | None) -> TimelineCursor | None:
        """The cursor in ``value``, or None (first page) when it is malformed."""
        try:
            at, rank, row_id = (value or "").split("|")
            when = dt.datetime.fromisoformat(at)
            if timezone.is_naive(when):
                return None
            return cls(at=when, rank=int(rank), row_id=int(row_id))
        except (ValueError, OverflowError):
            return None

    def q(self, date_field: str, rank: int, id_field: str = "pk") -> Q:
        """The rows of a source of ``rank`` that come after this cursor."""
        if rank > self.rank:
            return Q(**{f"{date_field}__lte": self.at})
        if rank < self.rank:
            return Q(**{f"{date_field}__lt": self.at})
        return Q(**{f"{date_field}__lt": self.at}) | Q(
            **{date_field: self.at, f"{id_field}__lt": self.row_id}
        )


def timeline_rows(queryset: QuerySet, **columns) -> QuerySet:
    """Shape ``queryset`` into the timeline's columns (crm.hooks.TIMELINE_FIELDS).

    Missing columns become NULL/'' of the right type; the annotations are
    added in one fixed order so the UNION's columns line up.
    """
    from crm.hooks import TIMELINE_FIELDS

    defaults = {
        "amount": Value(None, output_field=MONEY),
        "quantity": Value(None, output_field=IntegerField()),
    }
    annotations = {}
    for name in TIMELINE_FIELDS:
        expression = columns.get(name, defaults.get(name))
        if expression is None:
            expression = Value("", output_field=CharField())
        elif isinstance(expression, str):
            expression = Value(expression, output_field=CharField())
        annotations[f"tl_{name}"] = expression
    # The caller's ordering (newest first) is kept: each source is sliced to
    # one page before the UNION.
    return queryset.annotate(**annotations).values(
        *(f"tl_{name}" for name in TIMELINE_FIELDS)
    )


@dataclass
class TimelinePage:
    """One page of a customer's timeline, newest first."""

    events: list[dict]
    next_cursor: str | None


def list_customer_timeline(
    user: User,
    *,
    customer_id: int,
    cursor: TimelineCursor | None = None,
    page_size: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """Orders (with lines), returns, interactions and hook rows, by date.

    Two queries whatever the history length: one UNION ALL of every source
    (each limited to the page and scoped to the user), and the lines of the
    orders on the page. A clerk sees the orders and returns of their store.
    """
    from crm.hooks import app_hooks

    def after(queryset, date_field, rank):
        if cursor is not None:
            queryset = queryset.filter(cursor.q(date_field, rank))
        return queryset.order_by(f"-{date_field}", "-pk")

    text = CharField()
    sources: list[tuple[QuerySet, dict]] = [
        (
            after(
                orders_visible_to(user)
                .prefetch_related(None)
                .filter(customer_id=customer_id),
                "placed_at",
                0,
            ),
            dict(
                at=F("placed_at"),
                source="order",
                rank=Value(0),
                row_id=F("pk"),
                title=F("number"),
                channel=F("channel"),
                status=F("status"),
                detail=Coalesce(F("store__name"), Value(""), output_field=text),
            ),
        ),
        (
            after(
                returns_visible_to(user).filter(line__order__customer_id=customer_id),
                "returned_at",
                1,
            ),
            dict(
                at=F("returned_at"),
                source="return",
                rank=Value(1),
                row_id=F("pk"),
                title=F("line__product__name"),
                status=F("kind"),
                detail=F("line__order__number"),
                notes=F("reason"),
                amount=ExpressionWrapper(
                    F("quantity") * F("line__unit_price"), output_field=MONEY
                ),
                quantity=F("quantity"),
            ),
        ),
        (
            after(
                interactions_visible_to(user).filter(customer_id=customer_id),
                "occurred_at",
                2,
            ),
            dict(
                at=F("occurred_at"),
                source="interaction",
                rank=Value(2),
                row_id=F("pk"),
                title=Coalesce(F("product__name"), Value(""), output_field=text),
                channel=F("channel"),
                status=F("kind"),
                detail=F("outcome"),
                notes=F("notes"),
                extra=Coalesce(F("staff__username"), Value(""), output_field=text),
            ),
        ),
    ]
    for hook in app_hooks("customer_timeline"):
        sources.extend(hook(user, customer_id, cursor))
    # SQLite refuses LIMIT inside a UNION's parts, so each part keeps its
    # newest page_size + 1 rows through an ``IN (… LIMIT n)`` subquery.
    parts = [
        timeline_rows(
            queryset.model._base_manager.filter(
                pk__in=queryset.values("pk")[: page_size + 1]
            ).order_by(),
            **columns,
        )
        for queryset, columns in sources
    ]
    first, *rest = parts
    union = first.union(*rest, all=True).order_by("-tl_at", "tl_rank", "-tl_row_id")
    rows = [
        {name.removeprefix("tl_"): value for name, value in row.items()}
        for row in union[: page_size + 1]
    ]
    more = len(rows) > page_size
    rows = rows[:page_size]
    order_ids = [row["row_id"] for row in rows if row["source"] == "order"]
    lines: dict[int, list[OrderLine]] = {}
    if order_ids:
        for line in (
            OrderLine.objects.filter(order_id__in=order_ids)
            .select_related("product")
            .order_by("order_id", "line_no")
        ):
            lines.setdefault(line.order_id, []).append(line)
    kinds = dict(Interaction.Kind.choices)
    outcomes = dict(Interaction.Outcome.choices)
    for row in rows:
        if row["source"] == "interaction":
            row["status_label"] = kinds.get(row["status"], row["status"])
            row["detail_label"] = (
                outcomes.get(row["detail"], "") if row["detail"] else ""
            )
        if row["source"] == "order":
            row["lines"] = lines.get(row["row_id"], [])
            row["amount"] = sum((line.total for line in row["lines"]), Decimal("0"))
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = TimelineCursor(
            at=last["at"], rank=last["rank"], row_id=last["row_id"]
        ).encode()
    return TimelinePage(events=rows, next_cursor=next_cursor)

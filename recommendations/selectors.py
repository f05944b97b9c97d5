"""Reads for the recommendation jobs, pages and API.

The job loaders return the engine's input frames (column contracts in
``recommendations.engine``), each built by one query however many customers
it covers: no per-customer queries. On PostgreSQL the large frames are read
with ``COPY ... TO STDOUT`` (CSV), several times faster than cursor rows.
Decimals are converted to float here, once.

The page and API selectors apply the crm role scoping
(``crm.selectors.customers_visible_to``), so a clerk only ever reads the
suggestions of their store's customers (SEC-08).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Count, Exists, Q, QuerySet

from crm.models import ChannelConsent, Customer, Order, OrderLine, Product
from crm.roles import CLERK, ROLES, role_of, store_id_of
from crm.selectors import customers_visible_to, order_lines_visible_to
from ladder.models import CustomerLadderPosition, Ladder, Step, StepOffer
from recommendations.engine.basket import RuleIndex, build_rule_index
from recommendations.engine.basket import (
    suggest_for_basket as engine_suggest_for_basket,
)
from recommendations.engine.baskets import ORDER_LINE_COLUMNS
from recommendations.engine.candidates import (
    POSITION_COLUMNS,
    STEP_COLUMNS,
    STEP_OFFER_COLUMNS,
)
from recommendations.engine.filters import (
    CONSENT_COLUMNS,
    CUSTOMER_COLUMNS,
    DECLINED_COLUMNS,
    IN_PERSON,
)
from recommendations.engine.ranking import OUTCOME_COLUMNS
from recommendations.engine.reasons import format_percent, format_ratio, render_reason
from recommendations.engine.rules import RULE_COLUMNS
from recommendations.engine.scores import PRODUCT_COLUMNS
from recommendations.models import (
    AssociationRule,
    RecommendationRun,
    Suggestion,
)

User = AbstractBaseUser | AnonymousUser

#: Channels staff record in person (a clerk may record only these).
IN_PERSON_CHANNELS: frozenset[str] = frozenset({"in_store", "checkout"})
#: Engine channel -> stored channel.
CHANNEL_FROM_ENGINE: dict[str, str] = {IN_PERSON: "in_store"}
#: Stored or customer channel -> engine channel (web has no engine channel).
CHANNEL_TO_ENGINE: dict[str, str] = {
    "email": "email",
    "sms": "sms",
    "phone": "phone",
    "in_store": IN_PERSON,
    "checkout": IN_PERSON,
}
#: Suggestion statuses a page lists as open offers.
OPEN_STATUSES: tuple[str, ...] = (Suggestion.Status.NEW, Suggestion.Status.SHOWN)


@dataclass(frozen=True)
class CustomerRange:
    """Customers with ``first <= id <= last``; None bounds are open."""

    first: int | None = None
    last: int | None = None
    ids: tuple[int, ...] | None = None

    def q(self, field: str) -> Q:
        """A filter on ``field`` (a customer id path) for this range."""
        query = Q()
        if self.ids is not None:
            return Q(**{f"{field}__in": list(self.ids)})
        if self.first is not None:
            query &= Q(**{f"{field}__gte": self.first})
        if self.last is not None:
            query &= Q(**{f"{field}__lte": self.last})
        return query


ALL_CUSTOMERS = CustomerRange()


def _read_rows(
    queryset: QuerySet, columns: Iterable[str], *, bulk: bool = True
) -> pd.DataFrame:
    """Rows of ``queryset.values_list(*fields)`` as a frame named ``columns``.

    On PostgreSQL the query runs as a COPY to CSV and pandas parses it: for a
    million order lines this is several times faster than fetching tuples.
    Every column comes back as parsed by pandas (numbers, or str); callers set
    the dtypes they promise. ``bulk=False`` (a few rows, one customer) fetches
    tuples: cheaper than COPY plus a CSV parse at that size.
    """
    columns = list(columns)
    sql, params = queryset.query.sql_with_params()
    if bulk and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            literal = raw.mogrify(sql, params) if params else sql
            buffer = io.BytesIO()
            with raw.copy(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)") as copy:
                for block in copy:
                    buffer.write(block)
        buffer.seek(0)
        if buffer.getbuffer().nbytes == 0:
            return pd.DataFrame({column: [] for column in columns})
        return pd.read_csv(
            buffer, header=None, names=columns, keep_default_na=False, na_values=[""]
        )
    rows = list(queryset)
    if not rows:
        return pd.DataFrame({column: [] for column in columns})
    return pd.DataFrame.from_records(rows, columns=columns)


def _bool(series: pd.Series) -> pd.Series:
    if series.dtype == bool:
        return series
    return series.map(
        lambda value: value in (True, 1, "t", "true", "True", "1")
    ).astype(bool)


def load_order_lines(*, customers: CustomerRange = ALL_CUSTOMERS) -> pd.DataFrame:
    """Order lines (``ORDER_LINE_COLUMNS``) of the customers in ``customers``.

    With ``ALL_CUSTOMERS`` anonymous till orders are included (they count for
    the rules); a range or id list keeps known customers only.
    """
    queryset = OrderLine.objects.filter(customers.q("order__customer_id"))
    if customers != ALL_CUSTOMERS:
        queryset = queryset.filter(order__customer_id__isnull=False)
    queryset = queryset.order_by().values_list(
        "order_id",
        "order__customer_id",
        "product_id",
        "quantity",
        "returned_quantity",
        "unit_price",
        "order__placed_at",
        "order__status",
    )
    frame = _read_rows(queryset, ORDER_LINE_COLUMNS, bulk=customers.ids is None)
    frame["order_id"] = frame["order_id"].astype("int64")
    frame["customer_id"] = pd.array(frame["customer_id"], dtype="Int64")
    for column in ("product_id", "quantity", "returned_quantity"):
        frame[column] = frame[column].astype("int64")
    frame["unit_price"] = frame["unit_price"].astype("float64")
    frame["placed_at"] = pd.to_datetime(frame["placed_at"], utc=True, format="ISO8601")
    frame["order_status"] = frame["order_status"].astype(str)
    return frame


def load_products() -> pd.DataFrame:
    """The catalogue (``PRODUCT_COLUMNS``); charge lines count as inactive.

    A product without a category gets ``-product_id`` as its category, so the
    per-category diversity cap treats it as a category of its own.
    """
    queryset = Product.objects.order_by("pk").values_list(
        "pk",
        "sku",
        "name",
        "category_id",
        "kind",
        "price",
        "unit_cost",
        "season",
        "is_consumable",
        "active",
    )
    frame = pd.DataFrame.from_records(list(queryset), columns=list(PRODUCT_COLUMNS))
    frame["product_id"] = frame["product_id"].astype("int64")
    frame["category_id"] = (
        frame["category_id"].astype("float64").fillna(-frame["product_id"])
    ).astype("int64")
    frame["price"] = frame["price"].astype("float64")
    frame["unit_cost"] = pd.to_numeric(frame["unit_cost"], errors="coerce").astype(
        "float64"
    )
    frame["is_consumable"] = frame["is_consumable"].astype(bool)
    frame["active"] = frame["active"].astype(bool) & (
        frame["kind"] != Product.Kind.CHARGE
    )
    return frame


def load_customers(*, customers: CustomerRange = ALL_CUSTOMERS) -> pd.DataFrame:
    """Customers (``CUSTOMER_COLUMNS``) with their channel in engine terms."""
    queryset = (
        Customer.objects.filter(customers.q("pk"))
        .order_by("pk")
        .values_list(
            "pk",
            "birth_date",
            "gender",
            "latitude",
            "longitude",
            "preferred_channel",
            "home_store_id",
        )
    )
    frame = _read_rows(queryset, CUSTOMER_COLUMNS, bulk=customers.ids is None)
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["birth_date"] = pd.to_datetime(frame["birth_date"], errors="coerce")
    frame["gender"] = frame["gender"].astype(object).where(frame["gender"].notna(), "")
    for column in ("latitude", "longitude"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["preferred_channel"] = (
        frame["preferred_channel"].map(CHANNEL_TO_ENGINE).astype(object)
    )
    frame["preferred_channel"] = frame["preferred_channel"].where(
        frame["preferred_channel"].notna(), None
    )
    frame["home_store_id"] = pd.array(
        pd.to_numeric(frame["home_store_id"], errors="coerce"), dtype="Int64"
    )
    return frame


def load_consents(*, customers: CustomerRange = ALL_CUSTOMERS) -> pd.DataFrame:
    """Remote-channel consents (``CONSENT_COLUMNS``) of the customers."""
    queryset = (
        ChannelConsent.objects.filter(customers.q("customer_id"))
        .filter(channel__in=["email", "sms", "phone"])
        .order_by()
        .values_list("customer_id", "channel", "granted")
    )
    frame = _read_rows(queryset, CONSENT_COLUMNS, bulk=customers.ids is None)
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["channel"] = frame["channel"].astype(str)
    frame["granted"] = _bool(frame["granted"])
    return frame


def load_steps() -> pd.DataFrame:
    """Steps of published ladders (``STEP_COLUMNS``)."""
    queryset = (
        Step.objects.filter(ladder__active=True)
        .order_by("ladder_id", "position")
        .values_list(
            "ladder_id", "pk", "position", "product_id", "price", "cross_sell_only"
        )
    )
    frame = pd.DataFrame.from_records(list(queryset), columns=list(STEP_COLUMNS))
    for column in ("ladder_id", "step_id", "position", "product_id"):
        frame[column] = frame[column].astype("int64")
    frame["price"] = frame["price"].astype("float64")
    frame["cross_sell_only"] = frame["cross_sell_only"].astype(bool)
    return frame


def load_ladder_names() -> dict[int, str]:
    """Published ladders' names by id, for the upsell reasons."""
    return dict(Ladder.objects.filter(active=True).values_list("pk", "name"))


def load_step_offers() -> pd.DataFrame:
    """Complements of the steps of published ladders (``STEP_OFFER_COLUMNS``)."""
    queryset = (
        StepOffer.objects.filter(step__ladder__active=True)
        .order_by("pk")
        .values_list("step_id", "product_id")
    )
    frame = pd.DataFrame.from_records(list(queryset), columns=list(STEP_OFFER_COLUMNS))
    return frame.astype("int64")


def load_positions(*, customers: CustomerRange = ALL_CUSTOMERS) -> pd.DataFrame:
    """Stored ladder positions on published ladders (``POSITION_COLUMNS``)."""
    queryset = (
        CustomerLadderPosition.objects.filter(customers.q("customer_id"))
        .filter(ladder__active=True)
        .order_by()
        .values_list("customer_id", "ladder_id", "step_id")
    )
    return _read_rows(queryset, POSITION_COLUMNS, bulk=customers.ids is None).astype(
        "int64"
    )


def load_outcomes() -> pd.DataFrame:
    """Shown and accepted counts per (kind, engine channel) (``OUTCOME_COLUMNS``).

    Shown counts every suggestion staff put in front of a customer (shown,
    accepted, declined, converted); accepted counts accepted and converted.
    """
    status = Suggestion.Status
    rows = (
        Suggestion.objects.filter(
            status__in=[
                status.SHOWN,
                status.ACCEPTED,
                status.DECLINED,
                status.CONVERTED,
            ]
        )
        .order_by()
        .values("kind", "channel")
        .annotate(
            shown=Count("pk"),
            accepted=Count(
                "pk", filter=Q(status__in=[status.ACCEPTED, status.CONVERTED])
            ),
        )
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["kind", "channel", "shown", "accepted"]
    )
    frame["channel"] = frame["channel"].map(CHANNEL_TO_ENGINE)
    frame = frame.dropna(subset=["channel"])
    frame = frame.groupby(["kind", "channel"], as_index=False)[
        ["accepted", "shown"]
    ].sum()
    frame["accepted"] = frame["accepted"].astype("int64")
    frame["shown"] = frame["shown"].astype("int64")
    return frame[list(OUTCOME_COLUMNS)]


def load_declined(*, customers: CustomerRange = ALL_CUSTOMERS) -> pd.DataFrame:
    """Declined offers with when (``DECLINED_COLUMNS``), for the quiet period."""
    queryset = (
        Suggestion.objects.filter(customers.q("customer_id"))
        .filter(status=Suggestion.Status.DECLINED, status_changed_at__isnull=False)
        .order_by()
        .values_list("customer_id", "product_id", "status_changed_at")
    )
    frame = _read_rows(queryset, DECLINED_COLUMNS, bulk=customers.ids is None)
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["product_id"] = frame["product_id"].astype("int64")
    frame["declined_at"] = pd.to_datetime(
        frame["declined_at"], utc=True, format="ISO8601"
    )
    return frame


def load_rules(*, run_id: int) -> pd.DataFrame:
    """The rules stored for a run as a ``RULE_COLUMNS`` frame.

    Derived measures (antecedent and consequent support, leverage,
    conviction) are recomputed from support, confidence and lift.
    """
    rows = list(
        AssociationRule.objects.filter(run_id=run_id)
        .order_by("pk")
        .values_list(
            "antecedents", "consequent_id", "support", "confidence", "lift", "count"
        )
    )
    frame = pd.DataFrame.from_records(
        rows,
        columns=["antecedents", "consequent", "support", "confidence", "lift", "count"],
    )
    frame["antecedents"] = [
        tuple(int(item) for item in a) for a in frame["antecedents"]
    ]
    frame["consequent"] = frame["consequent"].astype("int64")
    for column in ("support", "confidence", "lift"):
        frame[column] = frame[column].astype("float64")
    frame["count"] = frame["count"].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["antecedent_support"] = frame["support"] / frame["confidence"]
        frame["consequent_support"] = frame["confidence"] / frame["lift"]
        frame["leverage"] = frame["support"] - (
            frame["antecedent_support"] * frame["consequent_support"]
        )
        frame["conviction"] = (1 - frame["consequent_support"]) / (
            1 - frame["confidence"]
        )
    frame["antecedent_len"] = frame["antecedents"].map(len).astype("int64")
    return frame[list(RULE_COLUMNS)]


def customer_id_bounds() -> tuple[int, int, int] | None:
    """(smallest id, largest id, count) of all customers; None when none."""
    from django.db.models import Max, Min

    bounds = Customer.objects.aggregate(
        first=Min("pk"), last=Max("pk"), count=Count("pk")
    )
    if not bounds["count"]:
        return None
    return bounds["first"], bounds["last"], bounds["count"]


def shard_ranges(*, shard_size: int) -> list[tuple[int, int]]:
    """Customer id ranges of about ``shard_size`` customers each, covering all.

    One query: every ``shard_size``-th id (window-free, so SQLite works too).
    """
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return []
    starts = ids[::shard_size]
    ranges = []
    for position, first in enumerate(starts):
        last = starts[position + 1] - 1 if position + 1 < len(starts) else ids[-1]
        ranges.append((first, last))
    return ranges


def get_current_run() -> RecommendationRun | None:
    """The completed run whose suggestions pages show, or None."""
    return RecommendationRun.objects.filter(is_current=True).first()


def get_current_run_id() -> int | None:
    """Id of the current run (one small query), or None."""
    return (
        RecommendationRun.objects.filter(is_current=True)
        .values_list("pk", flat=True)
        .first()
    )


def current_suggestions() -> QuerySet[Suggestion]:
    """Suggestions of the current run (and per-customer ones written before any).

    The subquery keeps this one query: no run lookup first.
    """
    current = RecommendationRun.objects.filter(is_current=True)
    # Run-less rows (a recompute before the first run) count until a run is
    # current; from then on they are stale and purged.
    return Suggestion.objects.filter(
        Q(run_id__in=current.values("pk")[:1])
        | (Q(run__isnull=True) & ~Exists(current))
    )


def suggestions_visible_to(user: User) -> QuerySet[Suggestion]:
    """Current suggestions of the customers the user may see (SEC-08)."""
    visible = customers_visible_to(user)
    return (
        current_suggestions()
        .filter(customer__in=visible.values("pk"))
        .select_related("product", "step")
        .order_by("customer_id", "rank", "pk")
    )


def list_customer_suggestions(
    *, user: User, customer_id: int, statuses: Iterable[str] | None = OPEN_STATUSES
) -> QuerySet[Suggestion]:
    """One customer's current offers, best first (what the customer page shows).

    Empty when the user may not see the customer. One query.
    """
    queryset = suggestions_visible_to(user).filter(customer_id=customer_id)
    if statuses is not None:
        queryset = queryset.filter(status__in=list(statuses))
    return queryset.order_by("rank", "pk")


def list_runs() -> QuerySet[RecommendationRun]:
    """Every run, newest first."""
    return RecommendationRun.objects.order_by("-created_at", "-pk")


def suggestion_performance() -> list[dict]:
    """Offers, shown, accepted, declined and converted per kind and channel.

    Rates are fractions of shown (None when nothing was shown). One query.
    """
    status = Suggestion.Status
    shown_statuses = [status.SHOWN, status.ACCEPTED, status.DECLINED, status.CONVERTED]
    rows = (
        Suggestion.objects.order_by()
        .values("kind", "channel")
        .annotate(
            total=Count("pk"),
            shown=Count("pk", filter=Q(status__in=shown_statuses)),
            accepted=Count(
                "pk", filter=Q(status__in=[status.ACCEPTED, status.CONVERTED])
            ),
            declined=Count("pk", filter=Q(status=status.DECLINED)),
            converted=Count("pk", filter=Q(status=status.CONVERTED)),
        )
        .order_by("kind", "channel")
    )
    result = []
    for row in rows:
        shown = row["shown"]
        row["acceptance_rate"] = row["accepted"] / shown if shown else None
        row["conversion_rate"] = row["converted"] / shown if shown else None
        row["kind_label"] = Suggestion.Kind(row["kind"]).label
        row["channel_label"] = Suggestion.Channel(row["channel"]).label
        result.append(row)
    return result


def order_product_ids(*, order_id: int) -> tuple[int | None, list[int]]:
    """(customer id, product ids) of an order; (None, []) when it is gone."""
    order = Order.objects.filter(pk=order_id).values("customer_id", "status").first()
    if order is None or order["status"] != Order.Status.PLACED:
        return None, []
    products = OrderLine.objects.filter(order_id=order_id).values_list(
        "product_id", flat=True
    )
    return order["customer_id"], list(products)


def products_by_sku(skus: Iterable[str]) -> dict[str, dict]:
    """Active products by SKU: {sku: {"id", "sku", "name", "price"}}."""
    rows = Product.objects.filter(sku__in=list(skus), active=True).values(
        "pk", "sku", "name", "price"
    )
    return {row["sku"]: {**row, "id": row.pop("pk")} for row in rows}


# --- basket cross-sells -------------------------------------------------------


@dataclass(frozen=True)
class BasketRules:
    """A run's rule index and the ladder step complements, built once per run."""

    run_id: int | None
    index: RuleIndex
    step_complements: dict[int, tuple[int, ...]]


@dataclass(frozen=True)
class BasketOffer:
    """One cross-sell for a basket, with its reason (code, params, sentence)."""

    product_id: int
    sku: str
    name: str
    price: str
    source: str
    confidence: float | None
    lift: float | None
    support: float | None
    reason_code: str
    reason_params: dict
    reason: str


_BASKET_RULES: dict[int | None, BasketRules] = {}


def get_basket_rules(*, run_id: int | None) -> BasketRules:
    """The rule index of ``run_id``, cached in this process (keyed by run id).

    Rules never change once a run is stored, so the index is built once per
    run and process; a new current run simply has a new key (the old entry is
    dropped). Step complements are read with it.
    """
    cached = _BASKET_RULES.get(run_id)
    if cached is not None:
        return cached
    rules = (
        load_rules(run_id=run_id)
        if run_id is not None
        else pd.DataFrame(
            {
                c: []
                for c in ("antecedents", "consequent", "support", "confidence", "lift")
            }
        )
    )
    index = build_rule_index(rules)
    complements: dict[int, list[int]] = {}
    for step_product, offer_product in StepOffer.objects.filter(
        step__ladder__active=True
    ).values_list("step__product_id", "product_id"):
        complements.setdefault(step_product, []).append(offer_product)
    built = BasketRules(
        run_id=run_id,
        index=index,
        step_complements={key: tuple(value) for key, value in complements.items()},
    )
    _BASKET_RULES.clear()
    _BASKET_RULES[run_id] = built
    return built


def suggest_basket_cross_sells(
    *,
    skus: Iterable[str],
    customer_id: int | None = None,
    k: int = 3,
    basket: dict[str, dict] | None = None,
) -> tuple[list[BasketOffer], list[str], int | None]:
    """Best cross-sells for a basket of SKUs: (offers, unknown SKUs, run id).

    Served from the current run's cached rule index (never mined per request),
    then step complements. With a customer, products they own (not
    consumable) or declined within the quiet period are left out. Anonymous
    baskets (no customer) work the same. ``basket`` is the products the
    caller already looked up ({sku: {"id", ...}}, e.g. the counter's scanned
    lines), which saves the SKU lookup. Three small queries for a customer's
    basket (four without ``basket``), two for an anonymous one.
    """
    from django.conf import settings
    from django.utils import timezone

    skus = list(dict.fromkeys(skus))
    if basket is None:
        basket = products_by_sku(skus)
    else:
        basket = {sku: basket[sku] for sku in skus if sku in basket}
    unknown = [sku for sku in skus if sku not in basket]
    rules = get_basket_rules(run_id=get_current_run_id())
    exclude: set[int] = set()
    if customer_id is not None:
        quiet = getattr(settings, "RECOMMENDATIONS_QUIET_PERIOD_DAYS", 90)
        since = timezone.now() - pd.Timedelta(days=quiet).to_pytimedelta()
        declined = Suggestion.objects.filter(
            customer_id=customer_id,
            status=Suggestion.Status.DECLINED,
            status_changed_at__gte=since,
        ).values_list("product_id", flat=True)
        owned = (
            OrderLine.objects.filter(
                order__customer_id=customer_id,
                order__status=Order.Status.PLACED,
                product__is_consumable=False,
            )
            .order_by()
            .values_list("product_id", flat=True)
        )
        # One query for both: UNION also drops the duplicates.
        exclude |= set(declined.order_by().union(owned))
    found = engine_suggest_for_basket(
        rules.index,
        basket=[row["id"] for row in basket.values()],
        k=k,
        step_complements=rules.step_complements,
        exclude=exclude,
    )
    if not found:
        return [], unknown, rules.run_id
    ids = {int(item.product_id) for item in found}
    ids |= {int(a) for item in found for a in item.antecedents}
    names = {
        row["pk"]: row
        for row in Product.objects.filter(pk__in=ids).values(
            "pk", "sku", "name", "price"
        )
    }
    offers = []
    for item in found:
        product = names.get(int(item.product_id))
        if product is None:
            continue
        antecedent = ", ".join(
            names[int(a)]["name"] if int(a) in names else str(a)
            for a in item.antecedents
        )
        if item.source == "rule":
            code = "rule"
            params = {
                "confidence_pct": format_percent(item.confidence),
                "antecedent": antecedent,
                "product": product["name"],
                "lift": format_ratio(item.lift),
            }
        else:
            code = "step_complement"
            params = {"product": product["name"], "anchor": antecedent}
        offers.append(
            BasketOffer(
                product_id=product["pk"],
                sku=product["sku"],
                name=product["name"],
                price=str(product["price"]),
                source=item.source,
                confidence=item.confidence,
                lift=item.lift,
                support=item.support,
                reason_code=code,
                reason_params=params,
                reason=render_reason(code, params=params),
            )
        )
    return offers, unknown, rules.run_id


def neighbour_customer_ids(*, customer_id: int, limit: int) -> list[int]:
    """Up to ``limit`` other customers who recently bought what this one bought.

    A one-customer recompute gives the engine their order lines too, so
    look-alike and popularity candidates have a neighbourhood to learn from.
    A customer with no purchases gets the customers of the latest orders.
    Two queries at most.
    """
    bought = OrderLine.objects.filter(order__customer_id=customer_id).values(
        "product_id"
    )
    orders = Order.objects.filter(
        customer__isnull=False, status=Order.Status.PLACED
    ).exclude(customer_id=customer_id)
    related = list(
        orders.filter(lines__product_id__in=bought)
        .order_by("-pk")
        .values_list("customer_id", flat=True)[: limit * 2]
    )
    if not related:
        related = list(
            orders.order_by("-pk").values_list("customer_id", flat=True)[: limit * 2]
        )
    return list(dict.fromkeys(related))[:limit]


def _newcomer_scope_key(user: User | None) -> str:
    """The store scope part of a cache key: what ``order_lines_visible_to`` sees."""
    if user is None:
        return "all"
    role = role_of(user)
    if role is None or role not in ROLES:
        return "none"
    if role == CLERK:
        return f"store-{store_id_of(user) or 'none'}"
    return "all"


def _best_sellers(*, user: User | None, now, taken: list[int], count: int) -> list:
    """Best sellers of the 30 days before ``now`` by buyers, as plain rows.

    The same for every newcomer yet an aggregate over every recent order line
    (over 100 ms on a million lines), so it is kept in the Django cache for
    ``RECOMMENDATIONS_NEWCOMER_CACHE_SECONDS`` (default 300; 0 disables). The
    key holds the store scope (a clerk counts only their store's orders, and
    never gets a figure cached for another store), the day, and what it
    excludes. A new run does not change it, so the run id is not in the key.
    """
    import datetime as dt

    from django.conf import settings
    from django.core.cache import cache

    ttl = int(getattr(settings, "RECOMMENDATIONS_NEWCOMER_CACHE_SECONDS", 300))
    key = ":".join(
        (
            "recommendations:newcomer-best",
            _newcomer_scope_key(user),
            now.date().isoformat(),
            ",".join(str(pk) for pk in sorted(taken)),
            str(count),
        )
    )
    if ttl > 0:
        cached = cache.get(key)
        if cached is not None:
            return cached
    lines = OrderLine.objects.all() if user is None else order_lines_visible_to(user)
    rows = list(
        lines.filter(
            order__status=Order.Status.PLACED,
            order__placed_at__gte=now - dt.timedelta(days=30),
            order__customer__isnull=False,
            product__active=True,
        )
        .exclude(product_id__in=taken)
        .exclude(product__kind=Product.Kind.CHARGE)
        .order_by()
        .values("product_id", "product__name", "product__sku", "product__price")
        .annotate(n=Count("order__customer_id", distinct=True))
        .order_by("-n", "product_id")[:count]
    )
    if ttl > 0:
        cache.set(key, rows, ttl)
    return rows


def list_newcomer_offers(*, limit: int = 3, now=None, user: User | None = None) -> list:
    """What to offer a customer with no history yet, with a reason each.

    First the entry steps of the published ladders (where a value ladder
    starts), most started-from in the last 90 days first; then, to fill
    ``limit``, the best sellers of the last 30 days by number of buyers
    (``_best_sellers``: cached, and counted over ``user``'s visible orders
    when given). Two queries at most, one once the best sellers are cached.
    Returns ``crm.hooks.Offer`` items.
    """
    import datetime as dt

    from django.db.models import Min, OuterRef, Subquery
    from django.db.models.functions import Coalesce
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from crm.hooks import Offer

    now = now or timezone.now()
    since = now - dt.timedelta(days=90)
    first_position = (
        Step.objects.filter(ladder_id=OuterRef("ladder_id"), cross_sell_only=False)
        .order_by()
        .values("ladder_id")
        .annotate(first=Min("position"))
        .values("first")[:1]
    )
    buyers = (
        OrderLine.objects.filter(
            product_id=OuterRef("product_id"),
            order__status=Order.Status.PLACED,
            order__placed_at__gte=since,
            order__customer__isnull=False,
        )
        .order_by()
        .values("product_id")
        .annotate(n=Count("order__customer_id", distinct=True))
        .values("n")[:1]
    )
    entry_steps = list(
        Step.objects.filter(
            ladder__active=True,
            cross_sell_only=False,
            product__active=True,
            position=Subquery(first_position),
        )
        .select_related("ladder", "product")
        .annotate(buyers=Coalesce(Subquery(buyers), 0))
        .order_by("-buyers", "ladder__name")[:limit]
    )
    offers = [
        Offer(
            name=step.name,
            sku=step.product.sku,
            price=step.price,
            reason=_(
                "Where the “%(ladder)s” ladder starts: %(count)s customers "
                "began here in the last 90 days."
            )
            % {"ladder": step.ladder.name, "count": step.buyers},
        )
        for step in entry_steps
    ]
    if len(offers) < limit:
        taken = [step.product_id for step in entry_steps]
        best = _best_sellers(user=user, now=now, taken=taken, count=limit - len(offers))
        offers.extend(
            Offer(
                name=row["product__name"],
                sku=row["product__sku"],
                price=row["product__price"],
                reason=_("Best seller: %(count)s customers bought it in 30 days.")
                % {"count": row["n"]},
            )
            for row in best
        )
    return offers


# --- the clerk's counter ------------------------------------------------------


def list_counter_offers(
    *, user: User, customer_id: int, limit: int = 6
) -> list[Suggestion]:
    """A customer's open in-person offers (in store, checkout), best first.

    What a clerk may put to the customer across the counter: remote-channel
    offers (e-mail, SMS, phone) belong to sales staff and campaigns, and a
    clerk may not record them (``services.record_outcome``). Scoped like
    ``list_customer_suggestions``; one query whatever the history.
    """
    return list(
        list_customer_suggestions(user=user, customer_id=customer_id).filter(
            channel__in=sorted(IN_PERSON_CHANNELS)
        )[:limit]
    )

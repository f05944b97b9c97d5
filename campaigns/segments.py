"""Segment definitions: validation, and their evaluation in the database.

A definition is a tree of rules::

    {"match": "all",            # or "any"
     "rules": [
        {"field": "distance", "store": 3, "max_km": 10},
        {"field": "age", "min": 25, "max": 40},
        {"match": "any", "negate": true, "rules": [...]},   # a nested group
     ]}

Every rule compiles to a ``Q`` over ``Customer`` (mostly ``pk__in`` a
subquery), so a whole segment is one SQL statement: counting 100,000
customers never loads them into Python. The one exception is ``lookalike``,
whose similarity is computed with pandas/scipy over (customer, category)
pairs and enters the query as an id list. The catalogue of rules is
``RULES`` (label and parameters), for forms and the API.

Managers only: nothing here is scoped to a store, so callers must check
``campaigns.view_segment`` (clerks never hold it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import (
    ASin,
    Cast,
    Coalesce,
    Cos,
    Power,
    Radians,
    Sin,
    Sqrt,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.segment_rules import (
    EARTH_RADIUS_KM,
    birth_date_bounds,
    lookalike_customer_ids,
)
from crm.models import Category, Channel, Customer, Order, OrderLine, Product, Store
from crm.selectors import list_marketable_customers
from ladder.models import CustomerLadderPosition, Ladder, Step

MAX_DEPTH = 3
MAX_RULES = 30
MAX_SAMPLE = 50
LOOKALIKE_MAX = 10_000


@dataclass(frozen=True)
class RuleSpec:
    """One kind of rule: its label and its parameters (name → kind)."""

    label: Any
    params: dict[str, str]


#: Rule catalogue. Parameter kinds: int, number, ids (list of ints), text list,
#: bool, channel, state. Optional unless the validator says otherwise.
RULES: dict[str, RuleSpec] = {
    "distance": RuleSpec(
        gettext_lazy("Distance from a store (km)"),
        {"store": "int", "min_km": "number", "max_km": "number"},
    ),
    "age": RuleSpec(gettext_lazy("Age band"), {"min": "int", "max": "int"}),
    "gender": RuleSpec(gettext_lazy("Gender"), {"values": "text list"}),
    "home_store": RuleSpec(gettext_lazy("Home store"), {"stores": "ids"}),
    "ladder_step": RuleSpec(
        gettext_lazy("Ladder step"),
        {"state": "state", "step": "int", "ladder": "int"},
    ),
    "bought": RuleSpec(
        gettext_lazy("Bought a product or category"),
        {"product": "int", "category": "int", "within_days": "int"},
    ),
    "not_bought": RuleSpec(
        gettext_lazy("Did not buy a product or category"),
        {"product": "int", "category": "int", "within_days": "int"},
    ),
    "recency": RuleSpec(
        gettext_lazy("Days since the last purchase"),
        {"min_days": "int", "max_days": "int"},
    ),
    "frequency": RuleSpec(
        gettext_lazy("Number of orders"),
        {"min": "int", "max": "int", "within_days": "int"},
    ),
    "spend": RuleSpec(
        gettext_lazy("Spend, net of returns"),
        {"min": "number", "max": "number", "within_days": "int"},
    ),
    "return_rate": RuleSpec(gettext_lazy("Maximum return rate"), {"max": "number"}),
    "consent": RuleSpec(gettext_lazy("Consent on a channel"), {"channel": "channel"}),
    "prospect": RuleSpec(gettext_lazy("Prospect (no purchase yet)"), {"value": "bool"}),
    "lookalike": RuleSpec(
        gettext_lazy("Look-alikes of a group"),
        {
            "segment": "int",
            "customers": "ids",
            "limit": "int",
            "min_similarity": "number",
        },
    ),
}

LADDER_STATES = ("on", "not_yet_on", "stalled", "reached")
GENDERS = tuple(value for value, _label in Customer.Gender.choices)


def _rule_name(rule: dict) -> str:
    spec = RULES.get(rule.get("field", ""))
    return str(spec.label) if spec else str(rule.get("field", "?"))


class _Errors:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.messages.append(f"{where}: {message}")


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return float(number)


def _clean_params(rule: dict, where: str, errors: _Errors) -> dict | None:
    field = rule.get("field")
    spec = RULES[field]
    unknown = set(rule) - set(spec.params) - {"field", "negate"}
    if unknown:
        errors.add(
            where,
            _("unknown parameters %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
        return None
    cleaned: dict[str, Any] = {"field": field}
    if "negate" in rule:
        if not isinstance(rule["negate"], bool):
            errors.add(where, _("“negate” must be true or false."))
            return None
        if rule["negate"]:
            cleaned["negate"] = True
    for name, kind in spec.params.items():
        if name not in rule or rule[name] is None or rule[name] == "":
            continue
        value = rule[name]
        if kind == "int":
            parsed = _as_int(value)
            if parsed is None or parsed < 0:
                errors.add(
                    where, _("“%(name)s” must be a whole number ≥ 0.") % {"name": name}
                )
                return None
        elif kind == "number":
            parsed = _as_number(value)
            if parsed is None or parsed < 0:
                errors.add(
                    where, _("“%(name)s” must be a number ≥ 0.") % {"name": name}
                )
                return None
        elif kind == "ids":
            if not isinstance(value, list) or not value:
                errors.add(
                    where,
                    _("“%(name)s” must be a non-empty list of ids.") % {"name": name},
                )
                return None
            parsed = [_as_int(item) for item in value]
            if any(item is None or item <= 0 for item in parsed):
                errors.add(
                    where, _("“%(name)s” must be a list of ids.") % {"name": name}
                )
                return None
            parsed = sorted(set(parsed))
        elif kind == "text list":
            if not isinstance(value, list) or not all(
                isinstance(v, str) for v in value
            ):
                errors.add(where, _("“%(name)s” must be a list.") % {"name": name})
                return None
            parsed = sorted(set(value))
        elif kind == "bool":
            if not isinstance(value, bool):
                errors.add(
                    where, _("“%(name)s” must be true or false.") % {"name": name}
                )
                return None
            parsed = value
        else:  # channel, state: checked per field below
            if not isinstance(value, str):
                errors.add(where, _("“%(name)s” must be text.") % {"name": name})
                return None
            parsed = value
        cleaned[name] = parsed
    return cleaned


def _require_range(
    cleaned: dict,
    low: str,
    high: str,
    where: str,
    errors: _Errors,
    *,
    limit: float | None = None,
) -> None:
    lo, hi = cleaned.get(low), cleaned.get(high)
    if lo is None and hi is None:
        errors.add(
            where, _("give “%(low)s”, “%(high)s” or both.") % {"low": low, "high": high}
        )
    elif lo is not None and hi is not None and lo > hi:
        errors.add(
            where,
            _("“%(low)s” is greater than “%(high)s”.") % {"low": low, "high": high},
        )
    elif limit is not None and any(v is not None and v > limit for v in (lo, hi)):
        errors.add(
            where, _("values above %(limit)s make no sense here.") % {"limit": limit}
        )


def _check_rule(
    cleaned: dict, where: str, errors: _Errors, refs: dict[str, set]
) -> None:
    """Field-specific checks; ids to verify are collected in ``refs``."""
    field = cleaned["field"]
    if field == "distance":
        if "store" not in cleaned:
            errors.add(where, _("choose a store."))
        else:
            refs["store"].add(cleaned["store"])
        if "max_km" not in cleaned and "min_km" not in cleaned:
            errors.add(where, _("give a maximum distance, a minimum or both."))
        elif cleaned.get("min_km", 0) > cleaned.get("max_km", float("inf")):
            errors.add(where, _("the minimum distance is above the maximum."))
    elif field == "age":
        _require_range(cleaned, "min", "max", where, errors, limit=120)
    elif field == "gender":
        values = cleaned.get("values") or []
        if not values:
            errors.add(where, _("choose at least one gender."))
        elif set(values) - set(GENDERS):
            errors.add(where, _("unknown gender value."))
    elif field == "home_store":
        if not cleaned.get("stores"):
            errors.add(where, _("choose at least one store."))
        refs["store"].update(cleaned.get("stores") or ())
    elif field == "ladder_step":
        state = cleaned.get("state")
        if state not in LADDER_STATES:
            errors.add(
                where,
                _("“state” must be one of %(states)s.")
                % {"states": ", ".join(LADDER_STATES)},
            )
        elif state == "stalled":
            if "step" not in cleaned and "ladder" not in cleaned:
                errors.add(where, _("choose a ladder or a step."))
        elif "step" not in cleaned:
            errors.add(where, _("choose a step."))
        if "step" in cleaned:
            refs["step"].add(cleaned["step"])
        if "ladder" in cleaned:
            refs["ladder"].add(cleaned["ladder"])
    elif field in ("bought", "not_bought"):
        if ("product" in cleaned) == ("category" in cleaned):
            errors.add(where, _("choose a product or a category (one of them)."))
        if "product" in cleaned:
            refs["product"].add(cleaned["product"])
        if "category" in cleaned:
            refs["category"].add(cleaned["category"])
    elif field == "recency":
        _require_range(cleaned, "min_days", "max_days", where, errors)
    elif field in ("frequency", "spend"):
        _require_range(cleaned, "min", "max", where, errors)
    elif field == "return_rate":
        if "max" not in cleaned:
            errors.add(where, _("give the maximum return rate (0 to 1)."))
        elif cleaned["max"] > 1:
            errors.add(where, _("the return rate is a share between 0 and 1."))
    elif field == "consent":
        if cleaned.get("channel") not in Channel.values:
            errors.add(where, _("choose a channel."))
    elif field == "prospect":
        cleaned.setdefault("value", True)
    elif field == "lookalike":
        if ("segment" in cleaned) == ("customers" in cleaned):
            errors.add(
                where, _("choose a segment or a list of customers (one of them).")
            )
        if "segment" in cleaned:
            refs["segment"].add(cleaned["segment"])
        if "customers" in cleaned:
            refs["customer"].update(cleaned["customers"])
        limit = cleaned.setdefault("limit", 500)
        if not 1 <= limit <= LOOKALIKE_MAX:
            errors.add(
                where,
                _("“limit” must be between 1 and %(max)s.") % {"max": LOOKALIKE_MAX},
            )
        similarity = cleaned.setdefault("min_similarity", 0.2)
        if similarity > 1:
            errors.add(where, _("“min_similarity” is between 0 and 1."))


def _clean_group(
    group: Any,
    where: str,
    depth: int,
    errors: _Errors,
    refs: dict[str, set],
    count: list[int],
) -> dict | None:
    if not isinstance(group, dict):
        errors.add(where, _("a rule must be an object."))
        return None
    if depth > MAX_DEPTH:
        errors.add(
            where,
            _("groups are nested too deeply (at most %(n)s levels).")
            % {"n": MAX_DEPTH},
        )
        return None
    if "field" in group:
        count[0] += 1
        if group["field"] not in RULES:
            errors.add(
                where, _("unknown rule “%(field)s”.") % {"field": group["field"]}
            )
            return None
        where = f"{where} ({_rule_name(group)})"
        cleaned = _clean_params(group, where, errors)
        if cleaned is not None:
            _check_rule(cleaned, where, errors, refs)
        return cleaned
    unknown = set(group) - {"match", "rules", "negate"}
    if unknown:
        errors.add(
            where, _("unknown keys %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
        return None
    match = group.get("match", "all")
    if match not in ("all", "any"):
        errors.add(where, _("“match” must be “all” or “any”."))
        return None
    rules = group.get("rules", [])
    if not isinstance(rules, list):
        errors.add(where, _("“rules” must be a list."))
        return None
    cleaned_group: dict[str, Any] = {"match": match, "rules": []}
    if group.get("negate") is True:
        cleaned_group["negate"] = True
    for index, rule in enumerate(rules, start=1):
        label = _("Rule %(n)s") % {"n": index} if depth == 0 else f"{where}.{index}"
        cleaned = _clean_group(rule, label, depth + 1, errors, refs, count)
        if cleaned is not None:
            cleaned_group["rules"].append(cleaned)
    return cleaned_group


_REF_MODELS = {
    "store": (Store, gettext_lazy("store")),
    "step": (Step, gettext_lazy("ladder step")),
    "ladder": (Ladder, gettext_lazy("ladder")),
    "product": (Product, gettext_lazy("product")),
    "category": (Category, gettext_lazy("category")),
    "customer": (Customer, gettext_lazy("customer")),
}


def validate_definition(definition: Any, *, segment_id: int | None = None) -> dict:
    """Check a definition and return its normalised form (ids as ints, defaults set).

    Raises ``ValidationError`` listing every problem, each prefixed with the
    rule it concerns ("Rule 2 (Age band): ..."). Referenced stores, steps,
    products, categories, customers and segments must exist; a look-alike
    rule may not point at its own segment. A store used for a distance must
    have coordinates.
    """
    errors = _Errors()
    if definition in (None, ""):
        definition = {}
    if not isinstance(definition, dict):
        raise ValidationError(_("A segment definition must be an object with rules."))
    refs: dict[str, set] = {name: set() for name in (*_REF_MODELS, "segment")}
    count = [0]
    cleaned = _clean_group(definition, _("Segment"), 0, errors, refs, count)
    if count[0] > MAX_RULES:
        errors.add(
            _("Segment"), _("too many rules (at most %(n)s).") % {"n": MAX_RULES}
        )
    if not errors.messages:
        for name, (model, label) in _REF_MODELS.items():
            wanted = refs[name]
            if not wanted:
                continue
            found = set(
                model.objects.filter(pk__in=wanted).values_list("pk", flat=True)
            )
            for missing in sorted(wanted - found):
                errors.add(
                    _("Segment"),
                    _("%(what)s %(id)s does not exist.")
                    % {"what": label, "id": missing},
                )
        if refs["store"]:
            unlocated = Store.objects.filter(pk__in=refs["store"]).filter(
                Q(latitude__isnull=True) | Q(longitude__isnull=True)
            )
            distance_stores = _distance_stores(cleaned)
            for store in unlocated.filter(pk__in=distance_stores):
                errors.add(
                    _("Segment"),
                    _(
                        "store “%(name)s” has no coordinates, so no distance can be measured."
                    )
                    % {"name": store.name},
                )
        if refs["segment"]:
            from campaigns.models import Segment

            if segment_id is not None and segment_id in refs["segment"]:
                errors.add(
                    _("Segment"), _("a look-alike rule cannot use its own segment.")
                )
            found = set(
                Segment.objects.filter(pk__in=refs["segment"]).values_list(
                    "pk", flat=True
                )
            )
            for missing in sorted(refs["segment"] - found):
                errors.add(
                    _("Segment"),
                    _("segment %(id)s does not exist.") % {"id": missing},
                )
    if errors.messages:
        raise ValidationError(errors.messages, code="invalid_segment")
    return cleaned


def _distance_stores(node: dict | None) -> set[int]:
    if not node:
        return set()
    if "field" in node:
        return (
            {node["store"]}
            if node["field"] == "distance" and "store" in node
            else set()
        )
    return set().union(
        *(_distance_stores(rule) for rule in node.get("rules", [])), set()
    )


# --- Compilation to SQL -------------------------------------------------------


def _kept_lines() -> QuerySet[OrderLine]:
    """Lines of placed orders by known customers, not entirely returned."""
    return OrderLine.objects.filter(
        order__status=Order.Status.PLACED,
        order__customer__isnull=False,
        quantity__gt=F("returned_quantity"),
    )


def _placed_orders() -> QuerySet[Order]:
    return Order.objects.filter(status=Order.Status.PLACED, customer__isnull=False)


def _category_with_descendants(category_id: int) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, todo = [], [category_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def _distance_q(rule: dict) -> Q:
    store = Store.objects.filter(pk=rule["store"]).values("latitude", "longitude")
    latitude = Subquery(store.values("latitude")[:1])
    longitude = Subquery(store.values("longitude")[:1])
    lat1 = Radians(Cast("latitude", FloatField()))
    lat2 = Radians(Cast(latitude, FloatField()))
    half_dlat = (lat1 - lat2) / Value(2.0)
    half_dlon = (
        Radians(Cast("longitude", FloatField()))
        - Radians(Cast(longitude, FloatField()))
    ) / Value(2.0)
    a = Power(Sin(half_dlat), 2) + Cos(lat1) * Cos(lat2) * Power(Sin(half_dlon), 2)
    distance = ExpressionWrapper(
        Value(2.0 * EARTH_RADIUS_KM) * ASin(Sqrt(a)), output_field=FloatField()
    )
    located = Customer.objects.filter(latitude__isnull=False, longitude__isnull=False)
    located = located.annotate(distance_km=distance)
    if "max_km" in rule:
        located = located.filter(distance_km__lte=rule["max_km"])
    if "min_km" in rule:
        located = located.filter(distance_km__gte=rule["min_km"])
    return Q(pk__in=located.values("pk"))


def _bought_q(rule: dict, now: dt.datetime) -> Q:
    lines = _kept_lines()
    if "product" in rule:
        lines = lines.filter(product_id=rule["product"])
    else:
        lines = lines.filter(
            product__category_id__in=_category_with_descendants(rule["category"])
        )
    if "within_days" in rule:
        lines = lines.filter(
            order__placed_at__gte=now - dt.timedelta(days=rule["within_days"])
        )
    q = Q(pk__in=lines.values("order__customer_id"))
    return ~q if rule["field"] == "not_bought" else q


def _ladder_q(rule: dict) -> Q:
    positions = CustomerLadderPosition.objects.all()
    state = rule["state"]
    if state == "stalled":
        positions = positions.filter(stalled=True)
        if "step" in rule:
            positions = positions.filter(step_id=rule["step"])
        if "ladder" in rule:
            positions = positions.filter(ladder_id=rule["ladder"])
        return Q(pk__in=positions.values("customer_id"))
    if state == "on":
        return Q(pk__in=positions.filter(step_id=rule["step"]).values("customer_id"))
    step = Step.objects.filter(pk=rule["step"])
    reached = positions.filter(
        ladder_id=Subquery(step.values("ladder_id")[:1]),
        step__position__gte=Subquery(step.values("position")[:1]),
    ).values("customer_id")
    return Q(pk__in=reached) if state == "reached" else ~Q(pk__in=reached)


def _aggregate_range_q(per_customer: QuerySet, rule: dict, low: str, high: str) -> Q:
    """Customers whose aggregate ``value`` lies in [low, high]; none = 0."""
    lo, hi = rule.get(low), rule.get(high)
    if lo is not None and lo > 0:
        matching = per_customer.filter(value__gte=lo)
        if hi is not None:
            matching = matching.filter(value__lte=hi)
        return Q(pk__in=matching.values("customer_id"))
    # A customer with no orders has 0 of everything, so "at most" includes them.
    if hi is None:
        return Q(pk__isnull=False)
    return ~Q(pk__in=per_customer.filter(value__gt=hi).values("customer_id"))


def _frequency_q(rule: dict, now: dt.datetime) -> Q:
    orders = _placed_orders()
    if "within_days" in rule:
        orders = orders.filter(
            placed_at__gte=now - dt.timedelta(days=rule["within_days"])
        )
    per_customer = orders.order_by().values("customer_id").annotate(value=Count("pk"))
    return _aggregate_range_q(per_customer, rule, "min", "max")


def _spend_q(rule: dict, now: dt.datetime) -> Q:
    lines = _kept_lines().exclude(product__kind=Product.Kind.CHARGE)
    if "within_days" in rule:
        lines = lines.filter(
            order__placed_at__gte=now - dt.timedelta(days=rule["within_days"])
        )
    net = ExpressionWrapper(
        (F("quantity") - F("returned_quantity")) * F("unit_price"),
        output_field=FloatField(),
    )
    per_customer = (
        lines.order_by()
        .values(customer_id=F("order__customer_id"))
        .annotate(value=Sum(net))
    )
    return _aggregate_range_q(per_customer, rule, "min", "max")


def _recency_q(rule: dict, now: dt.datetime) -> Q:
    last = (
        _placed_orders()
        .order_by()
        .values("customer_id")
        .annotate(last=Max("placed_at"))
    )
    if "max_days" in rule:
        last = last.filter(last__gte=now - dt.timedelta(days=rule["max_days"]))
    if "min_days" in rule:
        last = last.filter(last__lte=now - dt.timedelta(days=rule["min_days"]))
    return Q(pk__in=last.values("customer_id"))


def _return_rate_q(rule: dict) -> Q:
    from recommendations.models import CustomerScore

    # Customers the current run did not score (prospects, new buyers) have
    # returned nothing the engine knows of, so they pass.
    above = CustomerScore.objects.filter(
        run__is_current=True, return_rate__gt=rule["max"]
    ).values("customer_id")
    return ~Q(pk__in=above)


def _lookalike_q(rule: dict, now: dt.datetime, depth: int) -> Q:
    if "customers" in rule:
        seed_ids = list(rule["customers"])
    else:
        from campaigns.models import Segment

        seed = Segment.objects.filter(pk=rule["segment"]).values_list(
            "definition", flat=True
        )
        definition = seed.first() or {}
        if depth >= MAX_DEPTH:
            raise ValidationError(_("Look-alike rules are nested too deeply."))
        seed_ids = list(
            Customer.objects.filter(_compile(definition, now, depth + 1)).values_list(
                "pk", flat=True
            )
        )
    pairs = pd.DataFrame.from_records(
        _kept_lines()
        .annotate(
            feature=Coalesce(F("product__category_id"), -F("product_id")),
            customer_id=F("order__customer_id"),
        )
        .values_list("customer_id", "feature")
        .distinct(),
        columns=["customer_id", "feature"],
    )
    ids = lookalike_customer_ids(
        pairs, seed_ids, limit=rule["limit"], min_similarity=rule["min_similarity"]
    )
    return Q(pk__in=ids.tolist())


def _compile(node: dict, now: dt.datetime, depth: int = 0) -> Q:
    if "field" in node:
        q = _compile_rule(node, now, depth)
    else:
        parts = [_compile(rule, now, depth) for rule in node.get("rules", [])]
        q = Q()
        for part in parts:
            q = (q & part) if node.get("match", "all") == "all" else (q | part)
        if not parts:
            q = Q()
    return ~q if node.get("negate") and q else q


def _compile_rule(rule: dict, now: dt.datetime, depth: int) -> Q:
    field = rule["field"]
    if field == "distance":
        return _distance_q(rule)
    if field == "age":
        earliest, latest = birth_date_bounds(
            today=timezone.localdate(now),
            min_age=rule.get("min"),
            max_age=rule.get("max"),
        )
        q = Q(birth_date__isnull=False)
        if earliest is not None:
            q &= Q(birth_date__gte=earliest)
        if latest is not None:
            q &= Q(birth_date__lte=latest)
        return q
    if field == "gender":
        return Q(gender__in=rule["values"])
    if field == "home_store":
        return Q(home_store_id__in=rule["stores"])
    if field == "ladder_step":
        return _ladder_q(rule)
    if field in ("bought", "not_bought"):
        return _bought_q(rule, now)
    if field == "recency":
        return _recency_q(rule, now)
    if field == "frequency":
        return _frequency_q(rule, now)
    if field == "spend":
        return _spend_q(rule, now)
    if field == "return_rate":
        return _return_rate_q(rule)
    if field == "consent":
        return Q(pk__in=list_marketable_customers(channel=rule["channel"]).values("pk"))
    if field == "prospect":
        prospect = Q(status=Customer.Status.PROSPECT)
        return prospect if rule.get("value", True) else ~prospect
    if field == "lookalike":
        return _lookalike_q(rule, now, depth)
    raise ValidationError(_("Unknown rule “%(field)s”.") % {"field": field})


def resolve_segment(
    definition: Any, *, now: dt.datetime | None = None
) -> QuerySet[Customer]:
    """The customers a definition selects, as one lazy queryset (validated first).

    An empty definition selects every customer. ``now`` anchors the "within
    N days" windows and ages (default: the current time).
    """
    cleaned = validate_definition(definition)
    return Customer.objects.filter(_compile(cleaned, now or timezone.now()))


def segment_customer_ids(
    definition: Any, *, now: dt.datetime | None = None
) -> list[int]:
    """Ids of the customers a definition selects, sorted (one query)."""
    return list(
        resolve_segment(definition, now=now).order_by("pk").values_list("pk", flat=True)
    )


def count_segment(definition: Any, *, now: dt.datetime | None = None) -> int:
    """How many customers a definition selects (one COUNT query, plus validation)."""
    return resolve_segment(definition, now=now).count()


def sample_segment(
    definition: Any, n: int = 10, *, now: dt.datetime | None = None
) -> list[Customer]:
    """Up to ``n`` (at most 50) random members, with their home store."""
    n = max(1, min(int(n), MAX_SAMPLE))
    return list(
        resolve_segment(definition, now=now)
        .select_related("home_store")
        .order_by("?")[:n]
    )

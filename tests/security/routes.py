"""Every named URL of the project, with its arguments filled from real objects.

The security tests (headers, CSRF, permission matrix) walk ``get_resolver()``
so a page added tomorrow is tested without anyone listing it. A route with
arguments needs an object to point at: ``URL_ARGUMENTS`` says which object of
the :class:`Scenario` fills each argument. A route missing from that table
makes ``route_kwargs`` fail with its name, so it cannot slip through untested.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

# Django's own admin: per-model generic views with object ids. Their index,
# login and changelists are walked; object pages are Django's code, not ours.
ADMIN_OBJECT_ROUTE = re.compile(r"^admin:")

# A token no signer issued: the refusal page must carry the headers too.
FORGED_TOKEN = "not-a-valid-token"

# url name → {argument: Scenario attribute (its pk is used) or a function of the
# Scenario returning the value}. Add a row for every new route with arguments.
URL_ARGUMENTS: dict[str, dict[str, str | Callable[[Scenario], Any]]] = {
    "campaigns_public:unsubscribe": {"token": lambda s: FORGED_TOKEN},
    "crm:customer_detail": {"pk": "customer"},
    "crm:customer_log_contact": {"pk": "customer"},
    "crm:customer_timeline": {"pk": "customer"},
    "campaigns:campaign_detail": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:campaign_cancel": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:campaign_launch": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:campaign_results": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:campaign_results_csv": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:message_preview": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:preview_customers": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:send_progress": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:sms_meter": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:variant_create": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:offer_code_create": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns:variant_update": {"pk": lambda s: s.lazy("variant").pk},
    "campaigns:variant_delete": {"pk": lambda s: s.lazy("variant").pk},
    "campaigns:segment_edit": {"pk": lambda s: s.lazy("segment").pk},
    "campaigns:segment_count": {"pk": lambda s: s.lazy("segment").pk},
    # A Send id; no Send factory exists yet, so an id that matches nothing (a
    # 404 page, which must still carry the headers and refuse without CSRF).
    "campaigns:call_outcome": {"pk": lambda s: 999_999},
    "campaigns-api:campaign-detail": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns-api:campaign-cancel": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns-api:campaign-launch": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns-api:campaign-preview": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns-api:campaign-results": {"pk": lambda s: s.lazy("variant").campaign_id},
    "campaigns-api:campaign-results-csv": {
        "pk": lambda s: s.lazy("variant").campaign_id
    },
    "campaigns-api:variant-detail": {"pk": lambda s: s.lazy("variant").pk},
    "campaigns-api:offer-code-detail": {"pk": lambda s: s.lazy("offer_code").pk},
    "campaigns-api:segment-detail": {"pk": lambda s: s.lazy("segment").pk},
    "campaigns-api:segment-count": {"pk": lambda s: s.lazy("segment").pk},
    "campaigns-api:segment-preview": {"pk": lambda s: s.lazy("segment").pk},
    "campaigns-api:segment-sample": {"pk": lambda s: s.lazy("segment").pk},
    "campaigns_public:unsubscribe_one_click": {"token": lambda s: FORGED_TOKEN},
    "crm:import_detail": {"pk": "import_job"},
    "crm:import_errors": {"pk": "import_job"},
    "ladder:ladder_edit": {"pk": "ladder"},
    "ladder:ladder_delete": {"pk": "ladder"},
    "ladder:ladder_report": {"pk": "ladder"},
    "ladder:step_create": {"pk": "ladder"},
    "ladder:step_update": {"pk": "step"},
    "ladder:step_move": {"pk": "step"},
    "ladder:step_delete": {"pk": "step"},
    "ladder:offer_create": {"pk": "step"},
    "ladder:offer_delete": {"pk": "offer"},
    "recommendations:customer_panel": {"customer_id": "customer"},
    "recommendations:suggestion_outcome": {"pk": "suggestion"},
    "recommendations:counter_customer": {"customer_id": "customer"},
    "recommendations:counter_offer_outcome": {"pk": "suggestion"},
    "ladder-api:ladder-detail": {"pk": "ladder"},
    "ladder-api:ladder-report": {"pk": "ladder"},
    "ladder-api:step-detail": {"pk": "step"},
    "ladder-api:offer-detail": {"pk": "offer"},
    "ladder-api:position-detail": {"pk": "position"},
    "recommendations-api:customer-suggestions": {"customer_id": "customer"},
    "recommendations-api:suggestion-detail": {"pk": "suggestion"},
    "recommendations-api:suggestion-outcome": {"pk": "suggestion"},
    "recommendations-api:suggestion-run-detail": {"pk": "run"},
    "crm-api:store-detail": {"pk": "store_a"},
    "crm-api:category-detail": {"pk": "category"},
    "crm-api:product-detail": {"pk": "product"},
    "crm-api:customer-detail": {"pk": "customer"},
    "crm-api:customer-consents": {"pk": "customer"},
    "crm-api:consent-detail": {"pk": "consent"},
    "crm-api:consent-event-detail": {"pk": "consent_event"},
    "crm-api:order-detail": {"pk": "order"},
    "crm-api:order-cancel": {"pk": "order"},
    "crm-api:return-detail": {"pk": "return_"},
    "crm-api:interaction-detail": {"pk": "interaction"},
}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    arguments: tuple[str, ...]
    callback: Any = field(compare=False, repr=False)

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def view_class(self):
        return getattr(self.callback, "cls", None) or getattr(
            self.callback, "view_class", None
        )


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}{pattern.namespace}:"
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            arguments = tuple(pattern.pattern.regex.groupindex)
            if "format" in arguments:
                continue  # DRF's format-suffix twin of a route already walked
            yield Route(
                name=f"{namespace}{pattern.name}",
                pattern=prefix + str(pattern.pattern),
                arguments=arguments,
                callback=pattern.callback,
            )


def all_routes() -> list[Route]:
    """Every named route once (the first pattern wins, as in ``reverse``)."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        if route.name.startswith("admin:") and route.arguments:
            continue
        seen.setdefault(route.name, route)
    return sorted(seen.values(), key=lambda r: r.name)


def route_kwargs(route: Route, scenario: Scenario) -> dict[str, Any]:
    if not route.arguments:
        return {}
    try:
        table = URL_ARGUMENTS[route.name]
    except KeyError:
        raise AssertionError(
            f"{route.name} ({route.pattern}) takes {route.arguments}: add it to "
            "URL_ARGUMENTS in tests/security/routes.py"
        ) from None
    missing = set(route.arguments) - set(table)
    assert not missing, f"URL_ARGUMENTS[{route.name!r}] lacks {sorted(missing)}"
    return {
        name: table[name](scenario)
        if callable(table[name])
        else getattr(scenario, table[name]).pk
        for name in route.arguments
    }


def route_url(route: Route, scenario: Scenario) -> str:
    return reverse(route.name, kwargs=route_kwargs(route, scenario))


@dataclass
class Scenario:
    """One object of each kind, all in store A, plus store B and a customer there."""

    store_a: Any
    store_b: Any
    category: Any
    product: Any
    customer: Any
    customer_b: Any
    order: Any
    line: Any
    return_: Any
    interaction: Any
    consent: Any
    consent_event: Any
    import_job: Any
    ladder: Any
    step: Any
    offer: Any
    position: Any
    run: Any
    suggestion: Any
    built: dict = field(default_factory=dict)

    def lazy(self, name: str) -> Any:
        """An object of a higher app, built on first use only.

        Campaign objects are built when a campaigns route needs one, so the
        crm and ladder routes do not depend on the campaigns factories.
        """
        if name not in self.built:
            self.built[name] = LAZY_BUILDERS[name](self)
        return self.built[name]


def _segment(scenario: Scenario):
    # Always the segment of the scenario's campaign, so whichever route asks
    # first, the segment is in use (and cannot be deleted: 400).
    return scenario.lazy("variant").campaign.segment


def _variant(scenario: Scenario):
    from tests.campaigns.factories import SegmentFactory, VariantFactory

    return VariantFactory(campaign__segment=SegmentFactory())


def _offer_code(scenario: Scenario):
    from tests.campaigns.factories import OfferCodeFactory

    return OfferCodeFactory(campaign=scenario.lazy("variant").campaign)


LAZY_BUILDERS: dict[str, Callable[[Scenario], Any]] = {
    "segment": _segment,
    "variant": _variant,
    "offer_code": _offer_code,
}


def build_scenario(*, store_a, store_b) -> Scenario:
    from crm.models import ChannelConsent, ConsentEvent, ImportJob, Return
    from recommendations.models import RecommendationRun, Suggestion
    from tests.crm.factories import (
        CustomerFactory,
        InteractionFactory,
        OrderLineFactory,
        ProductFactory,
    )
    from tests.ladder.factories import (
        CustomerLadderPositionFactory,
        StepFactory,
        StepOfferFactory,
    )

    now = timezone.now()
    product = ProductFactory(sku="SEC-1", name="Security test product")
    customer = CustomerFactory(home_store=store_a, phone="+393331234567")
    customer_b = CustomerFactory(home_store=store_b)
    line = OrderLineFactory(order__customer=customer, product=product)
    return_ = Return.objects.create(
        line=line, quantity=1, reason="too small", returned_at=now
    )
    consent = ChannelConsent.objects.create(
        customer=customer, channel="email", granted=True, source="test", changed_at=now
    )
    consent_event = ConsentEvent.objects.create(
        customer=customer,
        channel="email",
        action=ConsentEvent.Action.values[0],
        source="test",
        occurred_at=now,
    )
    import_job = ImportJob.objects.create(
        kind=ImportJob.Kind.CUSTOMERS,
        file_path="/nonexistent/x.csv",
        file_name="x.csv",
        status=ImportJob.Status.REJECTED,
        error_report="line,column,code,message\n2,email,invalid,bad\n",
    )
    step = StepFactory(product=product, price=Decimal("20.00"), ladder__active=True)
    offer = StepOfferFactory(step=step)
    position = CustomerLadderPositionFactory(customer=customer, step=step)
    run = RecommendationRun.objects.create(
        status=RecommendationRun.Status.COMPLETED,
        is_current=True,
        started_at=now - dt.timedelta(minutes=1),
        finished_at=now,
    )
    suggestion = Suggestion.objects.create(
        run=run,
        customer=customer,
        product=offer.product,
        kind=Suggestion.Kind.CROSS_SELL,
        channel=Suggestion.Channel.IN_STORE,
        reason_code="test",
        reason="Bought together",
    )
    return Scenario(
        store_a=store_a,
        store_b=store_b,
        category=product.category,
        product=product,
        customer=customer,
        customer_b=customer_b,
        order=line.order,
        line=line,
        return_=return_,
        interaction=InteractionFactory(customer=customer),
        consent=consent,
        consent_event=consent_event,
        import_job=import_job,
        ladder=step.ladder,
        step=step,
        offer=offer,
        position=position,
        run=run,
        suggestion=suggestion,
    )

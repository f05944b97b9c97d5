"""What recommendations adds to crm's customer pages (crm.hooks, see apps.py).

crm may not import this app, so these functions are named on
RecommendationsConfig and called by crm's customer list and customer page.
"""

from __future__ import annotations

from django.db.models import (
    CharField,
    F,
    FilteredRelation,
    FloatField,
    OuterRef,
    Q,
    Subquery,
)
from django.utils.translation import gettext_lazy as _

from crm.hooks import ListFilter, Panel, StoredValue
from recommendations import selectors
from recommendations.models import CustomerScore, RecommendationRun, Suggestion

PANEL = "recommendations/partials/customer_suggestions.html"


def _current_scores():
    return CustomerScore.objects.filter(run__is_current=True)


def _eligibility(queryset, value: str):
    scored = _current_scores().filter(eligibility=value)
    return queryset.filter(pk__in=scored.values("customer_id"))


def customer_list_filters() -> list[ListFilter]:
    """Filter the customer list by eligibility for offers (current run)."""
    return [
        ListFilter(
            name="eligibility",
            label=_("Eligibility"),
            choices=lambda: list(CustomerScore.Eligibility.choices),
            apply=_eligibility,
        )
    ]


def customer_annotations(user) -> dict:
    """The current run's score: eligibility, its reason, return and
    cancellation rates (None when the customer was not scored yet)."""
    score = _current_scores().filter(customer_id=OuterRef("pk"))

    def column(name, field):
        return Subquery(score.values(name)[:1], output_field=field)

    return {
        "eligibility": column("eligibility", CharField()),
        "eligibility_reason": column("reason", CharField()),
        "return_rate": column("return_rate", FloatField()),
        "cancellation_rate": column("cancellation_rate", FloatField()),
    }


def customer_value(user) -> StoredValue | None:
    """The current run's ``value`` (kept units x unit price over orders not
    cancelled: the live lifetime value as it stood when the run read the
    orders), for the customer list to sort and filter by.

    Why the run's figure rather than a crm table kept up to date: every run
    already computes it for every customer, it has one clear "as of" date
    the page can show, and no write path (order, return, cancellation,
    import, demo, bulk load) can forget to maintain it. One query (the
    current run); the value is a LEFT JOIN on the (run, customer) unique
    index, so sorting 100,000 customers costs one hash join, not 100,000
    aggregates. None before the first run: the list then uses live figures.
    """
    run = (
        RecommendationRun.objects.filter(is_current=True)
        .only("pk", "finished_at", "created_at")
        .first()
    )
    if run is None:
        return None
    return StoredValue(
        annotations={
            "current_score": FilteredRelation(
                "recommendation_scores",
                condition=Q(recommendation_scores__run_id=run.pk),
            ),
            "stored_value": F("current_score__value"),
        },
        as_of=run.finished_at or run.created_at,
        source=_("the last suggestion run"),
    )


def customer_panels(request, customer) -> list:
    """The best offers panel, with outcome buttons (one query)."""
    if not request.user.has_perm("recommendations.view_suggestion"):
        return []
    suggestions = selectors.list_customer_suggestions(
        user=request.user, customer_id=customer.pk
    )
    return [Panel(template=PANEL, context={"suggestions": suggestions}, order=10)]


def newcomer_offers(user, customer, limit: int) -> list:
    """Ladder entry steps and best sellers for a customer with no history."""
    return selectors.list_newcomer_offers(limit=limit, user=user)


def customer_erased(customer_id: int) -> None:
    """Erasure: the notes staff typed on a customer's offers go."""
    Suggestion.objects.filter(customer_id=customer_id).exclude(note="").update(note="")

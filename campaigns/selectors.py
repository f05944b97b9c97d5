"""Reads for the campaign pages: lists at a glance, send progress, dashboard.

The campaign domain's own reads (results computation, audience summary) are
in ``campaigns.queries``; these shape rows for the manager's pages, each in
a fixed number of queries however many campaigns there are (PERF-01).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce

from campaigns.messages import FIELDS
from campaigns.models import AudienceMember, Campaign, Send
from campaigns.segments import resolve_segment
from crm.models import Customer
from crm.selectors import list_marketable_customers

#: Statuses of a send still on its way (for the progress bar).
OPEN_STATUSES = (
    Send.Status.PENDING,
    Send.Status.CLAIMED,
    Send.Status.SENDING,
    Send.Status.DEFERRED,
)


def _count_of(queryset: QuerySet, *, by: str) -> Coalesce:
    """A correlated COUNT per outer row, 0 when none (keeps one query per list)."""
    counted = (
        queryset.filter(**{by: OuterRef("pk")})
        .order_by()
        .values(by)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _excluded_customer_ids() -> QuerySet:
    """Customers the current suggestion run scores as excluded (one subquery)."""
    from recommendations.models import CustomerScore

    return CustomerScore.objects.filter(
        run__is_current=True, eligibility=CustomerScore.Eligibility.EXCLUDED
    ).values("customer_id")


def campaigns_at_a_glance() -> QuerySet[Campaign]:
    """Campaigns, newest first, with audience, sends, ineligible sends and result.

    One query: counts are correlated subqueries and the cached result comes
    by join (``campaign.result`` is None before the first refresh).
    ``incremental_profit_value`` is read out of the cached payload in SQL so
    lists can be ordered by it.
    """
    return (
        Campaign.objects.select_related("segment", "result")
        .annotate(
            audience_size=_count_of(AudienceMember.objects.all(), by="campaign"),
            control_size=_count_of(
                AudienceMember.objects.filter(variant__isnull=True), by="campaign"
            ),
            sent_count=_count_of(
                Send.objects.filter(status=Send.Status.SENT), by="campaign"
            ),
            ineligible_sent=_count_of(
                Send.objects.filter(
                    status=Send.Status.SENT,
                    customer_id__in=_excluded_customer_ids(),
                ),
                by="campaign",
            ),
            incremental_profit_value=Cast(
                KeyTextTransform("incremental_profit", "result__payload"),
                FloatField(),
            ),
        )
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class ResultSummary:
    """The headline of a cached result: treated conversions and profit."""

    conversions: int | None = None
    customers: int | None = None
    incremental_profit: float | None = None
    significant: bool = False
    window_closed: bool = False


def summarise_result(campaign: Campaign) -> ResultSummary | None:
    """The headline figures of a campaign's cached result, or None without one.

    Reads only the already-loaded ``campaign.result`` (no query).
    """
    try:
        result = campaign.result
    except Campaign.result.RelatedObjectDoesNotExist:
        return None
    payload: dict[str, Any] = result.payload or {}
    treated = next(
        (g for g in payload.get("groups", []) if g.get("key") == "treated"), {}
    )
    return ResultSummary(
        conversions=treated.get("conversions"),
        customers=treated.get("customers"),
        incremental_profit=payload.get("incremental_profit"),
        significant=bool(payload.get("significant")),
        window_closed=bool(payload.get("window_closed")),
    )


@dataclass
class Progress:
    """Sends of a campaign by status, for the progress panel."""

    counts: list[tuple[str, str, int]] = field(default_factory=list)
    total: int = 0
    settled: int = 0
    sent: int = 0
    skip_reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def done_ratio(self) -> float | None:
        return self.settled / self.total if self.total else None

    @property
    def percent_done(self) -> int:
        return round(100 * self.settled / self.total) if self.total else 0


def send_progress(*, campaign: Campaign) -> Progress:
    """Counts of a campaign's sends by status and skip reason (one query)."""
    rows = list(
        Send.objects.filter(campaign=campaign)
        .order_by()
        .values("status", "skip_reason")
        .annotate(n=Count("pk"))
    )
    by_status: dict[str, int] = {}
    by_reason: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        if row["status"] == Send.Status.SKIPPED and row["skip_reason"]:
            by_reason[row["skip_reason"]] = (
                by_reason.get(row["skip_reason"], 0) + row["n"]
            )
    total = sum(by_status.values())
    open_count = sum(by_status.get(status, 0) for status in OPEN_STATUSES)
    reason_labels = dict(Send.SkipReason.choices)
    return Progress(
        counts=[
            (value, label, by_status[value])
            for value, label in Send.Status.choices
            if by_status.get(value)
        ],
        total=total,
        settled=total - open_count,
        sent=by_status.get(Send.Status.SENT, 0),
        skip_reasons=[
            (str(reason_labels.get(reason, reason)), n)
            for reason, n in sorted(by_reason.items(), key=lambda item: -item[1])
        ],
    )


def personalisation_fields() -> list[tuple[str, str]]:
    """``("{first_name}", "Customer's first name")`` pairs for the editor's help."""
    return [("{" + name + "}", str(label)) for name, label in FIELDS.items()]


def audience_sample(*, campaign: Campaign, size: int) -> list[Customer]:
    """The first ``size`` customers of a frozen audience, with their home store."""
    ids = AudienceMember.objects.filter(campaign=campaign).order_by("customer_id")
    return list(
        Customer.objects.filter(pk__in=ids.values("customer_id")[:size])
        .select_related("home_store")
        .order_by("pk")
    )


def best_and_worst_campaigns() -> tuple[Campaign | None, Campaign | None]:
    """The launched campaigns with the highest and lowest incremental profit.

    Two small queries; campaigns without a result yet are left out.
    """
    ranked = (
        Campaign.objects.filter(launched_at__isnull=False, result__isnull=False)
        .select_related("result")
        .annotate(
            incremental_profit_value=Cast(
                KeyTextTransform("incremental_profit", "result__payload"),
                FloatField(),
            )
        )
        .filter(incremental_profit_value__isnull=False)
    )
    best = ranked.order_by(F("incremental_profit_value").desc(), "pk").first()
    worst = ranked.order_by(F("incremental_profit_value").asc(), "pk").first()
    if best is not None and worst is not None and best.pk == worst.pk:
        worst = None
    return best, worst


def ineligible_reach() -> list[Campaign]:
    """Campaigns that sent to customers the current eligibility score excludes.

    Excluded customers (heavy returners, chronic cancellers) make offers lose
    money; a campaign that reached them deserves a second look. One query.
    """
    excluded = _excluded_customer_ids()
    return list(
        Campaign.objects.annotate(
            ineligible_sent=Count(
                "sends",
                filter=Q(sends__status=Send.Status.SENT)
                & Q(sends__customer_id__in=excluded),
            )
        )
        .filter(ineligible_sent__gt=0)
        .order_by("-ineligible_sent", "-pk")
    )


def estimate_messages(*, campaign: Campaign) -> int:
    """How many messages a campaign sends: its treated audience.

    Launched: the frozen audience outside the control group. Draft: the
    segment's customers with consent on the channel, less the control share
    (one COUNT query; the split itself happens at launch). Raises the
    segment's ``ValidationError`` when its definition is no longer valid.
    """
    if campaign.audience_frozen_at is not None:
        return campaign.audience.filter(variant__isnull=False).count()
    reachable = resolve_segment(campaign.segment.definition).filter(
        pk__in=list_marketable_customers(channel=campaign.channel).values("pk")
    )
    size = reachable.count()
    control = int(size * campaign.control_share + Decimal("0.5"))
    return size - control

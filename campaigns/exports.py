"""CSV export of a campaign's cached results (escaped per SEC-14 by crm.exports)."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpResponse
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.queries import get_campaign_result
from crm.exports import csv_response

HEADER = (
    "campaign",
    "section",
    "key",
    "name",
    "group",
    "customers",
    "conversions",
    "conversion_rate",
    "revenue",
    "margin",
    "rate_diff",
    "rate_ci_low",
    "rate_ci_high",
    "rate_p_value",
    "revenue_per_customer_diff",
    "revenue_ci_low",
    "revenue_ci_high",
    "revenue_p_value",
    "incremental_profit",
)


def result_rows(campaign: Campaign, payload: dict) -> Iterator[tuple]:
    """One row per group, uplift, store, ladder step, day and code."""
    name = campaign.name
    empty = (None,) * 9
    for group in payload.get("groups", []):
        yield (
            name, "group", group["key"], "", group["kind"], group["customers"],
            group["conversions"], group["conversion_rate"], group["revenue"],
            group["margin"], *empty,
        )  # fmt: skip
    for row in payload.get("uplift", []):
        yield (
            name, "uplift", row["key"], "", "vs control", None, None, None, None, None,
            row["rate_diff"], row["rate_ci_low"], row["rate_ci_high"], row["rate_p_value"],
            row["revenue_per_customer_diff"], row["revenue_ci_low"],
            row["revenue_ci_high"], row["revenue_p_value"], row["incremental_profit"],
        )  # fmt: skip
    for section, key in (("store", "by_store"), ("ladder_step", "by_ladder_step")):
        for row in payload.get(key, []):
            yield (
                name, section, row["id"], row["name"], row["group"], row["customers"],
                row["conversions"], row["conversion_rate"], row["revenue"], row["margin"],
                *empty,
            )  # fmt: skip
    for row in payload.get("daily", []):
        for group in ("treated", "control"):
            yield (
                name, "day", row["date"], "", group, None, row[group], None, None, None,
                *empty,
            )  # fmt: skip
    for row in payload.get("codes", []):
        yield (
            name, "code", row["code"], row["partner_name"], row["kind"], row["customers"],
            row["orders"], None, row["revenue"], row["margin"], *empty,
        )  # fmt: skip


def results_csv_response(campaign: Campaign) -> HttpResponse:
    """The cached results as a CSV download (empty table before the first refresh)."""
    result = get_campaign_result(campaign_id=campaign.pk)
    payload = result.payload if result is not None else {}
    stamp = timezone.localdate().isoformat()
    return csv_response(
        filename=f"campaign-{campaign.pk}-results-{stamp}.csv",
        header=HEADER,
        rows=result_rows(campaign, payload),
    )

"""The results page of a campaign, and its CSV download.

Everything shown comes from the cached payload of ``campaigns.queries``
(refreshed by a job, or by the manager's "Refresh now" button); the page
never recomputes on a GET. Figures are read in words as well as numbers.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from campaigns import services
from campaigns.exports import results_csv_response
from campaigns.models import Campaign, CampaignResult
from campaigns.views.base import CampaignReaderMixin
from crm.charts import Series, line_chart
from crm.templatetags.crm_format import format_money, percent

CONTROL = "control"
TREATED = "treated"


def describe_uplift(uplift: dict | None) -> tuple[str, str]:
    """(sentence, tone) reading a conversion uplift and its p-value in words.

    Tone is "good", "bad" or "" (undecided), for the page's colour.
    """
    if not uplift or uplift.get("rate_diff") is None:
        return (
            _(
                "There is no control group to compare with, so the effect cannot be measured."
            ),
            "",
        )
    diff = uplift["rate_diff"]
    p_value = uplift.get("rate_p_value")
    low, high = uplift.get("rate_ci_low"), uplift.get("rate_ci_high")
    values = {
        "diff": percent(abs(diff)),
        "low": percent(low) if low is not None else "–",
        "high": percent(high) if high is not None else "–",
        "p": f"{p_value:.3f}" if p_value is not None else "–",
    }
    direction = (
        _("more customers bought")
        if diff > 0
        else _("fewer customers bought")
        if diff < 0
        else _("as many customers bought")
    )
    values["direction"] = direction
    if p_value is None:
        return (
            _("Too few customers to judge: %(direction)s than in the control group.")
            % values,
            "",
        )
    if p_value < 0.01:
        sure = _("We can be very sure")
    elif p_value < 0.05:
        sure = _("We can be fairly sure")
    elif p_value < 0.2:
        return (
            _(
                "There is a hint that %(direction)s (%(diff)s points), but it could "
                "still be chance (p = %(p)s); the true difference lies between "
                "%(low)s and %(high)s."
            )
            % values,
            "",
        )
    else:
        return (
            _(
                "We cannot tell this apart from chance (p = %(p)s): the true "
                "difference lies anywhere between %(low)s and %(high)s."
            )
            % values,
            "",
        )
    values["sure"] = sure
    return (
        _(
            "%(sure)s that the campaign made a difference: %(direction)s than in "
            "the control group, %(diff)s points (95%% confidence interval "
            "%(low)s to %(high)s, p = %(p)s)."
        )
        % values,
        "good" if diff > 0 else "bad",
    )


def describe_profit(profit: float | None) -> str:
    """The incremental profit after the discount cost, in words."""
    if profit is None:
        return _("The incremental profit cannot be measured without a control group.")
    if profit >= 0:
        return _(
            "After the discount, the campaign earned %(amount)s more margin than "
            "sending nothing would have."
        ) % {"amount": format_money(profit, 0)}
    return _(
        "After the discount, the campaign lost %(amount)s compared with sending "
        "nothing."
    ) % {"amount": format_money(-profit, 0)}


def _pair_rows(rows: list[dict]) -> list[dict]:
    """Breakdown rows (treated and control per key) side by side, one per key."""
    merged: dict[object, dict] = {}
    for row in rows:
        entry = merged.setdefault(
            row["id"],
            {"id": row["id"], "name": row["name"], "treated": None, "control": None},
        )
        entry[row["group"]] = row
        if row["name"] and not entry["name"]:
            entry["name"] = row["name"]
    paired = []
    for entry in merged.values():
        treated, control = entry["treated"], entry["control"]
        if treated and control and treated["conversion_rate"] is not None:
            entry["rate_diff"] = treated["conversion_rate"] - (
                control["conversion_rate"] or 0
            )
        else:
            entry["rate_diff"] = None
        paired.append(entry)
    return paired


def _chart(daily: list[dict]):
    """Cumulative conversion rate per day, treated against control."""
    series = []
    for key, label in ((TREATED, _("Sent a message")), (CONTROL, _("Control group"))):
        points = [
            (dt.date.fromisoformat(row["date"]), 100 * row[f"{key}_cumulative_rate"])
            for row in daily
            if row.get(f"{key}_cumulative_rate") is not None
        ]
        if points:
            series.append(Series(label=label, points=points))
    return line_chart(
        series,
        title=_("Customers who bought, cumulative, % of the group"),
        chart_id="conversions",
        unit="%",
    )


class CampaignResultsView(CampaignReaderMixin, TemplateView):
    """Per variant and control: conversions, money, uplift with CI, breakdowns."""

    template_name = "campaigns/campaign_results.html"

    def get_campaign(self) -> Campaign:
        return get_object_or_404(
            Campaign.objects.select_related("segment", "offer_product", "offer_step"),
            pk=self.kwargs["pk"],
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = self.get_campaign()
        result = CampaignResult.objects.filter(campaign=campaign).first()
        payload = result.payload if result is not None else None
        context.update({"campaign": campaign, "result": result, "payload": payload})
        if not payload:
            return context
        uplift = {row["key"]: row for row in payload.get("uplift", [])}
        groups = []
        for group in payload.get("groups", []):
            if group["key"] == TREATED:
                continue
            groups.append({**group, "uplift": uplift.get(group["key"])})
        overall = uplift.get(TREATED)
        verdict, tone = describe_uplift(overall)
        control = next((g for g in groups if g["key"] == CONTROL), None)
        daily = payload.get("daily", [])
        context.update(
            {
                "groups": groups,
                "overall": overall,
                "has_control": bool(control and control["customers"]),
                "verdict": verdict,
                "verdict_tone": tone,
                "profit_text": describe_profit(payload.get("incremental_profit")),
                "by_store": _pair_rows(payload.get("by_store", [])),
                "by_step": _pair_rows(payload.get("by_ladder_step", [])),
                "daily": daily,
                "chart_svg": _chart(daily) if daily else None,
                "codes": payload.get("codes", []),
                "partners": payload.get("partners", []),
                "can_refresh": self.request.user.has_perm("campaigns.change_campaign"),
            }
        )
        return context

    def post(self, request, pk: int):
        """Recompute now (managers): the same service the periodic job calls."""
        if not request.user.has_perm("campaigns.change_campaign"):
            return self.handle_no_permission()
        campaign = get_object_or_404(Campaign, pk=pk)
        if services.refresh_campaign_results(campaign_id=campaign.pk) is None:
            messages.error(request, _("A campaign has results once it is launched."))
        else:
            messages.success(request, _("Results recomputed."))
        return HttpResponseRedirect(reverse("campaigns:campaign_results", args=[pk]))


class CampaignResultsCsvView(CampaignReaderMixin, View):
    """The cached results as CSV (formula injection escaped, SEC-14)."""

    def get(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        return results_csv_response(campaign)

"""The manager's campaign dashboard: everything at a glance, in a few queries.

Campaigns with status, sends, conversions and incremental profit; the best
and the worst by incremental profit; how suggestions are accepted per kind
and channel; and a warning for every campaign that reached customers the
eligibility score excludes (offers to them tend to lose money).
"""

from __future__ import annotations

from django.views.generic import TemplateView

from campaigns import selectors
from campaigns.views.base import CampaignManagerMixin
from recommendations.selectors import suggestion_performance

RECENT = 20


class DashboardView(CampaignManagerMixin, TemplateView):
    """Managers only: it compares every campaign and store (≤ 20 queries)."""

    template_name = "campaigns/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaigns = list(selectors.campaigns_at_a_glance()[:RECENT])
        rows = [
            {"campaign": campaign, "summary": selectors.summarise_result(campaign)}
            for campaign in campaigns
        ]
        best, worst = selectors.best_and_worst_campaigns()
        context.update(
            {
                "rows": rows,
                "recent": RECENT,
                "best": best,
                "best_summary": selectors.summarise_result(best) if best else None,
                "worst": worst,
                "worst_summary": selectors.summarise_result(worst) if worst else None,
                "performance": suggestion_performance(),
                "ineligible": selectors.ineligible_reach(),
            }
        )
        return context

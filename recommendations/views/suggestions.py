"""Pages: the manager's runs page, and the customer page's suggestions panel.

The runs page needs ``recommendations.view_recommendationrun`` plus
``recommendations.delete_recommendationrun`` (managers only): it reports on
every store. The panel and the outcome buttons follow the API's rules
(scoped selectors; a clerk records in-person offers of their store only).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView

from crm.selectors import customers_visible_to
from recommendations import selectors, services

PANEL = "recommendations/partials/customer_suggestions.html"


class RunListView(PermissionRequiredMixin, ListView):
    """Every run (when, how long, how many, what failed) and performance."""

    permission_required = (
        "recommendations.view_recommendationrun",
        "recommendations.delete_recommendationrun",
    )
    template_name = "recommendations/run_list.html"
    context_object_name = "runs"
    paginate_by = 50

    def get_queryset(self):
        return selectors.list_runs()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["performance"] = selectors.suggestion_performance()
        return context

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["recommendations/partials/run_rows.html"]
        return [self.template_name]


def _panel(request, customer_id: int, *, error: str = "", recorded: str = ""):
    customer = get_object_or_404(customers_visible_to(request.user), pk=customer_id)
    suggestions = selectors.list_customer_suggestions(
        user=request.user, customer_id=customer.pk
    )
    context = {
        "customer": customer,
        "suggestions": suggestions,
        "error": error,
        "recorded": recorded,
    }
    return render(request, PANEL, context)


OUTCOME_MESSAGES = {
    "shown": gettext_lazy("Recorded: “%(product)s” offered."),
    "accepted": gettext_lazy("Recorded: “%(product)s” accepted."),
    "declined": gettext_lazy("Recorded: “%(product)s” declined."),
}


class CustomerSuggestionsPanelView(PermissionRequiredMixin, View):
    """The customer page's offers panel (an htmx fragment, never extends)."""

    permission_required = "recommendations.view_suggestion"

    def get(self, request, customer_id: int):
        return _panel(request, customer_id)


class SuggestionOutcomeView(PermissionRequiredMixin, View):
    """POST an outcome for one suggestion; answers with the refreshed panel."""

    permission_required = "recommendations.change_suggestion"

    def post(self, request, pk: int):
        suggestion = get_object_or_404(
            selectors.suggestions_visible_to(request.user), pk=pk
        )
        outcome = request.POST.get("outcome", "")
        error = recorded = ""
        try:
            services.record_outcome(
                suggestion_id=suggestion.pk,
                outcome=outcome,
                channel=request.POST.get("channel") or None,
                note=request.POST.get("note", "")[:2000],
                user=request.user,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except PermissionDenied as exc:
            if not request.headers.get("HX-Request"):
                raise
            error = str(exc)
        else:
            recorded = OUTCOME_MESSAGES[outcome] % {"product": suggestion.product.name}
        if request.headers.get("HX-Request"):
            return _panel(
                request, suggestion.customer_id, error=error, recorded=recorded
            )
        # Without JavaScript the button posts a plain form: back to the page.
        if error:
            messages.error(request, error)
        else:
            messages.success(request, recorded)
        return HttpResponseRedirect(
            reverse("crm:customer_detail", args=[suggestion.customer_id])
        )

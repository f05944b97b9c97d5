"""The sales call list: customers of phone campaigns to call, one-click outcomes.

Sales staff and managers work the list (``campaigns.view_campaign``);
clerks hold no campaign permission and get 403. Which calls a user sees is
decided by the sending pipeline's selector, and the outcome is recorded by
its service, which refuses a call already done.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from campaigns.forms import CallOutcomeForm
from campaigns.models import Campaign, Send
from campaigns.sending.calls import list_call_tasks, record_call_outcome
from campaigns.views.base import CampaignReaderMixin, messages_of

ROW = "campaigns/partials/call_row.html"


class CallListView(CampaignReaderMixin, ListView):
    """Open calls (or all, with ?done=1), optionally for one campaign."""

    template_name = "campaigns/call_list.html"
    context_object_name = "calls"
    paginate_by = 50

    def get_queryset(self):
        campaign_id = self.request.GET.get("campaign") or None
        if campaign_id is not None and not str(campaign_id).isdigit():
            campaign_id = None
        return list_call_tasks(
            user=self.request.user,
            campaign_id=int(campaign_id) if campaign_id else None,
            open_only=self.request.GET.get("done") != "1",
        ).select_related("customer__home_store")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["outcomes"] = Send.CallOutcome.choices
        context["phone_campaigns"] = Campaign.objects.filter(
            channel=Campaign.Channel.PHONE, launched_at__isnull=False
        ).order_by("-launched_at")[:50]
        context["selected_campaign"] = self.request.GET.get("campaign", "")
        context["show_done"] = self.request.GET.get("done") == "1"
        return context


class CallOutcomeView(CampaignReaderMixin, View):
    """Record how one call went (POST); answers with the row (htmx) or redirects."""

    http_method_names = ["post"]
    permission_required = ("campaigns.view_campaign", "campaigns.change_send")

    def post(self, request, pk: int):
        form = CallOutcomeForm(request.POST, outcomes=Send.CallOutcome.choices)
        error = ""
        send = None
        if not form.is_valid():
            error = _("Choose how the call went.")
        else:
            try:
                send = record_call_outcome(
                    send_id=pk,
                    outcome=form.cleaned_data["outcome"],
                    notes=form.cleaned_data["notes"],
                    user=request.user,
                )
            except ValidationError as exc:
                error = " ".join(messages_of(exc))
        if request.htmx:
            call = (
                list_call_tasks(user=request.user, open_only=False)
                .select_related("customer__home_store")
                .filter(pk=pk)
                .first()
            )
            if call is None:
                return render(
                    request,
                    "campaigns/partials/call_gone.html",
                    {"error": error or _("This call is not on your list.")},
                )
            return render(
                request,
                ROW,
                {"call": call, "outcomes": Send.CallOutcome.choices, "error": error},
            )
        if error:
            messages.error(request, error)
        elif send is not None:
            messages.success(request, _("Outcome recorded."))
        return HttpResponseRedirect(reverse("campaigns:call_list"))

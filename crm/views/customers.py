"""The salesperson's pages: the customer list and the customer page.

Both read through the role-scoped selectors (a clerk sees their store's
customers; another store's customer is a 404, SEC-08) and cost a fixed
number of queries whatever the number of rows or the length of a history
(PERF-01: list <= 12, page <= 15). Parts owned by higher apps (ladder
positions, offers, eligibility, campaign messages) arrive through the hooks
of ``crm.hooks``, so crm imports none of them. Every response holds customer
PII and is marked ``no-store`` by ``crm.middleware.NoStoreMiddleware``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView

from crm.filters import CustomerListFilterSet
from crm.forms import ContactLogForm
from crm.hooks import app_hooks
from crm.models import Channel, Customer
from crm.pagination import IdsFirstPaginator
from crm.roles import CLERK, role_of
from crm.selectors import (
    TimelineCursor,
    acting_store_id,
    customer_stored_value,
    customers_visible_to,
    get_customer_for_page,
    list_customer_timeline,
    list_customers,
    stores_visible_to,
)
from crm.services.customers import MARKETING_CHANNELS, log_contact

# sort key -> (label, ordering). Nulls last, so "never bought" never leads.
SORTS = {
    "name": (gettext_lazy("Name A–Z"), ("last_name", "first_name", "id")),
    "-name": (gettext_lazy("Name Z–A"), ("-last_name", "-first_name", "-id")),
    "-last_purchase": (
        gettext_lazy("Last purchase, newest first"),
        (F("last_purchase_at").desc(nulls_last=True), "-id"),
    ),
    "last_purchase": (
        gettext_lazy("Last purchase, oldest first"),
        (F("last_purchase_at").asc(nulls_last=True), "id"),
    ),
    "-spend": (
        gettext_lazy("Lifetime value, highest first"),
        ("-lifetime_value", "-id"),
    ),
    "spend": (gettext_lazy("Lifetime value, lowest first"), ("lifetime_value", "id")),
    "-created": (gettext_lazy("Newest customers first"), ("-created_at", "-id")),
}
DEFAULT_SORT = "name"
FILTER_ORDER = (
    "q",
    "store",
    "status",
    "preferred_channel",
    "ladder_step",
    "eligibility",
    "last_purchase_from",
    "last_purchase_to",
    "spend_min",
    "spend_max",
)
NEWCOMER_OFFERS = 3
# With a precomputed value (crm.hooks ``customer_value``) the spend sorts use
# it: one join instead of aggregating every customer's lines per request.
STORED_SORTS = {
    "-spend": (
        gettext_lazy("Value at last computation, highest first"),
        (F("stored_value").desc(nulls_last=True), "-id"),
    ),
    "spend": (
        gettext_lazy("Value at last computation, lowest first"),
        (F("stored_value").asc(nulls_last=True), "id"),
    ),
}


def is_htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


class CustomerListView(PermissionRequiredMixin, ListView):
    """Customers the user may see, filtered, sorted and paged from the URL."""

    permission_required = "crm.view_customer"
    template_name = "crm/customer_list.html"
    context_object_name = "customers"
    paginate_by = 50
    paginator_class = IdsFirstPaginator

    def get_queryset(self):
        user = self.request.user
        customers = list_customers(user)
        self.stored_value = customer_stored_value(user)
        if self.stored_value is not None:
            customers = customers.annotate(**self.stored_value.annotations)
        self.sorts = dict(SORTS)
        if self.stored_value is not None:
            self.sorts.update(STORED_SORTS)
        self.filterset = CustomerListFilterSet(
            self.request.GET or None, queryset=customers
        )
        form = self.filterset.form
        form.fields["q"].label = _("Name, e-mail, phone or card")
        if role_of(user) == CLERK:
            # A clerk's list is their store: no store to choose (SEC-08).
            del form.fields["store"]
            del form.fields["home_store"]
        else:
            stores = [("", _("All stores"))] + [
                (store.pk, str(store)) for store in stores_visible_to(user)
            ]
            form.fields["store"].widget = forms.Select(choices=stores)
            form.fields["store"].label = _("Store")
        for name in ("last_purchase_from", "last_purchase_to"):
            form.fields[name].widget = forms.DateInput(attrs={"type": "date"})
        if self.stored_value is not None:
            # Say which figure the spend filters compare (see the list's note).
            form.fields["spend_min"].label = _("Value at last computation at least")
            form.fields["spend_max"].label = _("Value at last computation at most")
        self.sort = self.request.GET.get("sort", DEFAULT_SORT)
        if self.sort not in self.sorts:
            self.sort = DEFAULT_SORT
        queryset = (
            self.filterset.qs if self.filterset.is_bound else self.filterset.queryset
        )
        if self.filterset.is_bound and not self.filterset.is_valid():
            queryset = queryset.none()
        return queryset.order_by(*self.sorts[self.sort][1])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = self.filterset.form
        context["filter_fields"] = [
            form[name] for name in FILTER_ORDER if name in form.fields
        ]
        context["filter_errors"] = (
            self.filterset.is_bound and not self.filterset.is_valid()
        )
        context["sorts"] = [
            (key, label) for key, (label, _ordering) in self.sorts.items()
        ]
        context["stored_value"] = self.stored_value
        context["sort"] = self.sort
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_string"] = query.urlencode()
        return context

    def get_template_names(self):
        if is_htmx(self.request):
            return ["crm/partials/customer_rows.html"]
        return [self.template_name]


def _consent_rows(customer: Customer) -> list[dict]:
    """One row per marketing channel (and any other with a consent row)."""
    by_channel = {consent.channel: consent for consent in customer.consents.all()}
    channels = list(MARKETING_CHANNELS) + [
        channel for channel in by_channel if channel not in MARKETING_CHANNELS
    ]
    labels = dict(Channel.choices)
    return [
        {
            "channel": channel,
            "label": labels.get(channel, channel),
            "consent": by_channel.get(channel),
        }
        for channel in channels
    ]


def _customer_or_404(request, pk: int, *, with_figures: bool = True) -> Customer:
    if with_figures:
        customer = get_customer_for_page(request.user, customer_id=pk)
    else:
        customer = customers_visible_to(request.user).filter(pk=pk).first()
    if customer is None:
        raise Http404(_("No such customer."))
    return customer


def _timeline_context(request, customer: Customer) -> dict:
    cursor = TimelineCursor.decode(request.GET.get("before"))
    page = list_customer_timeline(request.user, customer_id=customer.pk, cursor=cursor)
    return {
        "customer": customer,
        "timeline": page,
        "timeline_continued": cursor is not None,
    }


class CustomerDetailView(PermissionRequiredMixin, View):
    """Who the customer is, what they bought, where they stand, what to offer."""

    permission_required = "crm.view_customer"
    template_name = "crm/customer_detail.html"

    def get(self, request, pk: int):
        customer = _customer_or_404(request, pk)
        return render(
            request, self.template_name, customer_page_context(request, customer)
        )


def customer_page_context(request, customer: Customer, *, form=None) -> dict:
    """Everything the customer page shows; a fixed number of queries."""
    panels = sorted(
        (
            panel
            for hook in app_hooks("customer_panels")
            for panel in hook(request, customer)
        ),
        key=lambda panel: panel.order,
    )
    # render_to_string returns SafeStrings, which the page prints as they are.
    rendered = [
        render_to_string(
            panel.template, {"customer": customer, **panel.context}, request=request
        )
        for panel in panels
    ]
    offers = []
    if not customer.orders_count:
        for hook in app_hooks("newcomer_offers"):
            offers.extend(hook(request.user, customer, NEWCOMER_OFFERS))
    eligibility = getattr(customer, "eligibility", None)
    return {
        "customer": customer,
        "consents": _consent_rows(customer),
        "panels": rendered,
        "newcomer_offers": offers[:NEWCOMER_OFFERS],
        "ineligible": eligibility not in (None, "", "eligible"),
        "form": form or ContactLogForm(),
        **_timeline_context(request, customer),
    }


class CustomerTimelineView(PermissionRequiredMixin, View):
    """The next page of the timeline (htmx appends it; links work without JS)."""

    permission_required = "crm.view_customer"

    def get(self, request, pk: int):
        customer = _customer_or_404(request, pk, with_figures=False)
        if not is_htmx(request):
            url = reverse("crm:customer_detail", args=[customer.pk])
            before = request.GET.get("before", "")
            return HttpResponseRedirect(
                f"{url}?{request.GET.urlencode()}#timeline" if before else url
            )
        return render(
            request,
            "crm/partials/customer_timeline.html",
            _timeline_context(request, customer),
        )


class LogContactView(PermissionRequiredMixin, View):
    """POST a call, e-mail, SMS, visit or note; CSRF-protected like every POST."""

    permission_required = "crm.add_interaction"

    def post(self, request, pk: int):
        customer = _customer_or_404(request, pk, with_figures=False)
        form = ContactLogForm(request.POST)
        if form.is_valid():
            try:
                log_contact(
                    customer=customer,
                    staff=request.user,
                    kind=form.cleaned_data["kind"],
                    outcome=form.cleaned_data["outcome"] or "",
                    notes=form.cleaned_data["notes"],
                    occurred_at=form.cleaned_data["occurred_at"],
                    store_id=acting_store_id(request.user),
                )
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
        if form.is_valid():
            if is_htmx(request):
                context = {
                    "form": ContactLogForm(),
                    "logged": True,
                    **_timeline_context(request, customer),
                }
                return render(request, "crm/partials/customer_activity.html", context)
            messages.success(request, _("Contact logged."))
            return HttpResponseRedirect(
                reverse("crm:customer_detail", args=[customer.pk])
            )
        if is_htmx(request):
            context = {"form": form, **_timeline_context(request, customer)}
            return render(request, "crm/partials/customer_activity.html", context)
        # The whole page again, with its figures, and the form's errors.
        customer = _customer_or_404(request, pk)
        context = customer_page_context(request, customer, form=form)
        return render(request, "crm/customer_detail.html", context, status=400)

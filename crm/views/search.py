"""Global customer search: the results page and the header's htmx dropdown."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render
from django.views import View

from crm.selectors import search_customers

PAGE_RESULTS = 50
DROPDOWN_RESULTS = 8


class SearchView(PermissionRequiredMixin, View):
    """Find customers by name, e-mail, phone, loyalty card or external id.

    One search query, scoped to what the user may see (a clerk: their store).
    With ``HX-Request`` the answer is the dropdown fragment under the box.
    """

    permission_required = "crm.view_customer"

    def get(self, request):
        query = request.GET.get("q", "")[:100]
        htmx = bool(request.headers.get("HX-Request"))
        limit = DROPDOWN_RESULTS if htmx else PAGE_RESULTS
        results = search_customers(request.user, query, limit=limit)
        context = {"query": query.strip(), "results": results, "limit": limit}
        if htmx:
            return render(request, "crm/partials/search_results.html", context)
        return render(request, "crm/search.html", context)

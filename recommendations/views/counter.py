"""The clerk's counter: find the customer, offer in person, ring up a basket.

Mobile-first pages for a tablet or phone at the till (issue 6, item 4):

* one search box: phone (any formatting), loyalty card (a keyboard-wedge
  scanner types the code and Enter), or name; exactly one match opens that
  customer, several give a short list to tap, none says so and leaves the
  basket working for an anonymous sale;
* the customer's in-person offers (channel in store or checkout) as large
  cards; one tap records offered / accepted / declined through
  ``services.record_outcome`` and swaps the card;
* the campaigns' in-store prompts (``extensions.counter_prompts``);
* the basket being rung up, kept in the clerk's session (one sale per
  login), with live cross-sells from the basket service behind
  ``POST /api/suggestions/basket/`` (``selectors.suggest_basket_cross_sells``,
  called in-process), for a known customer or an anonymous basket.

Scope (SEC-08): customers come from ``customers_visible_to``, so a clerk only
finds and acts on their store's customers; any other id is a 404. Sales staff
and managers may use the counter too: they see every store, and what they
record is attributed to the customer's home store (they have no store of
their own). Every POST is CSRF-protected (forms carry the token; htmx sends
the form). Without JavaScript every form still works (post, then redirect).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.models import Store
from crm.selectors import acting_store_id, customers_visible_to, search_customers
from recommendations import extensions, selectors, services
from recommendations.models import Suggestion
from recommendations.templatetags.recommendation_reasons import reason_text

#: Session key of the sale being rung up (one per login, so per clerk).
SALE_KEY = "counter_sale"
LOOKUP_LIMIT = 8
OFFER_LIMIT = 6
BASKET_SUGGESTIONS = 3
#: Lines a basket may hold (the basket API takes 200 SKUs at most).
MAX_LINES = 100
MAX_QUANTITY = 999
SKU_LENGTH = 40
OUTCOMES = ("shown", "accepted", "declined")

COUNTER_PERMISSIONS = ("crm.view_customer", "recommendations.view_suggestion")
RECORD_PERMISSIONS = (*COUNTER_PERMISSIONS, "recommendations.change_suggestion")

PAGE = "recommendations/counter.html"
BODY = "recommendations/partials/counter_body.html"
OFFER_CARD = "recommendations/partials/counter_offer.html"
BASKET = "recommendations/partials/counter_basket.html"

OFFER_RECORDED = {
    "shown": gettext_lazy("Offered: “%(product)s”."),
    "accepted": gettext_lazy("Accepted: “%(product)s” is in the basket."),
    "declined": gettext_lazy("Declined: “%(product)s”."),
}


def is_htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


# --- the sale in the session ---------------------------------------------------


def _load_sale(request) -> dict:
    """The sale being rung up: lines (sku, product id, name, price, qty) and
    the outcomes tapped on basket cross-sells, keyed "<customer id or 0>:<sku>".

    Name and price are kept as scanned, like a till line, so showing the
    basket costs no query; anything malformed starts an empty sale.
    """
    sale = request.session.get(SALE_KEY)
    if (
        not isinstance(sale, dict)
        or not isinstance(sale.get("lines"), list)
        or not isinstance(sale.get("outcomes"), dict)
    ):
        return {"lines": [], "outcomes": {}}
    return sale


def _save_sale(request, sale: dict) -> None:
    request.session[SALE_KEY] = sale


def _add_line(sale: dict, product: dict) -> bool:
    """Add one unit of ``product``; False when the basket is full."""
    for line in sale["lines"]:
        if line["sku"] == product["sku"]:
            line["qty"] = min(MAX_QUANTITY, line["qty"] + 1)
            return True
    if len(sale["lines"]) >= MAX_LINES:
        return False
    sale["lines"].append(
        {
            "sku": product["sku"],
            "product_id": product["id"],
            "name": product["name"],
            "price": str(product["price"]),
            "qty": 1,
        }
    )
    return True


def _outcome_key(customer, sku: str) -> str:
    return f"{customer.pk if customer else 0}:{sku}"


def _find_product(sku: str) -> dict | None:
    """The active product a typed or scanned SKU names (exact, then upper case)."""
    found = selectors.products_by_sku(dict.fromkeys([sku, sku.upper()]))
    return found.get(sku) or found.get(sku.upper())


# --- contexts ------------------------------------------------------------------


def _customer_or_404(request, customer_id):
    """A customer the user may see (SEC-08: another store's is a 404)."""
    try:
        pk = int(customer_id)
    except (TypeError, ValueError):
        raise Http404("No such customer.") from None
    return get_object_or_404(
        customers_visible_to(request.user).select_related("home_store"), pk=pk
    )


def _posted_customer(request):
    """The customer a counter form acts for, or None for an anonymous sale."""
    value = request.POST.get("customer", "").strip()
    return _customer_or_404(request, value) if value else None


def _line_total(line: dict) -> Decimal:
    try:
        return Decimal(line["price"]) * int(line["qty"])
    except (InvalidOperation, TypeError, ValueError, KeyError):
        return Decimal(0)


def basket_context(request, sale: dict, customer, **extra) -> dict:
    """The basket and its live cross-sells (one basket-service call).

    Cross-sells declined during this sale are hidden; offered and accepted
    ones show their state. Three queries for a customer's basket, two for an
    anonymous one, whatever the basket holds.
    """
    lines = [{**line, "total": _line_total(line)} for line in sale["lines"]]
    prefix = f"{customer.pk if customer else 0}:"
    tapped = {
        key.removeprefix(prefix): value
        for key, value in sale["outcomes"].items()
        if key.startswith(prefix)
    }
    declined = {sku for sku, value in tapped.items() if value == "declined"}
    offers = []
    if lines:
        # The lines were looked up when scanned: the basket service needs
        # their product ids only, so it need not look the SKUs up again.
        scanned = {
            line["sku"]: {"id": line["product_id"]}
            for line in lines
            if isinstance(line.get("product_id"), int)
        }
        found, _unknown, _run = selectors.suggest_basket_cross_sells(
            skus=[line["sku"] for line in lines],
            customer_id=customer.pk if customer else None,
            k=BASKET_SUGGESTIONS + min(len(declined), 7),
            basket=scanned,
        )
        offers = [
            {
                "offer": offer,
                "state": tapped.get(offer.sku, ""),
                "reason": reason_text(
                    offer.reason_code, offer.reason_params, offer.reason
                ),
            }
            for offer in found
            if offer.sku not in declined
        ][:BASKET_SUGGESTIONS]
    return {
        "customer": customer,
        "lines": lines,
        "items": sum(int(line["qty"]) for line in lines),
        "total": sum((line["total"] for line in lines), Decimal(0)),
        "basket_offers": offers,
        **extra,
    }


def customer_context(request, customer) -> dict:
    """Who is at the counter, their in-person offers and in-store prompts."""
    offers = selectors.list_counter_offers(
        user=request.user, customer_id=customer.pk, limit=OFFER_LIMIT
    )
    return {
        "customer": customer,
        "offers": [_offer_item(offer) for offer in offers],
        "prompts": extensions.counter_prompts(customer, customer.home_store),
    }


def _offer_item(suggestion, **extra) -> dict:
    return {
        "suggestion": suggestion,
        "reason": reason_text(
            suggestion.reason_code, suggestion.reason_params, suggestion.reason
        ),
        **extra,
    }


def _page_context(request, *, customer=None, **extra) -> dict:
    sale = _load_sale(request)
    context = {
        "store": customer.home_store if customer else _acting_store(request.user),
        "clerk_without_store": _clerk_without_store(request.user),
        "basket": basket_context(request, sale, customer),
        "focus": "sku" if customer else "search",
        **extra,
    }
    if customer is not None:
        context.update(customer_context(request, customer))
    return context


def _acting_store(user):
    store_id = acting_store_id(user)
    return Store.objects.filter(pk=store_id).first() if store_id else None


def _clerk_without_store(user) -> bool:
    from crm.roles import CLERK, role_of

    return role_of(user) == CLERK and acting_store_id(user) is None


def _back(customer) -> str:
    if customer is None:
        return reverse("recommendations:counter")
    return reverse("recommendations:counter_customer", args=[customer.pk])


# --- pages ---------------------------------------------------------------------


class CounterView(PermissionRequiredMixin, View):
    """The counter: the search box, and the basket for an anonymous sale.

    ``?q=`` looks a customer up: one match opens them (htmx: in place, with
    the customer's URL pushed; otherwise a redirect), several are listed,
    none is said plainly.
    """

    permission_required = COUNTER_PERMISSIONS

    def get(self, request):
        query = request.GET.get("q", "").replace("\x00", "")[:100].strip()
        results = []
        if query:
            results = search_customers(request.user, query, limit=LOOKUP_LIMIT)
            # A scanned card or a typed phone is an exact key: its match wins
            # over people whose name happens to contain the same letters.
            exact = [c for c in results if getattr(c, "search_rank", 1) == 0]
            results = exact or results
        if len(results) == 1:
            customer = results[0]
            url = reverse("recommendations:counter_customer", args=[customer.pk])
            if not is_htmx(request):
                return HttpResponseRedirect(url)
            response = render(
                request, BODY, _page_context(request, customer=customer, query=query)
            )
            response["HX-Push-Url"] = url
            return response
        context = _page_context(
            request, query=query, results=results, no_match=bool(query) and not results
        )
        return render(request, BODY if is_htmx(request) else PAGE, context)


class CounterCustomerView(PermissionRequiredMixin, View):
    """One customer at the counter: offers, prompts and the basket."""

    permission_required = COUNTER_PERMISSIONS

    def get(self, request, customer_id: int):
        customer = _customer_or_404(request, customer_id)
        context = _page_context(request, customer=customer)
        return render(request, BODY if is_htmx(request) else PAGE, context)


class CounterOfferOutcomeView(PermissionRequiredMixin, View):
    """POST offered / accepted / declined for one in-person offer.

    Only in-person offers of customers the user may see are reachable (404
    otherwise): the counter never records e-mail or phone offers. An accepted
    offer goes into the basket, since the customer is taking it now. htmx gets
    the card back (and the basket, out of band, when it changed).
    """

    permission_required = RECORD_PERMISSIONS

    def post(self, request, pk: int):
        suggestion = get_object_or_404(
            selectors.suggestions_visible_to(request.user)
            .filter(channel__in=sorted(selectors.IN_PERSON_CHANNELS))
            .select_related("customer__home_store"),
            pk=pk,
        )
        customer = suggestion.customer
        outcome = request.POST.get("outcome", "")
        error = recorded = ""
        was_accepted = suggestion.status == Suggestion.Status.ACCEPTED
        if outcome not in OUTCOMES:
            error = _("Choose offered, accepted or declined.")
        else:
            try:
                suggestion = services.record_outcome(
                    suggestion_id=suggestion.pk, outcome=outcome, user=request.user
                )
            except ValidationError:
                error = _("This offer was already answered; reload the page.")
            except PermissionDenied:
                error = _("You may not record this offer.")
            else:
                recorded = OFFER_RECORDED[outcome] % {
                    "product": suggestion.product.name
                }
        basket_changed = False
        # A repeated tap (a replayed request) must not ring the product up twice.
        if recorded and outcome == "accepted" and not was_accepted:
            sale = _load_sale(request)
            basket_changed = _add_line(
                sale,
                {
                    "sku": suggestion.product.sku,
                    "id": suggestion.product.pk,
                    "name": suggestion.product.name,
                    "price": suggestion.product.price,
                },
            )
            _save_sale(request, sale)
        if not is_htmx(request):
            if error:
                messages.error(request, error)
            else:
                messages.success(request, recorded)
            return HttpResponseRedirect(_back(customer))
        context = {
            "item": _offer_item(suggestion, error=error, recorded=recorded),
            "customer": customer,
        }
        if basket_changed:
            context["basket_oob"] = basket_context(
                request, _load_sale(request), customer
            )
        return render(request, OFFER_CARD, context)


class CounterBasketView(PermissionRequiredMixin, View):
    """POST ``action`` add (``sku``), remove (``sku``), clear, or new (sale).

    An unknown SKU changes nothing and says so. htmx gets the basket back;
    without it the browser is sent back to the counter. "new" ends the sale:
    the basket is emptied and the counter opens with no customer.
    """

    permission_required = COUNTER_PERMISSIONS

    def post(self, request):
        customer = _posted_customer(request)
        action = request.POST.get("action", "")
        sku = request.POST.get("sku", "").replace("\x00", "").strip()[:SKU_LENGTH]
        sale = _load_sale(request)
        error = notice = ""
        if action == "new":
            _save_sale(request, {"lines": [], "outcomes": {}})
            url = reverse("recommendations:counter")
            if is_htmx(request):
                # A whole new page: htmx follows HX-Redirect with a full load.
                return HttpResponse(status=204, headers={"HX-Redirect": url})
            return HttpResponseRedirect(url)
        if action == "add":
            error, notice = self._add(sale, sku)
        elif action == "remove":
            before = len(sale["lines"])
            sale["lines"] = [line for line in sale["lines"] if line["sku"] != sku]
            if len(sale["lines"]) < before:
                notice = _("Removed %(sku)s.") % {"sku": sku}
        elif action == "clear":
            sale = {"lines": [], "outcomes": {}}
            notice = _("The basket is empty.")
        else:
            error = _("Unknown basket action.")
        _save_sale(request, sale)
        return _basket_response(request, sale, customer, error=error, notice=notice)

    @staticmethod
    def _add(sale: dict, sku: str) -> tuple[str, str]:
        if not sku:
            return _("Type or scan a product code."), ""
        product = _find_product(sku)
        if product is None:
            return (
                _("Unknown product code “%(sku)s”: nothing was added.") % {"sku": sku},
                "",
            )
        if not _add_line(sale, product):
            return _("The basket is full (%(max)s lines).") % {"max": MAX_LINES}, ""
        return "", _("Added %(name)s.") % {"name": product["name"]}


class CounterBasketOutcomeView(PermissionRequiredMixin, View):
    """POST offered / accepted / declined for one of the basket's cross-sells.

    For a known customer the outcome is recorded through
    ``services.record_basket_outcome`` (an interaction, or the matching open
    in-person suggestion moved on). For an anonymous basket nothing is
    written: there is no one to attach an interaction to, and a row without
    a customer would be noise in every customer-based report; the tap still
    drives the sale (accepted puts the product in the basket, declined hides
    it until the sale ends). Accepted adds the product to the basket either way.
    """

    permission_required = RECORD_PERMISSIONS

    def post(self, request):
        customer = _posted_customer(request)
        outcome = request.POST.get("outcome", "")
        sku = request.POST.get("sku", "").replace("\x00", "").strip()[:SKU_LENGTH]
        sale = _load_sale(request)
        product = _find_product(sku) if sku else None
        error = notice = ""
        key = _outcome_key(customer, sku)
        if outcome not in OUTCOMES or product is None:
            error = _("That offer is no longer available.")
        elif sale["outcomes"].get(key) != outcome:
            if customer is not None:
                try:
                    services.record_basket_outcome(
                        customer_id=customer.pk,
                        product_id=product["id"],
                        outcome=outcome,
                        user=request.user,
                        basket_skus=[line["sku"] for line in sale["lines"]],
                    )
                except ValidationError:
                    error = _("This offer was already answered.")
                except PermissionDenied:
                    error = _("You may not record this offer.")
            if not error:
                sale["outcomes"][key] = outcome
                if outcome == "accepted":
                    _add_line(sale, product)
                notice = str(OFFER_RECORDED[outcome] % {"product": product["name"]})
                if customer is None:
                    notice = _("%(done)s Anonymous sale: nothing is saved.") % {
                        "done": notice
                    }
        _save_sale(request, sale)
        return _basket_response(request, sale, customer, error=error, notice=notice)


def _basket_response(request, sale: dict, customer, *, error: str, notice: str):
    if is_htmx(request):
        context = basket_context(request, sale, customer, error=error, notice=notice)
        return render(request, BASKET, {"basket": context, "customer": customer})
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return HttpResponseRedirect(_back(customer))

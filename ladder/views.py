"""Manager pages: ladder list, editor (steps, offers, rules) and report.

Every page needs ``ladder.change_ladder`` (managers): the report lists
customers of every store, which clerks may not see. The editor's actions are
POST-only views that call one service each; with htmx they answer with the
editor fragment, without it they redirect back to the editor (PRG).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from ladder import selectors, services
from ladder.charts import Bar, bar_chart, funnel_chart
from ladder.forms import (
    LadderForm,
    ReportPeriodForm,
    StepForm,
    StepMoveForm,
    StepOfferForm,
    StepUpdateForm,
)
from ladder.models import Ladder, Step, StepOffer

EDITOR_PARTIAL = "ladder/partials/ladder_editor.html"


class ManagerRequiredMixin(PermissionRequiredMixin):
    """Ladder pages are for those who may change ladders (managers)."""

    permission_required = "ladder.change_ladder"


def _messages_of(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def editor_context(*, ladder_id: int, **extra) -> dict:
    """The editor's context: ladder, steps with offers, violations, empty forms.

    Fixed queries: the ladder with steps, products and offers (3), plus the
    product choices rendered by the forms.
    """
    ladder = get_object_or_404(selectors.ladders_with_steps(), pk=ladder_id)
    violations = selectors.get_ladder_violations_for(ladder)
    by_step: dict[int | None, list] = {}
    for violation in violations:
        by_step.setdefault(violation.step_id, []).append(violation)
    # One query for the product choices, shared by every form on the page.
    choices = [("", "---------")] + [
        (product.pk, str(product))
        for product in selectors.sellable_products()
        .order_by("name")
        .only("sku", "name")
    ]
    step_form = StepForm(auto_id="id_new_step_%s")
    step_form.fields["product"].choices = choices
    steps = []
    for step in ladder.steps.all():
        offer_form = StepOfferForm(auto_id=f"id_offer_{step.pk}_%s")
        offer_form.fields["product"].choices = choices
        update_form = StepUpdateForm(
            auto_id=f"id_step_{step.pk}_%s",
            initial={
                "name": step.name,
                "price": step.price,
                "cross_sell_only": step.cross_sell_only,
                "also_counts": [product.pk for product in step.also_counts.all()],
            },
        )
        update_form.fields["also_counts"].choices = choices[1:]
        steps.append(
            {
                "step": step,
                "violations": by_step.get(step.pk, []),
                "offer_form": offer_form,
                "update_form": update_form,
            }
        )
    context = {
        "ladder": ladder,
        "steps": steps,
        "violations": violations,
        "ladder_violations": by_step.get(None, []),
        "error_count": sum(1 for v in violations if v.is_error),
        "warning_count": sum(1 for v in violations if not v.is_error),
        "ladder_form": LadderForm(instance=ladder),
        "step_form": step_form,
        "step_count": len(steps),
    }
    context.update(extra)
    return context


class LadderListView(ManagerRequiredMixin, ListView):
    """Every ladder with its steps and how many rule errors and warnings it has."""

    template_name = "ladder/ladder_list.html"
    context_object_name = "ladders"

    def get_queryset(self):
        return selectors.ladders_with_steps().order_by("name")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = []
        for ladder in context["ladders"]:
            violations = selectors.get_ladder_violations_for(ladder)
            rows.append(
                {
                    "ladder": ladder,
                    "steps": list(ladder.steps.all()),
                    "errors": sum(1 for v in violations if v.is_error),
                    "warnings": sum(1 for v in violations if not v.is_error),
                }
            )
        context["rows"] = rows
        return context


class LadderCreateView(ManagerRequiredMixin, FormView):
    """Create an (unpublished) ladder, then continue in the editor."""

    template_name = "ladder/ladder_form.html"
    form_class = LadderForm
    permission_required = "ladder.add_ladder"

    def form_valid(self, form):
        try:
            ladder = services.create_ladder(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                active=form.cleaned_data["active"],
            )
        except ValidationError as error:
            for message in _messages_of(error):
                form.add_error("active", message)
            return self.form_invalid(form)
        messages.success(self.request, _("Ladder created: now add its steps."))
        return HttpResponseRedirect(reverse("ladder:ladder_edit", args=[ladder.pk]))


class LadderEditView(ManagerRequiredMixin, TemplateView):
    """The editor: ladder fields, steps in order, offers, rule violations inline."""

    template_name = "ladder/ladder_editor.html"

    def get_template_names(self):
        return [EDITOR_PARTIAL] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs):
        return editor_context(ladder_id=self.kwargs["pk"])

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ladder = get_object_or_404(Ladder, pk=pk)
        form = LadderForm(request.POST, instance=Ladder.objects.get(pk=pk))
        if form.is_valid():
            try:
                services.update_ladder(
                    ladder=ladder,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    active=form.cleaned_data["active"],
                )
            except ValidationError as error:
                form.add_error(None, _("The ladder cannot be published yet."))
                for message in _messages_of(error):
                    form.add_error(None, message)
            else:
                return _back_to_editor(request, ladder.pk, _("Ladder saved."))
        context = editor_context(ladder_id=pk, ladder_form=form)
        template = EDITOR_PARTIAL if request.htmx else self.template_name
        return render(request, template, context, status=200 if request.htmx else 400)


def _back_to_editor(request: HttpRequest, ladder_id: int, message: str) -> HttpResponse:
    """After a successful action: the editor fragment (htmx) or a redirect."""
    if request.htmx:
        # Shown in the fragment itself: a queued message would surface later,
        # on an unrelated full page.
        context = editor_context(ladder_id=ladder_id, notice=message)
        return render(request, EDITOR_PARTIAL, context)
    messages.success(request, message)
    return HttpResponseRedirect(reverse("ladder:ladder_edit", args=[ladder_id]))


def _refused(request: HttpRequest, ladder_id: int, errors: list[str]) -> HttpResponse:
    """After a refused action: the editor with the reasons, status 400."""
    if request.htmx:
        context = editor_context(ladder_id=ladder_id, action_errors=errors)
        # htmx swaps 2xx only by default; 422 keeps the semantics for others.
        return render(request, EDITOR_PARTIAL, context, status=200)
    for error in errors:
        messages.error(request, error)
    return HttpResponseRedirect(reverse("ladder:ladder_edit", args=[ladder_id]))


def _form_errors(form) -> list[str]:
    return [
        f"{form.fields[name].label if name in form.fields else ''}: {message}".lstrip(
            ": "
        )
        for name, errors in form.errors.items()
        for message in errors
    ]


class _EditorAction(ManagerRequiredMixin, View):
    """A POST-only editor action; subclasses implement ``act``."""

    http_method_names = ["post"]
    success_message = ""

    def post(self, request: HttpRequest, **kwargs) -> HttpResponse:
        ladder_id, outcome = self.act(request, **kwargs)
        if outcome:
            return _refused(request, ladder_id, outcome)
        return _back_to_editor(request, ladder_id, self.success_message)

    def act(self, request: HttpRequest, **kwargs) -> tuple[int, list[str]]:
        raise NotImplementedError


class LadderDeleteView(ManagerRequiredMixin, View):
    """Delete a ladder with its steps, offers and positions (POST only)."""

    permission_required = "ladder.delete_ladder"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ladder = get_object_or_404(Ladder, pk=pk)
        services.delete_ladder(ladder=ladder)
        messages.success(request, _("Ladder deleted."))
        return HttpResponseRedirect(reverse("ladder:ladder_list"))


class StepCreateView(_EditorAction):
    permission_required = "ladder.add_step"
    success_message = _("Step added.")

    def act(self, request, *, pk):
        ladder = get_object_or_404(Ladder, pk=pk)
        form = StepForm(request.POST)
        if not form.is_valid():
            return ladder.pk, _form_errors(form)
        try:
            services.add_step(
                ladder=ladder,
                product=form.cleaned_data["product"],
                name=form.cleaned_data["name"],
                price=form.cleaned_data["price"],
                cross_sell_only=form.cleaned_data["cross_sell_only"],
                position=form.cleaned_data["position"],
            )
        except ValidationError as error:
            return ladder.pk, _messages_of(error)
        return ladder.pk, []


class StepUpdateView(_EditorAction):
    permission_required = "ladder.change_step"
    success_message = _("Step saved.")

    def act(self, request, *, pk):
        step = get_object_or_404(Step.objects.select_related("ladder"), pk=pk)
        form = StepUpdateForm(request.POST)
        if not form.is_valid():
            return step.ladder_id, _form_errors(form)
        try:
            services.update_step(step=step, **form.cleaned_data)
        except ValidationError as error:
            return step.ladder_id, _messages_of(error)
        return step.ladder_id, []


class StepMoveView(_EditorAction):
    permission_required = "ladder.change_step"
    success_message = _("Step moved.")

    def act(self, request, *, pk):
        step = get_object_or_404(Step.objects.select_related("ladder"), pk=pk)
        form = StepMoveForm(request.POST)
        if not form.is_valid():
            return step.ladder_id, _form_errors(form)
        try:
            services.move_step(step=step, position=form.cleaned_data["position"])
        except ValidationError as error:
            return step.ladder_id, _messages_of(error)
        return step.ladder_id, []


class StepDeleteView(_EditorAction):
    permission_required = "ladder.delete_step"
    success_message = _("Step removed.")

    def act(self, request, *, pk):
        step = get_object_or_404(Step.objects.select_related("ladder"), pk=pk)
        ladder_id = step.ladder_id
        try:
            services.remove_step(step=step)
        except ValidationError as error:
            return ladder_id, _messages_of(error)
        return ladder_id, []


class StepOfferCreateView(_EditorAction):
    permission_required = "ladder.add_stepoffer"
    success_message = _("Complement attached.")

    def act(self, request, *, pk):
        step = get_object_or_404(Step.objects.select_related("ladder"), pk=pk)
        form = StepOfferForm(request.POST)
        if not form.is_valid():
            return step.ladder_id, _form_errors(form)
        try:
            services.add_step_offer(
                step=step,
                product=form.cleaned_data["product"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            return step.ladder_id, _messages_of(error)
        return step.ladder_id, []


class StepOfferDeleteView(_EditorAction):
    permission_required = "ladder.delete_stepoffer"
    success_message = _("Complement removed.")

    def act(self, request, *, pk):
        offer = get_object_or_404(
            StepOffer.objects.select_related("step__ladder"), pk=pk
        )
        ladder_id = offer.step.ladder_id
        try:
            services.remove_step_offer(offer=offer)
        except ValidationError as error:
            return ladder_id, _messages_of(error)
        return ladder_id, []


class LadderReportView(ManagerRequiredMixin, TemplateView):
    """Funnel, conversion in a period, time to climb, revenue, stalled customers."""

    template_name = "ladder/ladder_report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ladder = get_object_or_404(Ladder, pk=self.kwargs["pk"])
        form = ReportPeriodForm(self.request.GET or None)
        start, end = form.period()
        if not form.is_bound:  # show the default period in the date fields
            form = ReportPeriodForm(
                initial={
                    "start": start.date(),
                    "end": (end - dt.timedelta(days=1)).date(),
                }
            )
        report = selectors.get_ladder_report(ladder=ladder, start=start, end=end)
        context.update(
            {
                "ladder": ladder,
                "form": form,
                "report": report,
                "funnel_svg": funnel_chart(
                    [
                        Bar(
                            label=f"{f.step.position}. {f.step.name}", value=f.customers
                        )
                        for f in report.steps
                    ],
                    title=_("Customers per step"),
                    chart_id="funnel",
                ),
                "revenue_svg": bar_chart(
                    [
                        Bar(
                            label=f"{f.step.position}. {f.step.name}",
                            value=float(f.revenue),
                            display=f"{f.revenue:,.0f}",
                        )
                        for f in report.steps
                    ],
                    title=_("Revenue per step"),
                    chart_id="revenue",
                ),
            }
        )
        return context

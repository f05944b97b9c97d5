"""Segment pages: the saved segments, and the editor with its live count.

The editor's preview is a GET (it reads, it never writes): htmx sends the
form's fields 400 ms after the last keystroke and swaps in the count and a
sample of members, or the reasons the filters are not valid yet.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView, TemplateView

from campaigns import services
from campaigns.forms import SegmentForm, definition_to_initial
from campaigns.models import Segment
from campaigns.segments import count_segment, sample_segment
from campaigns.views.base import (
    SegmentManagerMixin,
    SegmentReaderMixin,
    add_service_errors,
)

SAMPLE_SIZE = 10
PREVIEW = "campaigns/partials/segment_preview.html"


class SegmentListView(SegmentReaderMixin, ListView):
    """Saved segments with the campaigns using them; counts load one by one."""

    template_name = "campaigns/segment_list.html"
    context_object_name = "segments"
    paginate_by = 50

    def get_queryset(self):
        return (
            Segment.objects.annotate(campaign_count=Count("campaigns"))
            .select_related("created_by")
            .order_by("name")
        )


class SegmentCountView(SegmentReaderMixin, View):
    """A saved segment's current size (an htmx fragment of the list)."""

    def get(self, request, pk: int):
        segment = get_object_or_404(Segment.objects.only("pk", "definition"), pk=pk)
        try:
            size = count_segment(segment.definition)
        except ValidationError as error:
            return render(
                request,
                "campaigns/partials/segment_count.html",
                {"error": " ".join(error.messages)},
            )
        return render(request, "campaigns/partials/segment_count.html", {"size": size})


def preview_context(form: SegmentForm) -> dict:
    """Count and sample of a valid form, or its errors (for the preview fragment)."""
    if not form.is_valid():
        return {"preview_form": form, "invalid": True}
    definition = form.cleaned_definition
    return {
        "preview_form": form,
        "size": count_segment(definition),
        "sample": sample_segment(definition, SAMPLE_SIZE),
        "definition": definition,
    }


class SegmentPreviewView(SegmentReaderMixin, View):
    """Live count and sample for the filters being edited (GET, htmx fragment)."""

    def get(self, request):
        segment = None
        if request.GET.get("segment"):
            segment = Segment.objects.filter(pk=request.GET["segment"]).first()
        form = SegmentForm(request.GET, segment=segment)
        # Counting needs the filters only: no complaint about a missing name
        # while the manager is still choosing them.
        form.fields["name"].required = False
        return render(request, PREVIEW, preview_context(form))


class _SegmentEditorView(SegmentManagerMixin, TemplateView):
    """Shared by create and edit: the form, the live preview, the save."""

    template_name = "campaigns/segment_form.html"
    segment: Segment | None = None

    def get_segment(self) -> Segment | None:
        return None

    def get(self, request, *args, **kwargs):
        self.segment = self.get_segment()
        form = SegmentForm(segment=self.segment)
        readonly = False
        if self.segment is not None:
            initial = definition_to_initial(self.segment)
            if initial is None:
                readonly = True
                form = SegmentForm(
                    segment=self.segment,
                    initial={
                        "name": self.segment.name,
                        "description": self.segment.description,
                    },
                )
            else:
                form = SegmentForm(segment=self.segment, initial=initial)
        context = self.get_context_data(form=form, readonly=readonly)
        # No filters yet: every customer, which is what saving now would select.
        definition = self.segment.definition if self.segment else {}
        try:
            context.update(
                size=count_segment(definition),
                sample=sample_segment(definition, SAMPLE_SIZE),
            )
        except ValidationError as error:
            context["preview_errors"] = error.messages
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        self.segment = self.get_segment()
        form = SegmentForm(request.POST, segment=self.segment)
        if form.is_valid():
            try:
                segment = self.save(form)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Segment saved."))
                return HttpResponseRedirect(
                    reverse("campaigns:segment_edit", args=[segment.pk])
                )
        context = self.get_context_data(form=form, readonly=False)
        context.update(preview_context(form))
        return self.render_to_response(context, status=400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["segment"] = self.segment
        return context

    def save(self, form: SegmentForm) -> Segment:
        raise NotImplementedError


class SegmentCreateView(_SegmentEditorView):
    permission_required = ("campaigns.view_segment", "campaigns.add_segment")

    def save(self, form):
        return services.create_segment(
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            definition=form.cleaned_definition,
            user=self.request.user,
        )


class SegmentEditView(_SegmentEditorView):
    def get_segment(self):
        return get_object_or_404(Segment, pk=self.kwargs["pk"])

    def save(self, form):
        # A definition the flat form cannot show (nested groups, from the
        # API) keeps its rules: only the name and description change here.
        definition = (
            form.cleaned_definition
            if definition_to_initial(self.segment) is not None
            else self.segment.definition
        )
        return services.update_segment(
            segment=self.segment,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            definition=definition,
        )

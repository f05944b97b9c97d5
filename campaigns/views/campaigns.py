"""Campaign pages: the list, the editor (settings, variants, preview), launch.

One page per campaign: a draft shows its forms to managers; once launched
the same page shows what was launched and the send progress, refreshed by
htmx polling while messages go out. Every change is a POST that calls one
service of ``campaigns.services``; with htmx the variant actions answer with
the variants fragment, without it they redirect back (PRG).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView, TemplateView

from campaigns import selectors, services
from campaigns.forms import CampaignForm, OfferCodeForm, VariantForm
from campaigns.models import Campaign, Segment, Variant
from campaigns.segments import count_segment, sample_segment
from campaigns.sending.email import build_sms_text
from campaigns.sms import sms_info
from campaigns.views.base import (
    CampaignManagerMixin,
    CampaignReaderMixin,
    add_service_errors,
    messages_of,
)
from crm.selectors import customers_visible_to

VARIANTS = "campaigns/partials/variants.html"
PROGRESS = "campaigns/partials/send_progress.html"
PREVIEW_SAMPLE = 10
# Polling stops by itself: the fragment carries the trigger only while the
# campaign is still scheduled or sending.
POLL_STATUSES = (Campaign.Status.SCHEDULED, Campaign.Status.SENDING)


def sms_cost_per_segment() -> Decimal:
    return Decimal(str(getattr(settings, "CAMPAIGNS_SMS_COST_PER_SEGMENT", "0.05")))


def sms_figures(text: str, *, audience: int | None = None) -> dict:
    """Encoding, parts and cost of one SMS body (the opt-out line included)."""
    info = sms_info(build_sms_text(text or ""))
    per_part = sms_cost_per_segment()
    maximum = settings.CAMPAIGNS_SMS_MAX_SEGMENTS
    return {
        "info": info,
        "too_long": info.segments > maximum,
        "maximum": maximum,
        "cost_each": per_part * info.segments,
        "cost_total": per_part * info.segments * audience
        if audience is not None
        else None,
        "audience": audience,
    }


class CampaignListView(CampaignReaderMixin, ListView):
    """Every campaign with status, segment, channel and send counts."""

    template_name = "campaigns/campaign_list.html"
    context_object_name = "campaigns"
    paginate_by = 50

    def get_queryset(self):
        return selectors.campaigns_at_a_glance()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [
            {"campaign": campaign, "summary": selectors.summarise_result(campaign)}
            for campaign in context["campaigns"]
        ]
        return context


def editor_context(campaign: Campaign, *, user, **extra) -> dict:
    """Variants with their forms, SMS figures and the preview's customer choices."""
    variants = list(campaign.variants.order_by("label"))
    can_edit = campaign.is_editable and user.has_perm("campaigns.change_campaign")
    is_sms = campaign.channel == Campaign.Channel.SMS
    audience = extra.pop("audience", None)
    rows = []
    for variant in variants:
        rows.append(
            {
                "variant": variant,
                "form": VariantForm(
                    instance=variant,
                    campaign=campaign,
                    auto_id=f"id_variant_{variant.pk}_%s",
                )
                if can_edit
                else None,
                "sms": sms_figures(variant.body, audience=audience) if is_sms else None,
            }
        )
    next_label = chr(ord("A") + len(variants)) if len(variants) < 26 else ""
    context = {
        "campaign": campaign,
        "variant_rows": rows,
        "can_edit": can_edit,
        "is_sms": is_sms,
        "new_variant_form": VariantForm(
            campaign=campaign,
            auto_id="id_new_variant_%s",
            initial={"label": next_label, "weight": 1},
        )
        if can_edit
        else None,
        "personalisation_fields": selectors.personalisation_fields(),
    }
    context.update(extra)
    return context


class CampaignCreateView(CampaignManagerMixin, TemplateView):
    """A new draft: settings first, then variants on the campaign's page."""

    template_name = "campaigns/campaign_form.html"
    permission_required = ("campaigns.view_campaign", "campaigns.add_campaign")

    def get(self, request, *args, **kwargs):
        initial = {}
        if request.GET.get("segment"):
            initial["segment"] = request.GET["segment"]
        return self.render_to_response(
            {
                "form": CampaignForm(initial=initial),
                **_segment_size(initial.get("segment")),
            }
        )

    def post(self, request, *args, **kwargs):
        form = CampaignForm(request.POST)
        if form.is_valid():
            try:
                campaign = services.create_campaign(
                    user=request.user, **form.service_arguments()
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, _("Campaign saved as a draft: now write its message.")
                )
                return HttpResponseRedirect(
                    reverse("campaigns:campaign_detail", args=[campaign.pk])
                )
        return self.render_to_response(
            {"form": form, **_segment_size(request.POST.get("segment"))}, status=400
        )


def _segment_size(segment_id) -> dict:
    """``segment_size`` / ``segment_error`` of a chosen segment, for the form."""
    segment = (
        Segment.objects.filter(pk=segment_id).only("definition").first()
        if str(segment_id or "").isdigit()
        else None
    )
    if segment is None:
        return {"segment_size": None}
    try:
        return {"segment_size": count_segment(segment.definition)}
    except ValidationError as error:
        return {"segment_size": None, "segment_error": " ".join(error.messages)}


class CampaignDetailView(CampaignReaderMixin, TemplateView):
    """One campaign: its settings (editable while a draft), variants, progress."""

    template_name = "campaigns/campaign_detail.html"

    def get_campaign(self) -> Campaign:
        return get_object_or_404(
            Campaign.objects.select_related(
                "segment", "offer_product", "offer_step__ladder", "store", "created_by"
            ),
            pk=self.kwargs["pk"],
        )

    def build_context(self, campaign: Campaign, **extra) -> dict:
        user = self.request.user
        # The live segment size and the SMS estimate count the whole segment:
        # the page loads them through their htmx fragments (SegmentSizeView,
        # SmsMeterView ``?variants=stored``) so it costs the same queries
        # whatever the segment (PERF-01).
        context = editor_context(campaign, user=user)
        if context["can_edit"] and "form" not in extra:
            extra["form"] = CampaignForm(instance=campaign)
        context.update(
            {
                "segment_size_lazy": campaign.is_editable,
                "progress": selectors.send_progress(campaign=campaign)
                if campaign.launched_at
                else None,
                "poll": campaign.status in POLL_STATUSES,
                "offer_codes": list(campaign.offer_codes.order_by("code")[:20]),
                "offer_code_form": OfferCodeForm(auto_id="id_code_%s")
                if user.has_perm("campaigns.add_offercode")
                else None,
                "can_launch": campaign.is_editable
                and user.has_perm("campaigns.launch_campaign"),
                "can_cancel": campaign.status
                not in (Campaign.Status.DONE, Campaign.Status.CANCELLED)
                and user.has_perm("campaigns.launch_campaign"),
            }
        )
        context.update(extra)
        return context

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.build_context(self.get_campaign()))

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("campaigns.change_campaign"):
            return self.handle_no_permission()
        campaign = self.get_campaign()
        form = CampaignForm(request.POST, instance=Campaign.objects.get(pk=campaign.pk))
        if form.is_valid():
            try:
                services.update_campaign(campaign=campaign, **form.service_arguments())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Campaign saved."))
                return HttpResponseRedirect(
                    reverse("campaigns:campaign_detail", args=[campaign.pk])
                )
        return self.render_to_response(
            self.build_context(campaign, form=form), status=400
        )


class SegmentSizeView(CampaignReaderMixin, View):
    """The chosen segment's size, next to the campaign form's segment field."""

    def get(self, request):
        found = _segment_size(request.GET.get("segment"))
        context = {"size": found["segment_size"], "error": found.get("segment_error")}
        return render(request, "campaigns/partials/segment_size.html", context)


def _variants_response(request, campaign: Campaign, *, errors=(), notice="", form=None):
    """After a variant action: the variants fragment (htmx) or a redirect."""
    if request.htmx:
        campaign = Campaign.objects.select_related(
            "segment", "offer_product", "offer_step", "store"
        ).get(pk=campaign.pk)
        context = editor_context(
            campaign,
            user=request.user,
            action_errors=list(errors),
            notice=notice,
        )
        if form is not None:
            context["new_variant_form"] = form
        return render(request, VARIANTS, context)
    for error in errors:
        messages.error(request, error)
    if notice:
        messages.success(request, notice)
    return HttpResponseRedirect(
        reverse("campaigns:campaign_detail", args=[campaign.pk]) + "#variants"
    )


def _form_errors(form) -> list[str]:
    return [
        f"{form.fields[name].label}: {message}" if name in form.fields else message
        for name, errors in form.errors.items()
        for message in errors
    ]


class VariantCreateView(CampaignManagerMixin, View):
    """Add a message variant to a draft (POST only)."""

    http_method_names = ["post"]
    permission_required = ("campaigns.change_campaign", "campaigns.add_variant")

    def post(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        form = VariantForm(request.POST, campaign=campaign, auto_id="id_new_variant_%s")
        if not form.is_valid():
            return _variants_response(
                request, campaign, errors=_form_errors(form), form=form
            )
        try:
            services.save_variant(campaign=campaign, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return _variants_response(
                request, campaign, errors=_form_errors(form), form=form
            )
        return _variants_response(request, campaign, notice=_("Variant added."))


class VariantUpdateView(CampaignManagerMixin, View):
    http_method_names = ["post"]
    permission_required = ("campaigns.change_campaign", "campaigns.change_variant")

    def post(self, request, pk: int):
        variant = get_object_or_404(Variant.objects.select_related("campaign"), pk=pk)
        form = VariantForm(request.POST, instance=variant, campaign=variant.campaign)
        if not form.is_valid():
            return _variants_response(
                request, variant.campaign, errors=_form_errors(form)
            )
        try:
            services.save_variant(
                campaign=variant.campaign,
                variant=Variant.objects.get(pk=variant.pk),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return _variants_response(
                request, variant.campaign, errors=_form_errors(form)
            )
        return _variants_response(request, variant.campaign, notice=_("Variant saved."))


class VariantDeleteView(CampaignManagerMixin, View):
    http_method_names = ["post"]
    permission_required = ("campaigns.change_campaign", "campaigns.delete_variant")

    def post(self, request, pk: int):
        variant = get_object_or_404(Variant.objects.select_related("campaign"), pk=pk)
        campaign = variant.campaign
        try:
            services.delete_variant(variant=variant)
        except ValidationError as error:
            return _variants_response(request, campaign, errors=messages_of(error))
        return _variants_response(request, campaign, notice=_("Variant removed."))


class SmsMeterView(CampaignReaderMixin, View):
    """Encoding, parts and cost of an SMS body as it is typed (htmx fragment).

    ``?variants=stored`` answers instead with every stored variant's meter,
    cost for the whole audience included, as out-of-band swaps: the campaign
    page asks for it once on load rather than counting the audience itself.
    """

    def get(self, request, pk: int):
        campaign = get_object_or_404(Campaign.objects.select_related("segment"), pk=pk)
        text = request.GET.get("body", "")[:5000]
        try:
            audience = selectors.estimate_messages(campaign=campaign)
        except ValidationError:
            audience = None
        if request.GET.get("variants") == "stored":
            variants = campaign.variants.order_by("label")
            return render(
                request,
                "campaigns/partials/sms_meters_oob.html",
                {
                    "rows": [
                        {"variant": v, "sms": sms_figures(v.body, audience=audience)}
                        for v in variants
                    ]
                },
            )
        return render(
            request,
            "campaigns/partials/sms_meter.html",
            {"sms": sms_figures(text, audience=audience)},
        )


class MessagePreviewView(CampaignReaderMixin, View):
    """The message one customer would get from one variant (htmx fragment)."""

    def get(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        variant = campaign.variants.filter(pk=request.GET.get("variant") or 0).first()
        customer = (
            customers_visible_to(request.user)
            .select_related("home_store")
            .filter(pk=request.GET.get("customer") or 0)
            .first()
        )
        context: dict = {"campaign": campaign}
        if variant is None or customer is None:
            context["error"] = _("Choose a variant and a customer.")
        else:
            context.update(customer=customer, variant=variant)
            try:
                context["message"] = services.preview_message(
                    variant=variant, customer=customer
                )
            except ValidationError as error:
                context["error"] = " ".join(error.messages)
            else:
                if campaign.channel == Campaign.Channel.SMS:
                    context["sms"] = sms_figures(context["message"].body)
                    context["sms_text"] = build_sms_text(context["message"].body)
        return render(request, "campaigns/partials/message_preview.html", context)


class PreviewCustomersView(CampaignReaderMixin, View):
    """A fresh sample of the segment to preview the message for."""

    def get(self, request, pk: int):
        campaign = get_object_or_404(Campaign.objects.select_related("segment"), pk=pk)
        return render(
            request,
            "campaigns/partials/preview_customers.html",
            {"campaign": campaign, "sample": _preview_sample(campaign)},
        )


def _preview_sample(campaign: Campaign) -> list:
    if campaign.audience_frozen_at is not None:
        return selectors.audience_sample(campaign=campaign, size=PREVIEW_SAMPLE)
    try:
        return sample_segment(campaign.segment.definition, PREVIEW_SAMPLE)
    except ValidationError:
        return []


class CampaignLaunchView(CampaignManagerMixin, TemplateView):
    """Confirm, then launch: the audience is frozen and sending starts or waits."""

    template_name = "campaigns/campaign_launch.html"
    permission_required = ("campaigns.view_campaign", "campaigns.launch_campaign")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = get_object_or_404(
            Campaign.objects.select_related("segment", "offer_product", "offer_step"),
            pk=self.kwargs["pk"],
        )
        context["campaign"] = campaign
        context["variants"] = list(campaign.variants.order_by("label"))
        try:
            context["reachable"] = len(services.eligible_audience_ids(campaign))
            context["segment_size"] = count_segment(campaign.segment.definition)
        except ValidationError as error:
            context["errors"] = messages_of(error)
        if "reachable" in context:
            control = context["reachable"] * campaign.control_share
            context["control_size"] = int(control + Decimal("0.5"))
            context["treated_size"] = context["reachable"] - context["control_size"]
            if campaign.channel == Campaign.Channel.SMS:
                context["sms_rows"] = [
                    (variant, sms_figures(variant.body, audience=None))
                    for variant in context["variants"]
                ]
        return context

    def post(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the confirmation box to launch."))
            return HttpResponseRedirect(reverse("campaigns:campaign_launch", args=[pk]))
        try:
            campaign = services.launch_campaign(campaign=campaign, user=request.user)
        except ValidationError as error:
            context = self.get_context_data()
            context["errors"] = messages_of(error)
            return self.render_to_response(context, status=400)
        if campaign.status == Campaign.Status.SCHEDULED:
            messages.success(request, _("Campaign launched: sending is scheduled."))
        else:
            messages.success(request, _("Campaign launched: messages are going out."))
        return HttpResponseRedirect(reverse("campaigns:campaign_detail", args=[pk]))


class CampaignCancelView(CampaignManagerMixin, View):
    """Stop a campaign (POST only); messages already sent stay sent."""

    http_method_names = ["post"]
    permission_required = ("campaigns.view_campaign", "campaigns.launch_campaign")

    def post(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            services.cancel_campaign(campaign=campaign, user=request.user)
        except ValidationError as error:
            for message in messages_of(error):
                messages.error(request, message)
        else:
            messages.success(request, _("Campaign cancelled: nothing more is sent."))
        return HttpResponseRedirect(reverse("campaigns:campaign_detail", args=[pk]))


class SendProgressView(CampaignReaderMixin, View):
    """Counts of sends by status (htmx polling target while sending)."""

    def get(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        return render(
            request,
            PROGRESS,
            {
                "campaign": campaign,
                "progress": selectors.send_progress(campaign=campaign),
                "poll": campaign.status in POLL_STATUSES,
            },
        )


class OfferCodeCreateView(CampaignManagerMixin, View):
    """Add an offer code (the campaign's or a partner's) to a campaign (POST)."""

    http_method_names = ["post"]
    permission_required = ("campaigns.view_campaign", "campaigns.add_offercode")

    def post(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        form = OfferCodeForm(request.POST)
        if form.is_valid():
            try:
                code = services.create_offer_code(
                    campaign=campaign,
                    kind=form.cleaned_data["kind"],
                    code=form.cleaned_data["code"] or None,
                    partner_name=form.cleaned_data["partner_name"],
                    discount_percent=form.cleaned_data["discount_percent"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, _("Offer code %(code)s added.") % {"code": code.code}
                )
        if form.errors:
            for error in _form_errors(form):
                messages.error(request, error)
        return HttpResponseRedirect(
            reverse("campaigns:campaign_detail", args=[pk]) + "#offer-codes"
        )

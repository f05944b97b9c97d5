"""Campaigns API: segments (with live count and sample), campaigns (launch,
cancel, results, CSV), variants and offer codes.

Permissions come from the project defaults (role model permissions; reads
need ``view``, so clerks get 403 and sales staff read only). Launch and
cancel need ``campaigns.launch_campaign``. Writes go through
``campaigns.services``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from campaigns import services
from campaigns.api import serializers as api_serializers
from campaigns.exports import results_csv_response
from campaigns.models import Campaign, OfferCode, Segment, Variant
from campaigns.queries import get_campaign_result
from campaigns.segments import count_segment, sample_segment
from crm.models import Customer


def _drf_error(error: DjangoValidationError) -> ValidationError:
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"non_field_errors": error.messages})


class CanLaunchCampaigns(BasePermission):
    """Launching or cancelling sends (or stops) messages: managers only."""

    def has_permission(self, request, view) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm("campaigns.launch_campaign")
        )


class CanEditSegments(BasePermission):
    """The live count of an unsaved definition is part of editing a segment."""

    def has_permission(self, request, view) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm("campaigns.change_segment")
        )


class SegmentViewSet(viewsets.ModelViewSet):
    """Saved segments; ``count`` and ``sample`` resolve them in the database."""

    serializer_class = api_serializers.SegmentSerializer
    queryset = Segment.objects.all()
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]

    def perform_create(self, serializer):
        try:
            serializer.instance = services.create_segment(
                user=self.request.user, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    def perform_update(self, serializer):
        try:
            serializer.instance = services.update_segment(
                segment=serializer.instance, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    def perform_destroy(self, instance):
        try:
            services.delete_segment(segment=instance)
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    @extend_schema(responses=api_serializers.SegmentCountSerializer)
    @action(detail=True, methods=["get"])
    def count(self, request, pk=None):
        """How many customers the saved segment holds now."""
        segment = self.get_object()
        try:
            count = count_segment(segment.definition)
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        return Response({"count": count})

    @extend_schema(
        parameters=[api_serializers.SampleQuerySerializer],
        responses=api_serializers.SegmentMemberSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def sample(self, request, pk=None):
        """Up to ``n`` (default 10, at most 50) random members."""
        segment = self.get_object()
        query = api_serializers.SampleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            members = sample_segment(segment.definition, query.validated_data["n"])
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        return Response(
            api_serializers.SegmentMemberSerializer(members, many=True).data
        )

    @extend_schema(
        request=api_serializers.DefinitionSerializer,
        responses=api_serializers.SegmentPreviewSerializer,
    )
    @action(detail=False, methods=["post"], permission_classes=[CanEditSegments])
    def preview(self, request):
        """Count and sample of an unsaved definition (the live count while editing)."""
        body = api_serializers.DefinitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        definition = body.validated_data["definition"]
        try:
            count = count_segment(definition)
            sample = sample_segment(definition, body.validated_data["n"])
        except DjangoValidationError as error:
            raise ValidationError({"definition": error.messages}) from error
        return Response(
            {
                "count": count,
                "sample": api_serializers.SegmentMemberSerializer(
                    sample, many=True
                ).data,
            }
        )


class CampaignViewSet(viewsets.ModelViewSet):
    """Campaigns; writable while draft. ``launch``, ``cancel``, ``results``."""

    serializer_class = api_serializers.CampaignSerializer
    queryset = Campaign.objects.none()
    filterset_fields = ["status", "goal", "channel", "segment"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "launched_at", "status"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return Campaign.objects.prefetch_related("variants")

    def perform_create(self, serializer):
        try:
            serializer.instance = services.create_campaign(
                user=self.request.user, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    def perform_update(self, serializer):
        try:
            services.update_campaign(
                campaign=serializer.instance, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        try:
            services.delete_campaign(campaign=instance)
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    def _command(self, command, request):
        campaign = self.get_object()
        try:
            command(campaign=campaign, user=request.user)
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        campaign = self.get_queryset().get(pk=campaign.pk)
        return Response(self.get_serializer(campaign).data)

    @extend_schema(request=None, responses=api_serializers.CampaignSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CanLaunchCampaigns])
    def launch(self, request, pk=None):
        """Freeze the audience and start sending (or wait for ``schedule_at``)."""
        return self._command(services.launch_campaign, request)

    @extend_schema(request=None, responses=api_serializers.CampaignSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CanLaunchCampaigns])
    def cancel(self, request, pk=None):
        """Stop the campaign: no further message goes out."""
        return self._command(services.cancel_campaign, request)

    @extend_schema(
        responses={
            200: api_serializers.CampaignResultSerializer,
            404: OpenApiResponse(description="No results yet (never launched)."),
        }
    )
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """The cached results (refreshed hourly by ``campaigns.refresh_results``)."""
        campaign = self.get_object()
        result = get_campaign_result(campaign_id=campaign.pk)
        if result is None:
            return Response(
                {"detail": "No results yet."}, status=status.HTTP_404_NOT_FOUND
            )
        return Response(
            {
                "campaign": campaign.pk,
                "computed_at": result.computed_at,
                "payload": result.payload,
            }
        )

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], url_path="results-csv")
    def results_csv(self, request, pk=None):
        """The cached results as a CSV file (formula cells escaped)."""
        return results_csv_response(self.get_object())

    @extend_schema(
        parameters=[api_serializers.PreviewQuerySerializer],
        responses=api_serializers.MessagePreviewSerializer,
    )
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """The message one customer would get from one variant."""
        campaign = self.get_object()
        query = api_serializers.PreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        variant = get_object_or_404(
            Variant, pk=query.validated_data["variant"], campaign=campaign
        )
        customer = get_object_or_404(
            Customer.objects.select_related("home_store"),
            pk=query.validated_data["customer"],
        )
        try:
            message = services.preview_message(variant=variant, customer=customer)
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        return Response({"subject": message.subject, "body": message.body})


class VariantViewSet(viewsets.ModelViewSet):
    """Message variants of campaigns (``?campaign=<id>``); draft campaigns only."""

    serializer_class = api_serializers.VariantSerializer
    queryset = Variant.objects.none()
    filterset_fields = ["campaign"]
    ordering_fields = ["campaign", "label"]
    ordering = ["campaign", "label"]

    def get_queryset(self):
        return Variant.objects.all()

    def perform_create(self, serializer):
        try:
            serializer.instance = services.save_variant(**serializer.validated_data)
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    def perform_update(self, serializer):
        variant = serializer.instance
        values = {
            "label": variant.label,
            "name": variant.name,
            "subject": variant.subject,
            "body": variant.body,
            "weight": variant.weight,
            **serializer.validated_data,
        }
        try:
            serializer.instance = services.save_variant(
                campaign=variant.campaign, variant=variant, **values
            )
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    def perform_destroy(self, instance):
        try:
            services.delete_variant(variant=instance)
        except DjangoValidationError as error:
            raise _drf_error(error) from error


class OfferCodeViewSet(viewsets.ModelViewSet):
    """Offer codes (``?campaign=``, ``?kind=``); update switches ``active`` only."""

    serializer_class = api_serializers.OfferCodeSerializer
    queryset = OfferCode.objects.none()
    filterset_fields = ["campaign", "kind", "active"]
    search_fields = ["code", "partner_name"]
    ordering_fields = ["code", "created_at"]
    ordering = ["campaign", "code"]

    def get_queryset(self):
        return OfferCode.objects.annotate(redemption_count=Count("redemptions"))

    def perform_create(self, serializer):
        try:
            code = services.create_offer_code(**serializer.validated_data)
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        serializer.instance = self.get_queryset().get(pk=code.pk)

    def perform_update(self, serializer):
        if "active" in serializer.validated_data:
            services.set_offer_code_active(
                offer_code=serializer.instance,
                active=serializer.validated_data["active"],
            )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        try:
            services.delete_offer_code(offer_code=instance)
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    @extend_schema(
        request=api_serializers.GenerateCodesSerializer,
        responses={201: api_serializers.OfferCodeSerializer(many=True)},
    )
    @action(detail=False, methods=["post"])
    def generate(self, request):
        """Draw ``count`` unique random campaign codes."""
        body = api_serializers.GenerateCodesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            codes = services.generate_offer_codes(**body.validated_data)
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        rows = self.get_queryset().filter(pk__in=[code.pk for code in codes])
        return Response(
            self.get_serializer(rows.order_by("code"), many=True).data,
            status=status.HTTP_201_CREATED,
        )

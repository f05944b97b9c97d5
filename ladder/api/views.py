"""Ladder API: ladders, steps and offers (managers write, others read),
customers' positions, and the ladder report figures.

Permissions come from the project defaults (role model permissions; reads
need ``view``). Writes go through ``ladder.services`` so the rules and the
dense step positions hold whatever the entry point.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django_filters import rest_framework as django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from ladder import selectors, services
from ladder.api import serializers as api_serializers
from ladder.forms import ReportPeriodForm
from ladder.models import CustomerLadderPosition, Ladder, Step, StepOffer


def _drf_error(error: DjangoValidationError) -> ValidationError:
    if hasattr(error, "message_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"non_field_errors": error.messages})


class CanChangeLadders(BasePermission):
    """The report lists customers of every store: managers only."""

    def has_permission(self, request, view) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm("ladder.change_ladder")
        )


class LadderViewSet(viewsets.ModelViewSet):
    """Ladders with steps, offers and rule violations; ``report`` for managers."""

    serializer_class = api_serializers.LadderSerializer
    queryset = Ladder.objects.none()
    filterset_fields = ["active"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.ladders_with_steps().order_by("name")

    def perform_create(self, serializer):
        try:
            serializer.instance = services.create_ladder(**serializer.validated_data)
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    def perform_update(self, serializer):
        try:
            services.update_ladder(
                ladder=serializer.instance, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_ladder(ladder=instance)

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="First day (YYYY-MM-DD)."),
            OpenApiParameter("end", str, description="Last day (YYYY-MM-DD)."),
        ],
        responses=api_serializers.LadderReportSerializer,
    )
    @action(detail=True, methods=["get"], permission_classes=[CanChangeLadders])
    def report(self, request, pk=None):
        """Per-step figures: funnel, conversion, time to climb, revenue."""
        ladder = self.get_object()
        query = api_serializers.ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        form = ReportPeriodForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        start, end = form.period()
        report = selectors.get_ladder_report(ladder=ladder, start=start, end=end)
        return Response(api_serializers.LadderReportSerializer(report).data)


class StepViewSet(viewsets.ModelViewSet):
    """Steps; create inserts at ``position`` (top if absent), update may move."""

    serializer_class = api_serializers.StepSerializer
    queryset = Step.objects.none()
    filterset_fields = ["ladder"]
    ordering_fields = ["ladder", "position"]
    ordering = ["ladder", "position"]

    def get_queryset(self):
        return Step.objects.select_related("product").prefetch_related(
            "also_counts",
            Prefetch("offers", queryset=StepOffer.objects.select_related("product")),
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        also_counts = data.pop("also_counts", None)
        try:
            step = services.add_step(**data)
            if also_counts is not None:
                step = services.update_step(step=step, also_counts=also_counts)
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        serializer.instance = step

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        position = data.pop("position", None)
        try:
            step = services.update_step(step=serializer.instance, **data)
            if position is not None and position != step.position:
                step = services.move_step(step=step, position=position)
        except DjangoValidationError as error:
            raise _drf_error(error) from error
        serializer.instance = self.get_queryset().get(pk=step.pk)

    def perform_destroy(self, instance):
        try:
            services.remove_step(step=instance)
        except DjangoValidationError as error:
            raise _drf_error(error) from error


class StepOfferViewSet(viewsets.ModelViewSet):
    """Cross-sell complements of steps; only the note can be changed."""

    serializer_class = api_serializers.StepOfferSerializer
    queryset = StepOffer.objects.none()
    filterset_fields = ["step", "step__ladder"]
    ordering = ["step", "id"]

    def get_queryset(self):
        return StepOffer.objects.select_related("product")

    def perform_create(self, serializer):
        try:
            serializer.instance = services.add_step_offer(**serializer.validated_data)
        except DjangoValidationError as error:
            raise _drf_error(error) from error

    def perform_update(self, serializer):
        note = serializer.validated_data.get("note", serializer.instance.note)
        serializer.instance = services.update_step_offer(
            offer=serializer.instance, note=note
        )

    def perform_destroy(self, instance):
        try:
            services.remove_step_offer(offer=instance)
        except DjangoValidationError as error:
            raise _drf_error(error) from error


class PositionFilterSet(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    ladder = django_filters.NumberFilter(field_name="ladder_id")
    step = django_filters.NumberFilter(field_name="step_id")
    stalled = django_filters.BooleanFilter()

    class Meta:
        model = CustomerLadderPosition
        fields = ["customer", "ladder", "step", "stalled"]


class CustomerLadderPositionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Customers' positions on published ladders, with upsell and cross-sells.

    ``?customer=<id>`` gives one customer's positions. Clerks see only their
    store's customers (an out-of-scope id is simply absent, or a 404).
    """

    serializer_class = api_serializers.CustomerLadderPositionSerializer
    queryset = CustomerLadderPosition.objects.none()
    filterset_class = PositionFilterSet
    ordering_fields = ["reached_at", "customer", "ladder"]
    ordering = ["customer", "ladder"]
    search_fields: list[str] = []

    def get_queryset(self):
        return (
            selectors.positions_visible_to(self.request.user)
            .filter(ladder__active=True)
            .select_related("ladder", "step", "step__product")
            .prefetch_related(
                Prefetch(
                    "ladder__steps", queryset=Step.objects.select_related("product")
                ),
                Prefetch(
                    "step__offers", queryset=StepOffer.objects.select_related("product")
                ),
            )
        )

"""Recommendations API: parse, check permissions, call one selector or service.

Reads go through ``recommendations.selectors`` which apply the crm role
scoping, so a clerk only sees their store's customers' suggestions and any
other id is a 404 (SEC-08).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.views import (
    FORBIDDEN,
    NOT_FOUND,
    VALIDATION_ERROR,
    as_drf_validation_error,
)
from crm.selectors import customers_visible_to
from recommendations import extensions, selectors, services
from recommendations.api import serializers
from recommendations.models import Suggestion


def require_perms(request, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied()


class SuggestionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Current suggestions of the customers you may see; record outcomes."""

    queryset = Suggestion.objects.none()
    serializer_class = serializers.SuggestionSerializer
    lookup_value_regex = r"\d+"
    filterset_fields = ["customer", "kind", "channel", "status"]
    ordering_fields = ["rank", "expected_value", "created_at"]
    search_fields: list[str] = []

    def get_queryset(self):
        return selectors.suggestions_visible_to(self.request.user)

    @extend_schema(
        request=serializers.OutcomeSerializer,
        responses={
            200: serializers.SuggestionSerializer,
            400: VALIDATION_ERROR,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    @action(
        detail=True,
        methods=["post"],
        filter_backends=[],
        # A command, not a create: the model permission is checked below.
        permission_classes=[IsAuthenticated],
    )
    def outcome(self, request, pk=None):
        """Record offered (shown), accepted or declined, with a note."""
        require_perms(
            request,
            "recommendations.view_suggestion",
            "recommendations.change_suggestion",
        )
        suggestion = self.get_object()
        data = serializers.OutcomeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            updated = services.record_outcome(
                suggestion_id=suggestion.pk,
                outcome=data.validated_data["outcome"],
                channel=data.validated_data.get("channel"),
                note=data.validated_data.get("note", ""),
                user=request.user,
            )
        except DjangoValidationError as exc:
            raise as_drf_validation_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        updated = self.get_queryset().get(pk=updated.pk)
        return Response(serializers.SuggestionSerializer(updated).data)


class CustomerSuggestionsView(generics.ListAPIView):
    """``GET /api/customers/{id}/suggestions/``: one customer's open offers."""

    queryset = Suggestion.objects.none()
    serializer_class = serializers.SuggestionSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        # Also called by the permission check, before any 404: no lookup here.
        return selectors.list_customer_suggestions(
            user=self.request.user, customer_id=self.kwargs["customer_id"]
        )

    def list(self, request, *args, **kwargs):
        get_object_or_404(
            customers_visible_to(request.user), pk=self.kwargs["customer_id"]
        )
        return super().list(request, *args, **kwargs)


class BasketSuggestionsView(APIView):
    """``POST /api/suggestions/basket/``: cross-sells for a basket of SKUs."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=serializers.BasketRequestSerializer,
        responses={
            200: serializers.BasketResponseSerializer,
            400: VALIDATION_ERROR,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request):
        require_perms(request, "recommendations.view_suggestion")
        data = serializers.BasketRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer_id = data.validated_data.get("customer")
        if customer_id is not None:
            get_object_or_404(customers_visible_to(request.user), pk=customer_id)
        offers, unknown, run_id = selectors.suggest_basket_cross_sells(
            skus=data.validated_data["skus"],
            customer_id=customer_id,
            k=data.validated_data["limit"],
        )
        payload = {
            "run": run_id,
            "suggestions": [offer.__dict__ for offer in offers],
            "unknown_skus": unknown,
            "offers": extensions.checkout_offers(
                customer_id, data.validated_data["skus"]
            ),
        }
        return Response(serializers.BasketResponseSerializer(payload).data)


class RecommendationRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Runs with their figures and progress (managers, and staff who may view)."""

    queryset = selectors.list_runs()
    serializer_class = serializers.RecommendationRunSerializer
    filterset_fields = ["status"]
    ordering_fields = ["created_at"]
    search_fields: list[str] = []

    def get_queryset(self):
        return selectors.list_runs()

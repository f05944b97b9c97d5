"""Serializers of the recommendations API: validate and shape, nothing more."""

from __future__ import annotations

from rest_framework import serializers

from recommendations.models import RecommendationRun, Suggestion


class SuggestionSerializer(serializers.ModelSerializer):
    """A stored offer with its reason (code, params and English sentence)."""

    product_sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    step_name = serializers.CharField(
        source="step.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "run",
            "customer",
            "product",
            "product_sku",
            "product_name",
            "step",
            "step_name",
            "kind",
            "source",
            "rank",
            "score",
            "probability",
            "margin",
            "expected_value",
            "channel",
            "reason_code",
            "reason_params",
            "reason",
            "evidence",
            "status",
            "note",
            "created_at",
            "status_changed_at",
            "converted_order_id",
        ]
        read_only_fields = fields


class OutcomeSerializer(serializers.Serializer):
    """What happened to an offer: shown, accepted or declined, with a note."""

    outcome = serializers.ChoiceField(choices=["shown", "accepted", "declined"])
    channel = serializers.ChoiceField(
        choices=Suggestion.Channel.choices, required=False
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default=""
    )


class BasketRequestSerializer(serializers.Serializer):
    """A basket being rung up: SKUs and, optionally, the customer."""

    skus = serializers.ListField(
        child=serializers.CharField(max_length=40), min_length=1, max_length=200
    )
    customer = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=10, default=3
    )


class BasketOfferSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    price = serializers.CharField()
    source = serializers.CharField()
    confidence = serializers.FloatField(allow_null=True)
    lift = serializers.FloatField(allow_null=True)
    support = serializers.FloatField(allow_null=True)
    reason_code = serializers.CharField()
    reason_params = serializers.DictField(child=serializers.CharField())
    reason = serializers.CharField()


class CheckoutOfferSerializer(serializers.Serializer):
    """An offer of a running checkout campaign (recommendations.extensions)."""

    campaign_id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    code = serializers.CharField(allow_blank=True)
    discount_percent = serializers.CharField(allow_null=True)
    sku = serializers.CharField(allow_blank=True)


class BasketResponseSerializer(serializers.Serializer):
    run = serializers.IntegerField(allow_null=True)
    suggestions = BasketOfferSerializer(many=True)
    unknown_skus = serializers.ListField(child=serializers.CharField())
    offers = CheckoutOfferSerializer(many=True)


class RecommendationRunSerializer(serializers.ModelSerializer):
    duration = serializers.FloatField(read_only=True, allow_null=True)
    progress = serializers.IntegerField(read_only=True)

    class Meta:
        model = RecommendationRun
        fields = [
            "id",
            "status",
            "trigger",
            "is_current",
            "parameters",
            "shards_total",
            "shards_done",
            "progress",
            "customers_count",
            "order_lines_count",
            "rules_count",
            "suggestions_count",
            "timings",
            "error",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "duration",
        ]
        read_only_fields = fields

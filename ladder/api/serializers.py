"""Ladder API serializers: validate and shape; services do the writes.

Fields are listed explicitly (SEC-09); derived figures are read-only.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import Product
from ladder.models import CustomerLadderPosition, Ladder, Step, StepOffer
from ladder.selectors import get_ladder_violations_for


class ViolationSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=["error", "warning"])
    code = serializers.CharField()
    message = serializers.CharField()
    step_id = serializers.IntegerField(allow_null=True)


class ProductBriefSerializer(serializers.ModelSerializer):
    # Plain text: a second enum of the same choices would clash in the schema
    # with crm's ProductSerializer.kind.
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "kind", "price", "active"]
        read_only_fields = fields


class StepOfferSerializer(serializers.ModelSerializer):
    """A cross-sell complement; ``step`` and ``product`` are fixed once created."""

    product_detail = ProductBriefSerializer(source="product", read_only=True)

    class Meta:
        model = StepOffer
        fields = ["id", "step", "product", "product_detail", "note"]

    def validate(self, attrs):
        if self.instance is not None:
            # Only the note changes; moving an offer is a remove and an add.
            attrs.pop("step", None)
            attrs.pop("product", None)
        return attrs


class StepSerializer(serializers.ModelSerializer):
    """A step: ``position`` inserts or moves it; ``price`` defaults to list price."""

    position = serializers.IntegerField(min_value=1, required=False)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False
    )
    product_detail = ProductBriefSerializer(source="product", read_only=True)
    offers = StepOfferSerializer(many=True, read_only=True)

    class Meta:
        model = Step
        fields = [
            "id",
            "ladder",
            "position",
            "name",
            "product",
            "product_detail",
            "price",
            "cross_sell_only",
            "also_counts",
            "offers",
        ]
        extra_kwargs = {"also_counts": {"required": False}}
        # Positions are assigned by the services (dense, unique), not by the
        # unique-together validator, which would make ``position`` required.
        validators: list = []

    def validate(self, attrs):
        if self.instance is not None:
            attrs.pop("ladder", None)  # a step never changes ladder
        return attrs


class LadderSerializer(serializers.ModelSerializer):
    """A ladder with its steps and the rules it breaks (read-only)."""

    steps = StepSerializer(many=True, read_only=True)
    violations = serializers.SerializerMethodField()
    publishable = serializers.SerializerMethodField()

    class Meta:
        model = Ladder
        fields = [
            "id",
            "name",
            "description",
            "active",
            "publishable",
            "violations",
            "steps",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def _violations(self, ladder: Ladder):
        cache = self.context.setdefault("_violations", {})
        if ladder.pk not in cache:
            cache[ladder.pk] = get_ladder_violations_for(ladder)
        return cache[ladder.pk]

    @extend_schema_field(ViolationSerializer(many=True))
    def get_violations(self, ladder: Ladder) -> list[dict]:
        return ViolationSerializer(self._violations(ladder), many=True).data

    def get_publishable(self, ladder: Ladder) -> bool:
        return not any(v.is_error for v in self._violations(ladder))


class StepBriefSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)

    class Meta:
        model = Step
        fields = ["id", "position", "name", "price", "cross_sell_only", "product"]
        read_only_fields = fields


class ComplementSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)

    class Meta:
        model = StepOffer
        fields = ["id", "product", "note"]
        read_only_fields = fields


class CustomerLadderPositionSerializer(serializers.ModelSerializer):
    """A customer's step on a ladder, the next step (upsell) and the cross-sells."""

    ladder_name = serializers.CharField(source="ladder.name", read_only=True)
    step = StepBriefSerializer(read_only=True)
    next_step = serializers.SerializerMethodField()
    complements = ComplementSerializer(source="step.offers", many=True, read_only=True)

    class Meta:
        model = CustomerLadderPosition
        fields = [
            "id",
            "customer",
            "ladder",
            "ladder_name",
            "step",
            "reached_at",
            "stalled",
            "next_step",
            "complements",
        ]
        read_only_fields = fields

    @extend_schema_field(StepBriefSerializer(allow_null=True))
    def get_next_step(self, position: CustomerLadderPosition) -> dict | None:
        upsell = next(
            (
                step
                for step in position.ladder.steps.all()
                if step.position > position.step.position and not step.cross_sell_only
            ),
            None,
        )
        return StepBriefSerializer(upsell).data if upsell else None


class StepFiguresSerializer(serializers.Serializer):
    step_id = serializers.IntegerField(source="step.pk")
    position = serializers.IntegerField(source="step.position")
    name = serializers.CharField(source="step.name")
    customers = serializers.IntegerField()
    stalled = serializers.IntegerField()
    reached = serializers.IntegerField()
    eligible = serializers.IntegerField()
    climbed = serializers.IntegerField()
    conversion = serializers.FloatField(allow_null=True)
    median_days_to_climb = serializers.FloatField(allow_null=True)
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)


class LadderReportSerializer(serializers.Serializer):
    ladder = serializers.IntegerField(source="ladder.pk")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    total_customers = serializers.IntegerField()
    steps = StepFiguresSerializer(many=True)


class ReportQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

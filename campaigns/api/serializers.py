"""Campaigns API serializers: validate and shape; services do the writes.

Fields are listed explicitly (SEC-09); status, timestamps, seeds and
authors are server-owned and read-only.
"""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from campaigns.models import CAMPAIGN_SETTINGS, Campaign, OfferCode, Segment, Variant
from crm.models import Customer


class SegmentSerializer(serializers.ModelSerializer):
    """A saved segment; ``definition`` is validated by ``campaigns.segments``."""

    definition = serializers.JSONField(
        help_text='{"match": "all"|"any", "rules": [{"field": ..., ...}]}; see the README.'
    )

    class Meta:
        model = Segment
        fields = [
            "id",
            "name",
            "description",
            "definition",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]
        # Uniqueness is checked case-insensitively by the service.
        extra_kwargs = {"name": {"validators": []}}


class DefinitionSerializer(serializers.Serializer):
    definition = serializers.JSONField()
    n = serializers.IntegerField(min_value=1, max_value=50, required=False, default=10)


class SegmentCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class SampleQuerySerializer(serializers.Serializer):
    n = serializers.IntegerField(min_value=1, max_value=50, required=False, default=10)


class SegmentMemberSerializer(serializers.ModelSerializer):
    home_store_name = serializers.CharField(
        source="home_store.name", default="", read_only=True
    )

    class Meta:
        model = Customer
        fields = ["id", "first_name", "last_name", "home_store", "home_store_name"]
        read_only_fields = fields


class SegmentPreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    sample = SegmentMemberSerializer(many=True)


class VariantSerializer(serializers.ModelSerializer):
    """A message variant; texts may use the personalisation fields."""

    class Meta:
        model = Variant
        fields = ["id", "campaign", "label", "name", "subject", "body", "weight"]
        read_only_fields = ["id"]
        validators: list = []

    def validate(self, attrs):
        if self.instance is not None:
            # A variant stays with its campaign.
            attrs.pop("campaign", None)
        return attrs


class VariantBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variant
        fields = ["id", "label", "name", "weight"]
        read_only_fields = fields


#: What the service sets as a campaign moves on: shown, never written.
_CAMPAIGN_STATE = (
    "status",
    "variants",
    "audience_frozen_at",
    "created_by",
    "launched_at",
    "finished_at",
    "cancelled_at",
    "created_at",
    "updated_at",
)


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign; writable while draft, then frozen (launch/cancel are actions)."""

    variants = VariantBriefSerializer(many=True, read_only=True)
    control_share = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        min_value=Decimal("0"),
        max_value=Decimal("0.5"),
        required=False,
    )
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
    attribution_window_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False
    )

    class Meta:
        model = Campaign
        fields = ["id", *CAMPAIGN_SETTINGS, *_CAMPAIGN_STATE]
        read_only_fields = ["id", *_CAMPAIGN_STATE]


class OfferCodeSerializer(serializers.ModelSerializer):
    """An offer code; ``code`` may be left out to draw a random one."""

    code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    discount_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
    )
    redemptions = serializers.IntegerField(
        source="redemption_count", read_only=True, default=0
    )

    class Meta:
        model = OfferCode
        fields = [
            "id",
            "code",
            "campaign",
            "kind",
            "partner_name",
            "discount_percent",
            "active",
            "redemptions",
            "created_at",
        ]
        read_only_fields = ["id", "redemptions", "created_at"]
        validators: list = []

    def validate(self, attrs):
        if self.instance is not None:
            # Only switching a code on or off is an update.
            attrs = {"active": attrs["active"]} if "active" in attrs else {}
        return attrs


class GenerateCodesSerializer(serializers.Serializer):
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all())
    count = serializers.IntegerField(min_value=1, max_value=10_000)
    prefix = serializers.CharField(max_length=13, required=False, allow_blank=True)
    discount_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
    )


class PreviewQuerySerializer(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1)
    customer = serializers.IntegerField(min_value=1)


class MessagePreviewSerializer(serializers.Serializer):
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True)


class CampaignResultSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    computed_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.JSONField(
        help_text="Results: groups, uplift, by_store, by_ladder_step, daily, codes, partners."
    )

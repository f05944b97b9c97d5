"""API serializers: they validate and shape data, nothing more.

Every ``Meta.fields`` is an explicit list (SEC-09): a new model column is not
exposed, nor writable, until someone adds it here. Server-owned fields are in
``read_only_fields``, so a client that sends them is ignored, not obeyed.
Writes with meaning are done by the services, called from the viewsets.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import (
    Category,
    Channel,
    ChannelConsent,
    ConsentEvent,
    Customer,
    Interaction,
    Order,
    OrderLine,
    Product,
    Return,
    Store,
)
from crm.selectors import customers_visible_to, order_lines_visible_to

# Judgement caps: far above any real basket, far below integer overflow.
MAX_LINE_QUANTITY = 100_000
MAX_ORDER_LINES = 500
MAX_INTERACTION_DATA_CHARS = 20_000
MAX_ID = 2**63 - 1  # BigAutoField; SQLite overflows (a 500) beyond it


def _reject_nul_in_json(value: Any) -> None:
    """PostgreSQL jsonb cannot hold \\u0000 in any string, key or value."""
    if isinstance(value, str):
        if "\x00" in value:
            raise serializers.ValidationError("Text must not contain NUL characters.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_nul_in_json(key)
            _reject_nul_in_json(item)
    elif isinstance(value, list):
        for item in value:
            _reject_nul_in_json(item)


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id checked against what the requesting user may see.

    An id outside the user's scope gets the same "does not exist" error as an
    id that does not exist at all, so nothing is revealed about other stores.
    """

    def __init__(self, *, selector, **kwargs):
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None) or AnonymousUser()
        return self.selector(user)


# --- Reference data -----------------------------------------------------------


class StoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = [
            "id",
            "code",
            "name",
            "address",
            "city",
            "postcode",
            "country",
            "latitude",
            "longitude",
            "time_zone",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate_time_zone(self, value: str) -> str:
        import zoneinfo

        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError("Unknown time zone.")
        return value

    def validate(self, attrs):
        latitude = attrs.get("latitude", getattr(self.instance, "latitude", None))
        longitude = attrs.get("longitude", getattr(self.instance, "longitude", None))
        if (latitude is None) != (longitude is None):
            raise serializers.ValidationError(
                {"latitude": "Give both latitude and longitude, or neither."}
            )
        if latitude is not None and not -90 <= latitude <= 90:
            raise serializers.ValidationError(
                {"latitude": "Latitude must be between -90 and 90."}
            )
        if longitude is not None and not -180 <= longitude <= 180:
            raise serializers.ValidationError(
                {"longitude": "Longitude must be between -180 and 180."}
            )
        return attrs


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent"]
        read_only_fields = ["id"]

    def validate_parent(self, value: Category | None) -> Category | None:
        # Walk up from the new parent: meeting this category means a cycle.
        node = value
        while node is not None and self.instance is not None:
            if node.pk == self.instance.pk:
                raise serializers.ValidationError(
                    "A category cannot sit under itself or its own children."
                )
            node = node.parent
        return value


class ProductSerializer(serializers.ModelSerializer):
    margin = serializers.DecimalField(
        max_digits=11, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "category",
            "kind",
            "price",
            "unit_cost",
            "margin",
            "season",
            "is_consumable",
            "subscription_months",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"unit_cost": {"min_value": Decimal("0")}}

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", Product.Kind.PRODUCT))
        price = attrs.get("price", getattr(self.instance, "price", None))
        # Only a charge line (a discount, a manual adjustment) may be negative.
        if price is not None and price < 0 and kind != Product.Kind.CHARGE:
            raise serializers.ValidationError(
                {"price": "Only a charge or adjustment may have a negative price."}
            )
        return attrs


# --- Customers and consents -----------------------------------------------------


class CustomerSerializer(serializers.ModelSerializer):
    """A customer; contact fields are normalised by the service (E.164, lower case)."""

    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "external_id",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "birth_date",
            "gender",
            "postcode",
            "country",
            "latitude",
            "longitude",
            "home_store",
            "loyalty_card",
            "preferred_channel",
            "preferred_channel_source",
            "status",
            "acquisition_source",
            "became_customer_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "acquisition_source",
            "became_customer_at",
            "created_at",
            "updated_at",
        ]
        # Uniqueness of the natural keys is checked by the service's
        # full_clean(), which knows the constraints' conditions (blank allowed).
        validators: list = []


class ChannelConsentSerializer(serializers.ModelSerializer):
    """The current state of one channel: read-only, changed only by set_consent."""

    class Meta:
        model = ChannelConsent
        fields = [
            "id",
            "customer",
            "channel",
            "granted",
            "legal_basis",
            "source",
            "changed_at",
        ]
        read_only_fields = fields


class ConsentChangeSerializer(serializers.Serializer):
    """Input of a consent change; the actor and time are set by the server."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    granted = serializers.BooleanField()
    source = serializers.CharField(max_length=64)
    legal_basis = serializers.ChoiceField(
        choices=ChannelConsent.LegalBasis.choices,
        default=ChannelConsent.LegalBasis.CONSENT,
    )
    wording_version = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default=""
    )


class ConsentEventSerializer(serializers.ModelSerializer):
    """Append-only consent evidence."""

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "customer",
            "channel",
            "action",
            "legal_basis",
            "source",
            "wording_version",
            "actor",
            "occurred_at",
        ]
        read_only_fields = fields


# --- Orders and returns -----------------------------------------------------------


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "line_no",
            "product",
            "sku",
            "product_name",
            "quantity",
            "unit_price",
            "total",
            "returned_quantity",
        ]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    """An order as read: lines nested, total computed from the prefetched lines."""

    lines = OrderLineSerializer(many=True, read_only=True)
    total = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "customer",
            "store",
            "channel",
            "status",
            "placed_at",
            "created_at",
            "total",
            "lines",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2))
    def get_total(self, order: Order) -> str:
        total = sum((line.total for line in order.lines.all()), Decimal("0.00"))
        return f"{total:.2f}"


class OrderLineInputSerializer(serializers.Serializer):
    """One requested line: a product by ``sku`` or by id, and a quantity."""

    sku = serializers.CharField(max_length=40, required=False)
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    quantity = serializers.IntegerField(max_value=MAX_LINE_QUANTITY)
    unit_price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Omit to charge the product's list price.",
    )

    def validate_quantity(self, value: int) -> int:
        if value <= 0:
            raise serializers.ValidationError("Quantity must be at least 1.")
        return value

    def validate(self, attrs):
        if ("sku" in attrs) == ("product" in attrs):
            raise serializers.ValidationError(
                {"sku": "Name the product by either sku or product id, not both."}
            )
        return attrs


class OrderCreateSerializer(serializers.ModelSerializer):
    """Input of an order placed with its lines in one call.

    Products are looked up in one query for all lines; each unknown or inactive
    product is reported on its own line, in the shape
    ``{"lines": [{}, {"sku": ["…"]}]}``.
    """

    customer = ScopedPrimaryKeyRelatedField(
        selector=customers_visible_to, required=False, allow_null=True
    )
    lines = OrderLineInputSerializer(many=True, allow_empty=False)

    class Meta:
        model = Order
        fields = ["customer", "store", "channel", "lines"]
        extra_kwargs = {"store": {"required": False}}

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        if len(lines) > MAX_ORDER_LINES:
            raise serializers.ValidationError(
                f"An order may have at most {MAX_ORDER_LINES} lines."
            )
        skus = {line["sku"] for line in lines if "sku" in line}
        ids = {line["product"] for line in lines if "product" in line}
        products = list(Product.objects.filter(Q(sku__in=skus) | Q(pk__in=ids)))
        by_sku = {product.sku: product for product in products}
        by_id = {product.pk: product for product in products}
        errors: list[dict] = []
        for line in lines:
            if "sku" in line:
                product = by_sku.get(line["sku"])
                key, missing = "sku", f"Unknown SKU “{line['sku']}”."
            else:
                product = by_id.get(line["product"])
                key, missing = "product", f"Unknown product {line['product']}."
            if product is None:
                errors.append({key: [missing]})
            elif not product.active:
                errors.append({key: [f"Product {product.sku} is not on sale."]})
            else:
                line["product_obj"] = product
                errors.append({})
        if any(errors):
            raise serializers.ValidationError(errors)
        return lines


class ReturnSerializer(serializers.ModelSerializer):
    """A return of part of a line; the line must belong to a visible order."""

    line = ScopedPrimaryKeyRelatedField(selector=order_lines_visible_to)
    order = serializers.IntegerField(source="line.order_id", read_only=True)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)

    class Meta:
        model = Return
        fields = [
            "id",
            "line",
            "order",
            "kind",
            "quantity",
            "reason",
            "reference",
            "returned_at",
            "created_at",
        ]
        read_only_fields = ["id", "order", "returned_at", "created_at"]
        # The (reference, line) uniqueness is checked by the database; a clash
        # becomes a 400 in crm.api.errors.
        validators: list = []


# --- Interactions -----------------------------------------------------------------


class InteractionSerializer(serializers.ModelSerializer):
    """A touch point; staff and store are the server's, not the client's."""

    customer = ScopedPrimaryKeyRelatedField(selector=customers_visible_to)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "channel",
            "kind",
            "product",
            "staff",
            "store",
            "occurred_at",
            "outcome",
            "notes",
            "data",
            "created_at",
        ]
        read_only_fields = ["id", "staff", "store", "created_at"]
        extra_kwargs = {"occurred_at": {"required": False}}

    def validate_data(self, value: Any) -> dict:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected a JSON object.")
        _reject_nul_in_json(value)
        if len(repr(value)) > MAX_INTERACTION_DATA_CHARS:
            raise serializers.ValidationError("Data is too large.")
        return value

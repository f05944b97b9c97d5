"""Django admin for the core domain, with search and filters everywhere."""

from django.contrib import admin

from .models import (
    Category,
    ChannelConsent,
    ConsentEvent,
    Customer,
    ImportJob,
    Interaction,
    Order,
    OrderLine,
    Product,
    Return,
    StaffProfile,
    Store,
)
from .services.customers import erase_customer


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "country"]
    search_fields = ["code", "name", "city", "postcode"]
    list_filter = ["country"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "store"]
    search_fields = ["user__username", "user__email"]
    list_filter = ["store"]
    list_select_related = ["user", "store"]


class ChannelConsentInline(admin.TabularInline):
    model = ChannelConsent
    extra = 0
    readonly_fields = ["channel", "granted", "legal_basis", "source", "changed_at"]
    can_delete = False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "external_id",
        "email",
        "phone",
        "home_store",
        "status",
        "preferred_channel",
    ]
    search_fields = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "external_id",
        "loyalty_card",
    ]
    list_filter = ["status", "home_store", "preferred_channel", "gender", "country"]
    list_select_related = ["home_store"]
    inlines = [ChannelConsentInline]
    readonly_fields = ["created_at", "updated_at", "became_customer_at"]

    # Deleting here is erasure: the contact stays suppressed (PRIV-03) and a
    # customer with orders is kept anonymous instead of failing on them.
    def delete_model(self, request, obj):
        erase_customer(customer=obj)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            erase_customer(customer=customer)

    def get_deleted_objects(self, objs, request):
        # Orders protect a customer from deletion, not from erasure: the
        # confirmation page must not refuse what delete_model will do.
        deleted, counts, perms_needed, _protected = super().get_deleted_objects(
            objs, request
        )
        return deleted, counts, perms_needed, []


@admin.register(ChannelConsent)
class ChannelConsentAdmin(admin.ModelAdmin):
    list_display = [
        "customer",
        "channel",
        "granted",
        "legal_basis",
        "source",
        "changed_at",
    ]
    list_filter = ["channel", "granted", "legal_basis"]
    search_fields = ["customer__email", "customer__external_id", "customer__last_name"]
    raw_id_fields = ["customer"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    list_display = [
        "customer",
        "channel",
        "action",
        "source",
        "wording_version",
        "occurred_at",
    ]
    list_filter = ["channel", "action", "source"]
    search_fields = ["customer__email", "customer__external_id"]
    raw_id_fields = ["customer", "actor"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # evidence is append-only


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    search_fields = ["name", "slug"]
    list_filter = ["parent"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "sku",
        "name",
        "category",
        "kind",
        "price",
        "unit_cost",
        "season",
        "active",
    ]
    search_fields = ["sku", "name"]
    list_filter = ["kind", "season", "active", "category"]
    list_select_related = ["category"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "store", "channel", "status", "placed_at"]
    search_fields = [
        "number",
        "customer__external_id",
        "customer__last_name",
        "customer__email",
    ]
    list_filter = ["status", "channel", "store"]
    date_hierarchy = "placed_at"
    raw_id_fields = ["customer"]
    list_select_related = ["customer", "store"]
    inlines = [OrderLineInline]


@admin.register(Return)
class ReturnAdmin(admin.ModelAdmin):
    list_display = ["line", "kind", "quantity", "reason", "reference", "returned_at"]
    list_filter = ["kind"]
    search_fields = ["reference", "line__order__number", "reason"]
    raw_id_fields = ["line"]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "channel", "outcome", "staff", "occurred_at"]
    list_filter = ["kind", "channel", "outcome"]
    search_fields = ["customer__last_name", "customer__email", "notes"]
    raw_id_fields = ["customer", "product", "staff"]
    date_hierarchy = "occurred_at"


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "file_name", "status", "progress", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["file_name", "sha256"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]

"""Admin for campaigns: read-only views (the services enforce the workflow).

Segments, campaigns, variants and codes change through the pages and the API,
which validate definitions and templates and keep launched campaigns frozen;
the admin only shows them, for support.
"""

from django.contrib import admin

from campaigns.models import (
    AudienceMember,
    Campaign,
    CampaignResult,
    OfferCode,
    OfferRedemption,
    Segment,
    Variant,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class VariantInline(admin.TabularInline):
    model = Variant
    fields = ["label", "name", "subject", "weight"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "updated_at"]
    search_fields = ["name", "description"]


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["name", "goal", "channel", "status", "launched_at"]
    list_filter = ["status", "goal", "channel"]
    search_fields = ["name"]
    list_select_related = ["segment"]
    inlines = [VariantInline]


@admin.register(AudienceMember)
class AudienceMemberAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "customer", "variant", "assigned_at"]
    list_select_related = ["campaign", "customer", "variant"]
    raw_id_fields = ["campaign", "customer", "variant", "ladder_step"]


@admin.register(OfferCode)
class OfferCodeAdmin(ReadOnlyAdmin):
    list_display = ["code", "campaign", "kind", "partner_name", "active"]
    list_filter = ["kind", "active"]
    list_select_related = ["campaign"]
    search_fields = ["code", "partner_name"]


@admin.register(OfferRedemption)
class OfferRedemptionAdmin(ReadOnlyAdmin):
    list_display = ["offer_code", "order", "redeemed_at"]
    list_select_related = ["offer_code", "order"]


@admin.register(CampaignResult)
class CampaignResultAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "computed_at"]
    list_select_related = ["campaign"]

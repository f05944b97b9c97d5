"""Admin for ladders (read-mostly: the editor page is the place to change them)."""

from django.contrib import admin

from ladder.models import CustomerLadderPosition, Ladder, Step, StepOffer


class StepInline(admin.TabularInline):
    model = Step
    fields = ["position", "name", "product", "price", "cross_sell_only"]
    raw_id_fields = ["product"]
    extra = 0
    # Steps change through the editor, which keeps positions dense and
    # enforces the ladder rules; the admin only shows them.
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ladder)
class LadderAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["name"]
    inlines = [StepInline]


@admin.register(StepOffer)
class StepOfferAdmin(admin.ModelAdmin):
    list_display = ["step", "product", "note"]
    list_select_related = ["step", "product"]
    raw_id_fields = ["step", "product"]

    def has_add_permission(self, request) -> bool:
        return False  # through the editor, which checks the ladder rules

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CustomerLadderPosition)
class CustomerLadderPositionAdmin(admin.ModelAdmin):
    list_display = ["customer", "ladder", "step", "reached_at", "stalled"]
    list_filter = ["ladder", "stalled"]
    list_select_related = ["customer", "ladder", "step"]
    raw_id_fields = ["customer", "step"]

    def has_add_permission(self, request) -> bool:
        return False  # derived rows: recomputed from orders, never typed in

    def has_change_permission(self, request, obj=None) -> bool:
        return False

"""Admin for recommendation data: read-only views of what the jobs wrote.

Runs, rules, scores and suggestions are written by the services only (runs
must stay atomic, outcomes must log interactions), so the admin shows them.
"""

from django.contrib import admin

from recommendations.models import (
    AssociationRule,
    CustomerScore,
    RecommendationRun,
    RecommendationShard,
    Suggestion,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ShardInline(admin.TabularInline):
    model = RecommendationShard
    fields = [
        "index",
        "first_customer_id",
        "last_customer_id",
        "status",
        "attempts",
        "customers_count",
        "suggestions_count",
        "seconds",
        "error",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RecommendationRun)
class RecommendationRunAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "status",
        "trigger",
        "is_current",
        "created_at",
        "customers_count",
        "rules_count",
        "suggestions_count",
    ]
    list_filter = ["status", "trigger", "is_current"]
    inlines = [ShardInline]


@admin.register(AssociationRule)
class AssociationRuleAdmin(ReadOnlyAdmin):
    list_display = ["run", "antecedents", "consequent", "confidence", "lift", "support"]
    list_select_related = ["consequent"]
    raw_id_fields = ["run", "consequent"]


@admin.register(CustomerScore)
class CustomerScoreAdmin(ReadOnlyAdmin):
    list_display = ["customer", "run", "eligibility", "return_rate", "net_margin"]
    list_filter = ["eligibility"]
    raw_id_fields = ["run", "customer"]


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = [
        "customer",
        "product",
        "kind",
        "channel",
        "status",
        "rank",
        "expected_value",
        "run",
    ]
    list_filter = ["status", "kind", "channel"]
    list_select_related = ["customer", "product", "run"]
    raw_id_fields = ["run", "customer", "product", "step", "decided_by"]
    search_fields = ["customer__last_name", "product__sku"]

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"
    verbose_name = _("Recommendations")
    # Called by crm's ``manage.py demo`` after the shop and the ladders.
    demo_build = "recommendations.demo.build_demo_suggestions"
    # crm's customer list and page (see crm/hooks.py).
    customer_list_filters = "recommendations.hooks.customer_list_filters"
    customer_annotations = "recommendations.hooks.customer_annotations"
    customer_panels = "recommendations.hooks.customer_panels"
    newcomer_offers = "recommendations.hooks.newcomer_offers"
    customer_value = "recommendations.hooks.customer_value"
    customer_erased = "recommendations.hooks.customer_erased"

    def ready(self) -> None:
        from crm.signals import order_committed
        from recommendations.receivers import enqueue_order_followups

        order_committed.connect(
            enqueue_order_followups,
            dispatch_uid="recommendations.enqueue_order_followups",
        )

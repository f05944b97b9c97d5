from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"
    verbose_name = _("Recommendations")
    # Called by crm's ``manage.py demo`` after the shop and the ladders.
    demo_build = "recommendations.demo.build_demo_suggestions"

    def ready(self) -> None:
        from crm.signals import order_committed
        from recommendations.receivers import enqueue_order_followups

        order_committed.connect(
            enqueue_order_followups,
            dispatch_uid="recommendations.enqueue_order_followups",
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LadderConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ladder"
    verbose_name = _("Value ladders")
    # Called by crm's ``manage.py demo`` (see its _app_hooks).
    demo_build = "ladder.demo.build_demo_ladders"
    demo_delete = "ladder.demo.delete_demo_ladders"
    # crm's customer list and page (see crm/hooks.py).
    customer_list_filters = "ladder.hooks.customer_list_filters"
    customer_annotations = "ladder.hooks.customer_annotations"
    customer_panels = "ladder.hooks.customer_panels"

    def ready(self) -> None:
        from crm.signals import order_committed
        from ladder.receivers import enqueue_customer_recompute

        order_committed.connect(
            enqueue_customer_recompute, dispatch_uid="ladder.enqueue_customer_recompute"
        )

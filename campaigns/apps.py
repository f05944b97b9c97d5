from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "campaigns"
    verbose_name = _("Campaigns")
    # Called by crm's ``manage.py demo`` (see its _app_hooks), after the
    # ladders and the first suggestion run.
    demo_build = "campaigns.demo.build_demo_campaigns"
    demo_delete = "campaigns.demo.delete_demo_campaigns"
    # Sent messages in crm's customer timeline (see crm/hooks.py).
    customer_timeline = "campaigns.hooks.customer_timeline"
    # Erasure scrubs call notes and provider replies (see crm/hooks.py).
    customer_erased = "campaigns.hooks.customer_erased"

    def ready(self) -> None:
        # The counter view and the basket API live in recommendations, below
        # this app: they reach the campaigns through its extension registry.
        from recommendations import extensions

        from . import prompts

        extensions.register_counter_prompt_provider(prompts.counter_prompt_provider)
        extensions.register_checkout_offer_provider(prompts.checkout_offers)

"""Campaigns, their message variants, frozen audiences, offer codes and results."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from crm.models import Channel as CrmChannel

# Goals that promote one offer: the campaign must name it (product or step).
OFFER_GOALS = ("upsell", "cross_sell")


#: The settings a manager edits while a campaign is a draft: the service,
#: the form and the API serializer all take exactly these.
CAMPAIGN_SETTINGS = (
    "name",
    "goal",
    "segment",
    "channel",
    "offer_product",
    "offer_step",
    "store",
    "discount_percent",
    "control_share",
    "schedule_at",
    "quiet_hours_start",
    "quiet_hours_end",
    "attribution_window_days",
)


class Campaign(models.Model):
    """A message to one segment on one channel, with variants and a control group.

    Status moves draft → scheduled → sending → done, or to cancelled from
    any state but done (enforced by ``campaigns.services``). The offer is a
    product or a ladder step, never both; upsell and cross-sell campaigns
    must have one. ``control_share`` of the frozen audience receives nothing
    and is the baseline of the results.
    """

    class Goal(models.TextChoices):
        UPSELL = "upsell", _("Upsell to the next step")
        CROSS_SELL = "cross_sell", _("Cross-sell complements")
        DRIVE_TO_STORE = "drive_to_store", _("Bring customers into a store")
        WIN_BACK = "win_back", _("Win back lapsed customers")
        ACQUISITION = "acquisition", _("Acquire prospects")

    class Channel(models.TextChoices):
        # Values equal crm.models.Channel's, so consents (ChannelConsent.channel)
        # and orders (Order.channel) compare with no mapping table. The phone
        # value means a call list worked by sales staff.
        EMAIL = CrmChannel.EMAIL.value, _("E-mail")
        SMS = CrmChannel.SMS.value, _("SMS")
        PHONE = CrmChannel.PHONE.value, _("Phone call list")
        IN_STORE = CrmChannel.IN_STORE.value, _("In-store prompt")
        CHECKOUT = CrmChannel.CHECKOUT.value, _("Checkout offer")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(_("name"), max_length=120)
    goal = models.CharField(_("goal"), max_length=16, choices=Goal.choices)
    segment = models.ForeignKey(
        "campaigns.Segment",
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("segment"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    offer_product = models.ForeignKey(
        "crm.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("offered product"),
    )
    offer_step = models.ForeignKey(
        "ladder.Step",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("offered ladder step"),
    )
    store = models.ForeignKey(
        "crm.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("store"),
        help_text=_(
            "The store the campaign brings customers to; when empty, each "
            "customer's home store is named in the message."
        ),
    )
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    control_share = models.DecimalField(
        _("control share"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.100"),
        help_text=_("Share of the audience kept aside as a control group (0–0.5)."),
    )
    schedule_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    quiet_hours_start = models.TimeField(
        _("quiet hours start"),
        null=True,
        blank=True,
        help_text=_("Empty: the site-wide quiet hours apply."),
    )
    quiet_hours_end = models.TimeField(_("quiet hours end"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    attribution_window_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"), default=14
    )
    audience_seed = models.BigIntegerField(
        _("audience seed"),
        null=True,
        blank=True,
        help_text=_("Seed of the random variant and control split, for replay."),
    )
    audience_frozen_at = models.DateTimeField(
        _("audience frozen at"), null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        permissions = [("launch_campaign", _("Can launch or cancel a campaign"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(offer_product__isnull=True) | Q(offer_step__isnull=True),
                name="campaign_one_offer_at_most",
            ),
            models.CheckConstraint(
                condition=~Q(goal__in=OFFER_GOALS)
                | Q(offer_product__isnull=False)
                | Q(offer_step__isnull=False),
                name="campaign_offer_goal_has_offer",
            ),
            models.CheckConstraint(
                condition=Q(control_share__gte=0)
                & Q(control_share__lte=Decimal("0.5")),
                name="campaign_control_share_range",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="campaign_discount_range",
            ),
            models.CheckConstraint(
                condition=Q(attribution_window_days__gte=1)
                & Q(attribution_window_days__lte=365),
                name="campaign_attribution_window_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    quiet_hours_start__isnull=True, quiet_hours_end__isnull=True
                )
                | Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False),
                name="campaign_quiet_hours_both_or_none",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "schedule_at"], name="campaign_due_idx")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        """Only a draft may change its audience, variants or offer."""
        return self.status == self.Status.DRAFT


class Variant(models.Model):
    """One version of the message (A, B, ...), with its share of the treated audience.

    ``body`` and ``subject`` may use the personalisation fields
    ``{first_name}``, ``{last_name}``, ``{offer_name}``, ``{offer_code}``,
    ``{discount}``, ``{store_name}`` (see ``campaigns.messages``); anything
    else is rejected when the variant is saved. ``weight`` splits the treated
    (non-control) audience between variants in proportion.
    """

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="variants",
        verbose_name=_("campaign"),
    )
    label = models.CharField(_("label"), max_length=8)
    name = models.CharField(_("name"), max_length=80, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "label"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "label"], name="campaign_variant_unique_label"
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1) & Q(weight__lte=100),
                name="campaign_variant_weight_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.label}"


class AudienceMember(models.Model):
    """A customer of a campaign's frozen audience; ``variant`` null = control group.

    Written once by ``campaigns.services.freeze_audience`` at launch: the
    segment is resolved then and never again, so later changes to the
    segment do not move customers between groups. ``ladder_step`` snapshots
    the step the customer stood on then (for the breakdown by step, which
    must not move when the campaign itself makes them climb).
    """

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="audience",
        verbose_name=_("campaign"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="campaign_memberships",
        verbose_name=_("customer"),
    )
    variant = models.ForeignKey(
        Variant,
        # RESTRICT, not PROTECT: a variant with members cannot be deleted on
        # its own, but deleting the whole campaign removes both.
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("variant"),
    )
    ladder_step = models.ForeignKey(
        "ladder.Step",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ladder step at assignment"),
    )
    assigned_at = models.DateTimeField(_("assigned at"))

    class Meta:
        ordering = ["campaign", "customer"]
        verbose_name = _("audience member")
        verbose_name_plural = _("audience members")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="campaign_audience_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["campaign", "variant"], name="campaign_audience_var_idx"
            ),
            models.Index(fields=["customer"], name="campaign_audience_cust_idx"),
        ]

    def __str__(self) -> str:
        group = self.variant_id or "control"
        return f"{self.campaign_id}:{self.customer_id} ({group})"

    @property
    def is_control(self) -> bool:
        return self.variant_id is None


class OfferCode(models.Model):
    """A code a buyer quotes at the till or checkout, attributed to its campaign.

    ``kind=partner`` codes are handed to a partner or influencer: their
    orders are attributed to the campaign *and* reported under the partner.
    Codes are stored upper-case (the services normalise), so lookups are
    case-insensitive and unique. ``discount_percent`` null = the campaign's.
    """

    class Kind(models.TextChoices):
        CAMPAIGN = "campaign", _("Campaign")
        PARTNER = "partner", _("Partner or influencer")

    code = models.CharField(_("code"), max_length=40, unique=True)
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="offer_codes",
        verbose_name=_("campaign"),
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.CAMPAIGN
    )
    partner_name = models.CharField(_("partner"), max_length=120, blank=True)
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "code"]
        verbose_name = _("offer code")
        verbose_name_plural = _("offer codes")
        constraints = [
            models.CheckConstraint(
                condition=Q(code=Upper("code")) & ~Q(code=""),
                name="offer_code_upper_case",
            ),
            models.CheckConstraint(
                condition=Q(kind="campaign", partner_name="")
                | (Q(kind="partner") & ~Q(partner_name="")),
                name="offer_code_partner_named",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__isnull=True)
                | (Q(discount_percent__gte=0) & Q(discount_percent__lte=100)),
                name="offer_code_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class OfferRedemption(models.Model):
    """An order on which an offer code was quoted (at most one code per order).

    Orders carry no code column of their own (crm sits below campaigns), so
    the link lives here; ``campaigns.services.redeem_offer_code`` writes it.
    """

    order = models.OneToOneField(
        "crm.Order",
        on_delete=models.CASCADE,
        related_name="offer_redemption",
        verbose_name=_("order"),
    )
    offer_code = models.ForeignKey(
        OfferCode,
        on_delete=models.PROTECT,
        related_name="redemptions",
        verbose_name=_("offer code"),
    )
    redeemed_at = models.DateTimeField(_("redeemed at"))

    class Meta:
        ordering = ["-redeemed_at", "-id"]
        verbose_name = _("offer redemption")
        verbose_name_plural = _("offer redemptions")
        indexes = [
            models.Index(fields=["offer_code", "redeemed_at"], name="offer_redeem_idx")
        ]

    def __str__(self) -> str:
        return f"{self.offer_code_id} on {self.order_id}"


class CampaignResult(models.Model):
    """Cached results of one campaign (``campaigns.results`` payload as JSON).

    Refreshed by the ``campaigns.refresh_results`` task; pages read this row
    and never recompute on a request.
    """

    campaign = models.OneToOneField(
        Campaign,
        on_delete=models.CASCADE,
        related_name="result",
        verbose_name=_("campaign"),
    )
    payload = models.JSONField(_("payload"), default=dict)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("campaign result")
        verbose_name_plural = _("campaign results")

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.computed_at:%Y-%m-%d %H:%M}"

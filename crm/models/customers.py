"""Customers (prospects included) and their per-channel marketing consents."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Ways of reaching a customer, shared by consents, orders and interactions."""

    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    IN_STORE = "in_store", _("In store")
    CHECKOUT = "checkout", _("Checkout")
    WEB = "web", _("Web")


class Customer(models.Model):
    """A person the business knows: a prospect until their first order.

    ``external_id`` and ``loyalty_card`` are natural keys from other systems,
    unique when present. Contact fields are normalised by the services (e-mail
    lower-cased, phone in E.164) before they reach the database.
    """

    class Gender(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")
        OTHER = "X", _("Other")
        UNKNOWN = "", _("Unknown")

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")

    class ChannelSource(models.TextChoices):
        DECLARED = "declared", _("Declared")
        INFERRED = "inferred", _("Inferred")

    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    first_name = models.CharField(_("first name"), max_length=80, blank=True)
    last_name = models.CharField(_("last name"), max_length=80, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, blank=True, default=""
    )
    postcode = models.CharField(_("postcode"), max_length=16, blank=True)
    country = models.CharField(_("country"), max_length=64, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    home_store = models.ForeignKey(
        "crm.Store",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("home store"),
    )
    loyalty_card = models.CharField(_("loyalty card"), max_length=32, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, blank=True
    )
    preferred_channel_source = models.CharField(
        _("preferred channel source"),
        max_length=10,
        choices=ChannelSource.choices,
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PROSPECT
    )
    acquisition_source = models.CharField(
        _("acquisition source"), max_length=64, blank=True
    )
    became_customer_at = models.DateTimeField(
        _("first purchase"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="customer_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["loyalty_card"],
                condition=~Q(loyalty_card=""),
                name="customer_unique_loyalty_card",
            ),
            models.CheckConstraint(
                condition=Q(status="prospect") | Q(became_customer_at__isnull=False),
                name="customer_has_first_purchase_date",
            ),
        ]
        indexes = [
            models.Index(fields=["email"], name="customer_email_idx"),
            models.Index(fields=["phone"], name="customer_phone_idx"),
            models.Index(
                fields=["home_store", "status"], name="customer_store_status_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.external_id or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ChannelConsent(models.Model):
    """The current consent state of one customer on one channel (PRIV-01).

    No row means no consent. Every change is also appended to ConsentEvent,
    which is the evidence; this row is the fast lookup audience queries use.
    """

    class LegalBasis(models.TextChoices):
        CONSENT = "consent", _("Consent")
        SOFT_OPT_IN = "soft_opt_in", _("Existing customer (soft opt-in)")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="consents"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    granted = models.BooleanField(_("granted"), default=False)
    legal_basis = models.CharField(
        _("legal basis"),
        max_length=12,
        choices=LegalBasis.choices,
        default=LegalBasis.CONSENT,
    )
    source = models.CharField(_("source"), max_length=64)
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("channel consent")
        verbose_name_plural = _("channel consents")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel"], name="consent_one_per_channel"
            )
        ]
        indexes = [
            models.Index(fields=["channel", "granted"], name="consent_channel_idx")
        ]

    def __str__(self) -> str:
        state = "granted" if self.granted else "withdrawn"
        return f"{self.customer_id} {self.channel} {state}"


class ConsentEvent(models.Model):
    """Append-only evidence of a consent being granted or withdrawn."""

    class Action(models.TextChoices):
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="consent_events"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    legal_basis = models.CharField(
        _("legal basis"), max_length=12, choices=ChannelConsent.LegalBasis.choices
    )
    source = models.CharField(_("source"), max_length=64)
    wording_version = models.CharField(_("wording version"), max_length=32, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel} {self.action} {self.occurred_at:%Y-%m-%d}"

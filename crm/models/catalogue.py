"""The catalogue: a category tree and the products, services and bundles sold."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A node of the category tree (parent is null at the roots)."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="category_not_own_parent"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """Anything sold: goods, services, subscriptions, bundles, or a charge line.

    ``CHARGE`` covers lines that are not merchandise (postage, bank charges,
    manual adjustments): they are kept so order totals reconcile, but never
    recommended and never counted as product revenue.
    """

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service")
        SUBSCRIPTION = "subscription", _("Subscription")
        BUNDLE = "bundle", _("Bundle")
        CHARGE = "charge", _("Charge or adjustment")

    class Season(models.TextChoices):
        ALL_YEAR = "all_year", _("All year")
        SPRING_SUMMER = "spring_summer", _("Spring/summer")
        AUTUMN_WINTER = "autumn_winter", _("Autumn/winter")

    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("category"),
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=Kind.choices, default=Kind.PRODUCT
    )
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    season = models.CharField(
        _("season"), max_length=14, choices=Season.choices, default=Season.ALL_YEAR
    )
    is_consumable = models.BooleanField(
        _("consumable"),
        default=False,
        help_text=_("Bought again and again, so owning it does not block an offer."),
    )
    subscription_months = models.PositiveSmallIntegerField(
        _("subscription length (months)"), null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="charge") | Q(price__gte=0),
                name="product_price_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__isnull=True) | Q(unit_cost__gte=0),
                name="product_unit_cost_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["category", "active"], name="product_cat_active_idx")
        ]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"

    @property
    def margin(self):
        """Unit margin, or None when the cost is unknown."""
        if self.unit_cost is None:
            return None
        return self.price - self.unit_cost

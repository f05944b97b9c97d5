"""Value ladders: ordered steps of offers, their complements, and positions."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Ladder(models.Model):
    """An ordered path of offers from an entry product to premium ones.

    ``active`` means published: only a ladder whose rules report no error may
    be active (enforced by ``ladder.services``).
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("ladder")
        verbose_name_plural = _("ladders")

    def __str__(self) -> str:
        return self.name


class Step(models.Model):
    """One rung of a ladder: an offer (a product, service, subscription or bundle).

    Positions are dense (1..n) and unique per ladder; the services renumber
    them on every insert, move and removal. ``price`` is the step's price on
    the ladder, by default the product's list price. ``also_counts`` lists
    other products whose purchase places a customer on this step (a product
    family, such as any premium garment).
    """

    ladder = models.ForeignKey(
        Ladder, on_delete=models.CASCADE, related_name="steps", verbose_name=_("ladder")
    )
    position = models.PositiveIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=120)
    product = models.ForeignKey(
        "crm.Product",
        on_delete=models.PROTECT,
        related_name="ladder_steps",
        verbose_name=_("offer"),
    )
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    cross_sell_only = models.BooleanField(
        _("cross-sell only"),
        default=False,
        help_text=_(
            "A complementary offer: it may cost the same as or less than the step "
            "before it, and it is not offered as an upsell."
        ),
    )
    also_counts = models.ManyToManyField(
        "crm.Product",
        blank=True,
        related_name="+",
        verbose_name=_("also counts"),
        help_text=_("Other products whose purchase places a customer on this step."),
    )

    class Meta:
        ordering = ["ladder", "position"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        constraints = [
            models.UniqueConstraint(
                fields=["ladder", "position"], name="ladder_step_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1), name="ladder_step_position_positive"
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="ladder_step_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ladder_id}#{self.position} {self.name}"


class StepOffer(models.Model):
    """A cross-sell complement of a step, with an optional note for staff."""

    step = models.ForeignKey(
        Step, on_delete=models.CASCADE, related_name="offers", verbose_name=_("step")
    )
    product = models.ForeignKey(
        "crm.Product",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("complement"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["step", "id"]
        verbose_name = _("step offer")
        verbose_name_plural = _("step offers")
        constraints = [
            models.UniqueConstraint(
                fields=["step", "product"], name="ladder_step_offer_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.step_id} + {self.product_id}"


class CustomerLadderPosition(models.Model):
    """Derived: the highest step a customer stands on, recomputed from orders.

    One row per customer and ladder (none when the customer reached no step).
    ``reached_at`` is when they first kept a purchase of that step; ``stalled``
    is true when they have not climbed since for longer than the configured
    time and a higher step exists.
    """

    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="ladder_positions",
        verbose_name=_("customer"),
    )
    ladder = models.ForeignKey(
        Ladder,
        on_delete=models.CASCADE,
        related_name="positions",
        verbose_name=_("ladder"),
    )
    step = models.ForeignKey(
        Step, on_delete=models.CASCADE, related_name="positions", verbose_name=_("step")
    )
    reached_at = models.DateTimeField(_("reached at"))
    stalled = models.BooleanField(_("stalled"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["ladder", "customer"]
        verbose_name = _("customer ladder position")
        verbose_name_plural = _("customer ladder positions")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "ladder"], name="ladder_position_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["ladder", "stalled", "step", "reached_at"],
                name="ladder_position_stalled_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} on {self.step_id}"


class CustomerStepReach(models.Model):
    """Derived: when a customer first reached each step, and when they climbed.

    One row per customer and reached step. ``climbed_at`` is when the customer
    first reached a higher step afterwards (null if never); ``days_to_climb``
    is that delay in whole days. ``revenue`` is what the customer kept of the
    step's offer (net of returns, cancelled orders excluded). The ladder
    report reads these rows instead of the order lines.
    """

    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.CASCADE, related_name="+"
    )
    ladder = models.ForeignKey(Ladder, on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="reaches")
    reached_at = models.DateTimeField(_("reached at"))
    climbed_at = models.DateTimeField(_("climbed at"), null=True, blank=True)
    days_to_climb = models.IntegerField(_("days to climb"), null=True, blank=True)
    revenue = models.DecimalField(_("revenue"), max_digits=14, decimal_places=2)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["ladder", "customer", "step"]
        verbose_name = _("customer step reach")
        verbose_name_plural = _("customer step reaches")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "step"], name="ladder_reach_unique"
            )
        ]
        indexes = [
            models.Index(fields=["ladder", "step"], name="ladder_reach_step_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} reached {self.step_id}"

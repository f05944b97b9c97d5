"""Orders, their lines, and returns or cancellations of lines."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .customers import Channel


class Order(models.Model):
    """A sale: to a known customer, or anonymous at a till (customer null).

    ``number`` is the natural key (an invoice number on import), so a
    re-import updates rather than duplicates.
    """

    class Status(models.TextChoices):
        PLACED = "placed", _("Placed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("customer"),
    )
    store = models.ForeignKey(
        "crm.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("store"),
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.IN_STORE
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLACED
    )
    placed_at = models.DateTimeField(_("placed at"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(
                fields=["customer", "-placed_at"], name="order_customer_date_idx"
            ),
            models.Index(fields=["store", "-placed_at"], name="order_store_date_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """One product on an order; ``returned_quantity`` is kept by the services.

    The database guarantees that returns never exceed what was bought: the
    running total lives on the line under a CHECK constraint, so two returns
    racing each other cannot both pass.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(_("line"))
    product = models.ForeignKey(
        "crm.Product", on_delete=models.PROTECT, related_name="order_lines"
    )
    quantity = models.IntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    returned_quantity = models.IntegerField(_("returned quantity"), default=0)

    class Meta:
        ordering = ["order", "line_no"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_no"], name="order_line_unique_no"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(returned_quantity__gte=0)
                & Q(returned_quantity__lte=F("quantity")),
                name="order_line_returns_within_quantity",
            ),
        ]
        indexes = [models.Index(fields=["product"], name="order_line_product_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_no}"

    @property
    def total(self):
        return self.unit_price * self.quantity


class Return(models.Model):
    """Goods given back, or a cancellation (credit note) of part of a line.

    ``reference`` is the natural key of the document that returned the goods
    (a credit-note number on import); with the line it makes re-imports
    idempotent.
    """

    class Kind(models.TextChoices):
        RETURN = "return", _("Return")
        CANCELLATION = "cancellation", _("Cancellation")

    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="returns"
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=Kind.choices, default=Kind.RETURN
    )
    quantity = models.IntegerField(_("quantity"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=40, blank=True)
    returned_at = models.DateTimeField(_("when"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-returned_at", "-id"]
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="return_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["reference", "line"],
                condition=~Q(reference=""),
                name="return_unique_reference_per_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} × {self.line_id}"

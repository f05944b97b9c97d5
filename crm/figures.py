"""Read-only figures for the home page, scoped to what the user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from crm.models import Customer, ImportJob, Order, OrderLine, Product
from crm.roles import is_store_scoped, store_id_of

MONEY = DecimalField(max_digits=14, decimal_places=2)


@dataclass(frozen=True)
class HomeFigures:
    """Headline numbers for one user's scope over the last ``days`` days."""

    days: int
    customers: int
    prospects: int
    orders: int
    revenue: Decimal
    returned_value: Decimal
    products: int
    recent_imports: list[ImportJob]

    @property
    def return_share(self) -> float:
        return float(self.returned_value / self.revenue) if self.revenue else 0.0


def get_home_figures(*, user, days: int = 30) -> HomeFigures:
    """Customer, order and revenue figures; clerks get their store's only.

    Revenue counts merchandise lines of placed orders (charges excluded);
    returned value is the same lines' returned quantity at their price.
    Costs a fixed number of queries (4, plus 1 for managers' imports).
    """
    since = timezone.now() - dt.timedelta(days=days)
    customers = Customer.objects.all()
    orders = Order.objects.filter(status=Order.Status.PLACED, placed_at__gte=since)
    if is_store_scoped(user):
        store_id = store_id_of(user)
        customers = customers.filter(home_store_id=store_id)
        orders = orders.filter(store_id=store_id)
    people = customers.aggregate(
        customers=Count("id", filter=Q(status=Customer.Status.CUSTOMER)),
        prospects=Count("id", filter=Q(status=Customer.Status.PROSPECT)),
    )
    lines = OrderLine.objects.filter(order__in=orders).exclude(
        product__kind=Product.Kind.CHARGE
    )
    money = lines.aggregate(
        revenue=Sum(
            ExpressionWrapper(F("quantity") * F("unit_price"), output_field=MONEY)
        ),
        returned=Sum(
            ExpressionWrapper(
                F("returned_quantity") * F("unit_price"), output_field=MONEY
            )
        ),
    )
    recent_imports: list[ImportJob] = []
    if user.has_perm("crm.view_importjob"):
        recent_imports = list(ImportJob.objects.order_by("-created_at")[:5])
    return HomeFigures(
        days=days,
        customers=people["customers"],
        prospects=people["prospects"],
        orders=orders.count(),
        revenue=money["revenue"] or Decimal("0"),
        returned_value=money["returned"] or Decimal("0"),
        products=Product.objects.filter(active=True)
        .exclude(kind=Product.Kind.CHARGE)
        .count(),
        recent_imports=recent_imports,
    )

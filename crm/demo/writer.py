"""Writes a ``DemoPlan`` to the database, refreshes the demo users, resets.

Seeding, not business writes: the rows are inserted with ``bulk_create`` in
batches instead of through ``crm.services`` (``place_order``, ``set_consent``,
``record_return``), which would cost tens of thousands of queries and fire
``order_committed`` for every order. The plan already holds what those
services guarantee: ``returned_quantity`` equals the sum of each line's
returns, buyers are customers with ``became_customer_at`` set to their first
order, and every ChannelConsent has its ConsentEvent evidence.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.db.models import ProtectedError

from crm import roles
from crm.models import (
    Category,
    ChannelConsent,
    ConsentEvent,
    Customer,
    Interaction,
    Order,
    OrderLine,
    Product,
    Return,
    StaffProfile,
    Store,
)

from . import catalogue as cat
from .rows import (
    ADMIN_USER,
    CLERK_USERS,
    CONSENT_WORDING,
    MANAGER_USER,
    SALES_USER,
    DemoPlan,
)

BATCH_SIZE = 2000
CUSTOMER_PREFIX = "DEMO-"
ORDER_PREFIX = "DEMO-"


class DemoResetBlocked(Exception):
    """Rows outside the demo still point at demo rows, so the reset stopped."""


def demo_exists() -> bool:
    """True when the marker store of a previous demo build is present."""
    return Store.objects.filter(code=cat.DEMO_MARKER_STORE).exists()


# --- Users --------------------------------------------------------------------

# username → (role group or None for the superuser, store code for clerks)
DEMO_USERS: dict[str, tuple[str | None, str | None]] = {
    ADMIN_USER: (None, None),
    MANAGER_USER: (roles.MANAGER, None),
    SALES_USER: (roles.SALES, None),
    **{username: (roles.CLERK, code) for code, username in CLERK_USERS.items()},
}


def refresh_demo_users(*, password: str) -> dict[str, AbstractBaseUser]:
    """Create the demo users if missing and reset their password and roles.

    Idempotent: running it again leaves the same users, groups and profiles.
    Clerks get a StaffProfile for their store (the store must exist).
    """
    User = get_user_model()
    stores = {
        store.code: store for store in Store.objects.filter(code__in=cat.STORE_CODES)
    }
    users: dict[str, AbstractBaseUser] = {}
    for username, (role, store_code) in DEMO_USERS.items():
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.is_active = True
        user.is_staff = role in (None, roles.MANAGER)
        user.is_superuser = role is None
        user.first_name = username.replace("_", " ").title()
        user.set_password(password)
        user.save()
        if role is not None:
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.set([group])
        if store_code is not None and store_code in stores:
            StaffProfile.objects.update_or_create(
                user=user, defaults={"store": stores[store_code]}
            )
        users[username] = user
    return users


# --- Reset --------------------------------------------------------------------


@transaction.atomic
def delete_demo_data() -> None:
    """Delete the demo's rows: its orders, customers, catalogue and stores.

    Leaves the users (refreshed on every run) but unlinks clerks from demo
    stores. Raises DemoResetBlocked when rows that are not part of the demo
    (an order typed in by hand at a demo store) still reference demo rows.
    """
    demo_orders = Order.objects.filter(number__startswith=ORDER_PREFIX)
    demo_customers = Customer.objects.filter(external_id__startswith=CUSTOMER_PREFIX)
    try:
        # Children first, each a single DELETE, instead of letting the
        # collector load a hundred thousand rows to cascade them.
        Return.objects.filter(line__order__in=demo_orders).delete()
        OrderLine.objects.filter(order__in=demo_orders).delete()
        demo_orders.delete()
        Interaction.objects.filter(customer__in=demo_customers).delete()
        ConsentEvent.objects.filter(customer__in=demo_customers).delete()
        ChannelConsent.objects.filter(customer__in=demo_customers).delete()
        demo_customers.delete()
        Product.objects.filter(sku__in=cat.PRODUCTS_BY_SKU).delete()
        StaffProfile.objects.filter(store__code__in=cat.STORE_CODES).update(store=None)
        Store.objects.filter(code__in=cat.STORE_CODES).delete()
        # Children before parents: the tree protects its inner nodes.
        slugs = list(cat.CATEGORIES)
        Category.objects.filter(slug__in=slugs, parent__isnull=False).delete()
        Category.objects.filter(slug__in=slugs).delete()
    except ProtectedError as exc:
        blockers = sorted(
            {str(obj._meta.verbose_name) for obj in exc.protected_objects}
        )
        raise DemoResetBlocked(
            "Rows outside the demo still use demo data: " + ", ".join(blockers)
        ) from exc


# --- Catalogue and stores -----------------------------------------------------


def write_stores() -> dict[str, Store]:
    """The three department stores, by code."""
    stores = Store.objects.bulk_create(
        Store(
            code=spec.code,
            name=spec.name,
            address=spec.address,
            city=spec.city,
            postcode=spec.postcode,
            country="IT",
            latitude=spec.latitude,
            longitude=spec.longitude,
            time_zone="Europe/Rome",
        )
        for spec in cat.STORES
    )
    return {store.code: store for store in stores}


def write_catalogue() -> dict[str, Product]:
    """The category tree and every product, by SKU."""
    categories: dict[str, Category] = {}
    for slug, (name, parent_slug) in cat.CATEGORIES.items():
        categories[slug] = Category.objects.create(
            slug=slug,
            name=name,
            parent=categories.get(parent_slug) if parent_slug else None,
        )
    products = Product.objects.bulk_create(
        Product(
            sku=spec.sku,
            name=spec.name,
            category=categories[spec.category],
            kind=spec.kind,
            price=spec.price,
            unit_cost=spec.unit_cost,
            season=spec.season,
            is_consumable=spec.is_consumable,
            subscription_months=spec.subscription_months,
        )
        for spec in cat.PRODUCTS
    )
    return {product.sku: product for product in products}


# --- The plan -----------------------------------------------------------------


def write_plan(
    *,
    plan: DemoPlan,
    stores: dict[str, Store],
    products: dict[str, Product],
    users: dict[str, AbstractBaseUser],
) -> dict[str, int]:
    """Insert customers, orders, lines, returns, consents and interactions.

    Returns the number of rows written per model. Relies on ``bulk_create``
    setting primary keys (PostgreSQL, and SQLite ≥ 3.35 through RETURNING).
    """
    customers = Customer.objects.bulk_create(
        (
            Customer(
                external_id=row.external_id,
                first_name=row.first_name,
                last_name=row.last_name,
                email=row.email,
                phone=row.phone,
                birth_date=row.birth_date,
                gender=row.gender,
                postcode=row.postcode,
                country="IT",
                latitude=row.latitude,
                longitude=row.longitude,
                home_store=stores[row.home_store],
                loyalty_card=row.loyalty_card,
                preferred_channel=row.preferred_channel,
                preferred_channel_source=row.preferred_channel_source,
                status=(
                    Customer.Status.CUSTOMER
                    if row.became_customer_at
                    else Customer.Status.PROSPECT
                ),
                acquisition_source=row.acquisition_source,
                became_customer_at=row.became_customer_at,
            )
            for row in plan.customers
        ),
        batch_size=BATCH_SIZE,
    )
    # created_at is auto_now_add, so the insert stamped the build time; the
    # history starts when each customer was first known.
    for customer, row in zip(customers, plan.customers, strict=True):
        customer.created_at = row.created_at or customer.created_at
    Customer.objects.bulk_update(customers, ["created_at"], batch_size=500)
    orders = Order.objects.bulk_create(
        (
            Order(
                number=row.number,
                customer=customers[row.customer] if row.customer is not None else None,
                store=stores[row.store],
                channel=row.channel,
                status=Order.Status.CANCELLED if row.cancelled else Order.Status.PLACED,
                placed_at=row.placed_at,
            )
            for row in plan.orders
        ),
        batch_size=BATCH_SIZE,
    )
    line_objects: list[list[OrderLine]] = []
    for order, row in zip(orders, plan.orders, strict=True):
        line_objects.append(
            [
                OrderLine(
                    order=order,
                    line_no=number,
                    product=products[line.sku],
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    returned_quantity=line.returned_quantity,
                )
                for number, line in enumerate(row.lines, start=1)
            ]
        )
    OrderLine.objects.bulk_create(
        (line for lines in line_objects for line in lines), batch_size=BATCH_SIZE
    )
    Return.objects.bulk_create(
        (
            Return(
                line=line_objects[row.order][row.line],
                kind=row.kind,
                quantity=row.quantity,
                reason=row.reason,
                reference=row.reference,
                returned_at=row.returned_at,
            )
            for row in plan.returns
        ),
        batch_size=BATCH_SIZE,
    )
    ChannelConsent.objects.bulk_create(
        (
            ChannelConsent(
                customer=customers[row.customer],
                channel=row.channel,
                granted=row.granted,
                legal_basis=row.legal_basis,
                source=row.source,
                changed_at=row.changed_at,
            )
            for row in plan.consents
        ),
        batch_size=BATCH_SIZE,
    )
    events = [
        ConsentEvent(
            customer=customers[row.customer],
            channel=row.channel,
            action=action,
            legal_basis=row.legal_basis,
            source=source,
            wording_version=CONSENT_WORDING,
            occurred_at=when,
        )
        for row in plan.consents
        for action, source, when in row.events
    ]
    ConsentEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    Interaction.objects.bulk_create(
        (
            Interaction(
                customer=customers[row.customer],
                kind=row.kind,
                channel=row.channel,
                product=products[row.sku] if row.sku else None,
                staff=users.get(row.staff) if row.staff else None,
                store=stores[row.store] if row.store else None,
                occurred_at=row.occurred_at,
                outcome=row.outcome,
                notes=row.notes,
                data=row.data,
            )
            for row in plan.interactions
        ),
        batch_size=BATCH_SIZE,
    )
    return {
        "customers": len(customers),
        "orders": len(orders),
        "order_lines": sum(len(lines) for lines in line_objects),
        "returns": len(plan.returns),
        "consents": len(plan.consents),
        "consent_events": len(events),
        "interactions": len(plan.interactions),
    }

"""What ladder adds to crm's customer pages (crm.hooks, declared in apps.py).

crm may not import ladder, so these functions are named on LadderConfig and
called by crm's customer list and customer page.
"""

from __future__ import annotations

from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from crm.hooks import ListFilter, Panel
from ladder.models import CustomerLadderPosition, Step
from ladder.selectors import list_customer_positions

PANEL = "ladder/partials/customer_ladders.html"


def _step_choices() -> list[tuple[str, str]]:
    steps = (
        Step.objects.filter(ladder__active=True)
        .select_related("ladder")
        .order_by("ladder__name", "position")
    )
    return [
        (str(step.pk), f"{step.ladder.name} · {step.position}. {step.name}")
        for step in steps
    ]


def _on_step(queryset, value: str):
    on_step = CustomerLadderPosition.objects.filter(step_id=value)
    return queryset.filter(pk__in=on_step.values("customer_id"))


def customer_list_filters() -> list[ListFilter]:
    """Filter the customer list by the step customers stand on."""
    return [
        ListFilter(
            name="ladder_step",
            label=_("Ladder step"),
            choices=_step_choices,
            apply=_on_step,
        )
    ]


def customer_annotations(user) -> dict:
    """``ladder_step``: "Ladder · step" of the customer's first ladder, or None."""
    positions = (
        CustomerLadderPosition.objects.filter(
            customer_id=OuterRef("pk"), ladder__active=True
        )
        .order_by("ladder__name")
        .annotate(
            label=Concat(
                "ladder__name", Value(" · "), "step__name", output_field=CharField()
            )
        )
        .values("label")[:1]
    )
    return {"ladder_step": Subquery(positions, output_field=CharField())}


def customer_panels(request, customer) -> list[Panel]:
    """The ladder positions panel: next step (upsell) and complements."""
    return [
        Panel(
            template=PANEL,
            context={
                "ladder_positions": list_customer_positions(customer_id=customer.pk)
            },
            order=20,
        )
    ]

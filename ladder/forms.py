"""Forms of the ladder pages: they validate input; services do the writes."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ladder.models import Ladder
from ladder.selectors import sellable_products


class LadderForm(forms.ModelForm):
    """Name, description and the published flag of a ladder."""

    class Meta:
        model = Ladder
        fields = ["name", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class StepForm(forms.Form):
    """A new step: its offer, and optionally name, price, flag and position."""

    product = forms.ModelChoiceField(
        label=_("Offer"), queryset=sellable_products().order_by("name")
    )
    name = forms.CharField(label=_("Step name"), max_length=120, required=False)
    price = forms.DecimalField(
        label=_("Price"),
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Empty: the product's list price."),
    )
    cross_sell_only = forms.BooleanField(label=_("Cross-sell only"), required=False)
    position = forms.IntegerField(
        label=_("Position"),
        min_value=1,
        required=False,
        help_text=_("Empty: at the top."),
    )


class StepUpdateForm(forms.Form):
    """A step's name, price and cross-sell-only flag."""

    name = forms.CharField(label=_("Step name"), max_length=120)
    price = forms.DecimalField(
        label=_("Price"), max_digits=10, decimal_places=2, min_value=0
    )
    cross_sell_only = forms.BooleanField(label=_("Cross-sell only"), required=False)
    also_counts = forms.ModelMultipleChoiceField(
        label=_("Also counts"),
        queryset=sellable_products().order_by("name"),
        required=False,
        help_text=_("Other products whose purchase places a customer on this step."),
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )


class StepMoveForm(forms.Form):
    """The new position of a step (1 is the entry step)."""

    position = forms.IntegerField(label=_("Position"), min_value=1)


class StepOfferForm(forms.Form):
    """A cross-sell complement to attach to a step."""

    product = forms.ModelChoiceField(
        label=_("Complement"), queryset=sellable_products().order_by("name")
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class ReportPeriodForm(forms.Form):
    """The period of the report's conversion figures (default: last 90 days)."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The period must start before it ends."))
        return cleaned

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        """``[start, end)`` as aware datetimes; the end day is included."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end_day = data.get("end") or today
        start_day = data.get("start") or end_day - dt.timedelta(days=90)
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(start_day, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(
            end_day + dt.timedelta(days=1), dt.time.min, tzinfo=zone
        )
        return start, end

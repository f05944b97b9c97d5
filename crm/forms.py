"""HTML forms of the core domain: input parsing and validation only."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Interaction
from crm.services.customers import CONTACT_CHANNELS
from crm.validators import reject_nul

CONTACT_KINDS = [
    (value, label)
    for value, label in Interaction.Kind.choices
    if value in CONTACT_CHANNELS
]


class ContactLogForm(forms.Form):
    """Log a call, e-mail, SMS, visit or note on the customer page."""

    kind = forms.ChoiceField(label=_("What"), choices=CONTACT_KINDS)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Interaction.Outcome.choices, required=False
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=4000,
        required=False,
        validators=[reject_nul],
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    occurred_at = forms.DateTimeField(
        label=_("When (empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )

    def clean_occurred_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("occurred_at")
        if value is not None and value > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("The contact cannot be in the future."))
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == "note" and not (cleaned.get("notes") or "").strip():
            self.add_error("notes", _("Write the note."))
        return cleaned

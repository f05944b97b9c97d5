"""Forms of the campaign pages: the segment editor, the campaign, its variants.

The segment editor is a flat form, one optional group of fields per kind of
rule; ``SegmentForm.definition()`` turns the filled groups into the rule tree
that ``campaigns.segments`` validates and evaluates (``match`` all or any).
Definitions too rich for the flat form (nested groups, negations, two rules
of a kind, made through the API) are shown read-only: ``definition_to_initial``
returns None for them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from campaigns.models import CAMPAIGN_SETTINGS, Campaign, OfferCode, Segment, Variant
from campaigns.segments import validate_definition
from crm.models import Category, Channel, Customer, Product, Store
from ladder.models import Ladder, Step

MARKETING_CHANNELS = [
    (Channel.EMAIL.value, Channel.EMAIL.label),
    (Channel.SMS.value, Channel.SMS.label),
    (Channel.PHONE.value, Channel.PHONE.label),
]
LADDER_STATES = [
    ("", _("any")),
    ("on", _("is on the step")),
    ("not_yet_on", _("has not yet reached the step")),
    ("reached", _("has reached the step or a higher one")),
    ("stalled", _("is stalled (on the step or ladder)")),
]
PROSPECT_CHOICES = [
    ("", _("prospects and buyers")),
    ("yes", _("prospects only (no purchase yet)")),
    ("no", _("buyers only")),
]


def _number(label, *, decimals: bool = False, max_value=None, help_text=""):
    field_class = forms.DecimalField if decimals else forms.IntegerField
    kwargs: dict[str, Any] = {
        "label": label,
        "required": False,
        "min_value": 0,
        "help_text": help_text,
    }
    if max_value is not None:
        kwargs["max_value"] = max_value
    if decimals:
        kwargs["decimal_places"] = 2
        kwargs["max_digits"] = 12
    return field_class(**kwargs)


class ReadOnceChoices(forms.models.ModelChoiceIterator):
    """A select's options read in one query, however often they are used.

    Django's iterator counts the rows (``len``, e.g. a template ``{% for %}``)
    and reads them again on every loop; a page pays that per drop-down
    (PERF-01). The options are read once and kept for the form's life; the
    field still validates a choice against its queryset.
    """

    def __init__(self, field):
        super().__init__(field)
        self._options = None

    def __iter__(self):
        if self._options is None:
            self._options = list(super().__iter__())
        return iter(self._options)

    def __len__(self):
        return len(list(iter(self)))

    def __bool__(self):
        return bool(len(self))


class ProductSkuField(forms.CharField):
    """A product typed by its SKU (a select of thousands of products is unusable)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "off")

    def prepare_value(self, value):
        if isinstance(value, Product):
            return value.sku
        if isinstance(value, int):
            return (
                Product.objects.filter(pk=value).values_list("sku", flat=True).first()
            )
        return value

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        product = Product.objects.filter(sku__iexact=value.strip()).first()
        if product is None:
            raise ValidationError(
                _("No product has the SKU “%(sku)s”."), params={"sku": value}
            )
        return product


class SegmentForm(forms.Form):
    """Name and the filters of a segment; ``definition()`` builds the rule tree."""

    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    match = forms.ChoiceField(
        label=_("Customers must match"),
        choices=[("all", _("every filter")), ("any", _("at least one filter"))],
        initial="all",
    )
    # Distance
    distance_store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.none(), required=False
    )
    distance_max_km = _number(_("Within (km)"), decimals=True, max_value=20000)
    distance_min_km = _number(_("At least (km)"), decimals=True, max_value=20000)
    # Age, gender, home store
    age_min = _number(_("Age from"), max_value=120)
    age_max = _number(_("Age to"), max_value=120)
    genders = forms.MultipleChoiceField(
        label=_("Gender"),
        choices=Customer.Gender.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    home_stores = forms.ModelMultipleChoiceField(
        label=_("Home store"),
        queryset=Store.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # Ladder
    ladder_state = forms.ChoiceField(
        label=_("Ladder position"), choices=LADDER_STATES, required=False
    )
    ladder_step = forms.ModelChoiceField(
        label=_("Step"), queryset=Step.objects.none(), required=False
    )
    ladder = forms.ModelChoiceField(
        label=_("Ladder (for stalled customers)"),
        queryset=Ladder.objects.none(),
        required=False,
    )
    # Bought / not bought
    bought_product = ProductSkuField(label=_("Bought the product (SKU)"))
    bought_category = forms.ModelChoiceField(
        label=_("Bought in the category"),
        queryset=Category.objects.none(),
        required=False,
    )
    bought_within_days = _number(_("Bought within (days)"), max_value=36500)
    not_bought_product = ProductSkuField(label=_("Did not buy the product (SKU)"))
    not_bought_category = forms.ModelChoiceField(
        label=_("Did not buy in the category"),
        queryset=Category.objects.none(),
        required=False,
    )
    not_bought_within_days = _number(_("Did not buy within (days)"), max_value=36500)
    # Recency, frequency, spend, returns
    recency_min_days = _number(_("Last purchase at least (days ago)"), max_value=36500)
    recency_max_days = _number(_("Last purchase at most (days ago)"), max_value=36500)
    frequency_min = _number(_("Orders, at least"))
    frequency_max = _number(_("Orders, at most"))
    frequency_within_days = _number(_("Orders counted over (days)"), max_value=36500)
    spend_min = _number(_("Spend, at least"), decimals=True)
    spend_max = _number(_("Spend, at most"), decimals=True)
    spend_within_days = _number(_("Spend counted over (days)"), max_value=36500)
    max_return_rate = _number(
        _("Return rate at most (%)"),
        decimals=True,
        max_value=100,
        help_text=_("From the current suggestion run's customer scores."),
    )
    # Consent, prospects, look-alikes
    consent_channel = forms.ChoiceField(
        label=_("Consent on"),
        choices=[("", _("no filter"))] + MARKETING_CHANNELS,
        required=False,
        help_text=_("A campaign applies its own channel's consent at launch anyway."),
    )
    prospects = forms.ChoiceField(
        label=_("Prospects"), choices=PROSPECT_CHOICES, required=False
    )
    lookalike_segment = forms.ModelChoiceField(
        label=_("Look-alikes of the segment"),
        queryset=Segment.objects.none(),
        required=False,
    )
    lookalike_limit = _number(_("At most (customers)"), max_value=10000)
    lookalike_min_similarity = _number(
        _("Minimum similarity (0–1)"), decimals=True, max_value=1
    )

    FIELDSETS = (
        (_("Where"), ("distance_store", "distance_max_km", "distance_min_km")),
        (_("Who"), ("age_min", "age_max", "genders", "home_stores")),
        (_("Value ladder"), ("ladder_state", "ladder_step", "ladder")),
        (
            _("Purchases"),
            (
                "bought_product",
                "bought_category",
                "bought_within_days",
                "not_bought_product",
                "not_bought_category",
                "not_bought_within_days",
            ),
        ),
        (
            _("Recency, frequency, spend"),
            (
                "recency_min_days",
                "recency_max_days",
                "frequency_min",
                "frequency_max",
                "frequency_within_days",
                "spend_min",
                "spend_max",
                "spend_within_days",
                "max_return_rate",
            ),
        ),
        (
            _("Consent, prospects, look-alikes"),
            (
                "consent_channel",
                "prospects",
                "lookalike_segment",
                "lookalike_limit",
                "lookalike_min_similarity",
            ),
        ),
    )

    def __init__(self, *args, segment: Segment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.segment = segment
        self.fields["distance_store"].queryset = Store.objects.order_by("name")
        self.fields["home_stores"].queryset = Store.objects.order_by("name")
        self.fields["ladder_step"].queryset = Step.objects.select_related(
            "ladder"
        ).order_by("ladder__name", "position")
        self.fields["ladder_step"].label_from_instance = lambda step: (
            f"{step.ladder.name} · {step.position}. {step.name}"
        )
        self.fields["ladder"].queryset = Ladder.objects.order_by("name")
        categories = Category.objects.order_by("name")
        self.fields["bought_category"].queryset = categories
        self.fields["not_bought_category"].queryset = categories
        others = Segment.objects.order_by("name")
        if segment is not None and segment.pk:
            others = others.exclude(pk=segment.pk)
        self.fields["lookalike_segment"].queryset = others

    def fieldsets(self):
        """(legend, bound fields) per group, for the template."""
        return [
            (legend, [self[name] for name in names]) for legend, names in self.FIELDSETS
        ]

    def clean(self):
        data = super().clean()
        pairs = (
            ("distance_min_km", "distance_max_km"),
            ("age_min", "age_max"),
            ("recency_min_days", "recency_max_days"),
            ("frequency_min", "frequency_max"),
            ("spend_min", "spend_max"),
        )
        for low, high in pairs:
            lo, hi = data.get(low), data.get(high)
            if lo is not None and hi is not None and lo > hi:
                self.add_error(high, _("This is below the lower bound."))
        if (
            data.get("distance_max_km") or data.get("distance_min_km")
        ) and not data.get("distance_store"):
            self.add_error("distance_store", _("Choose the store to measure from."))
        if data.get("distance_store") and not (
            data.get("distance_max_km") or data.get("distance_min_km")
        ):
            self.add_error("distance_max_km", _("Give a distance."))
        state = data.get("ladder_state")
        if state and state != "stalled" and not data.get("ladder_step"):
            self.add_error("ladder_step", _("Choose the step."))
        if state == "stalled" and not (data.get("ladder_step") or data.get("ladder")):
            self.add_error("ladder", _("Choose a ladder or a step."))
        if not state and (data.get("ladder_step") or data.get("ladder")):
            self.add_error("ladder_state", _("Say where on the ladder."))
        for prefix in ("bought", "not_bought"):
            product, category = (
                data.get(f"{prefix}_product"),
                data.get(f"{prefix}_category"),
            )
            if product and category:
                self.add_error(
                    f"{prefix}_category", _("Choose a product or a category, not both.")
                )
            if data.get(f"{prefix}_within_days") and not (product or category):
                self.add_error(
                    f"{prefix}_product", _("Choose a product or a category.")
                )
        if (
            data.get("lookalike_limit") or data.get("lookalike_min_similarity")
        ) and not data.get("lookalike_segment"):
            self.add_error("lookalike_segment", _("Choose the group to resemble."))
        if self.errors:
            return data
        try:
            self.cleaned_definition = validate_definition(
                self.definition(), segment_id=getattr(self.segment, "pk", None)
            )
        except ValidationError as error:
            self.add_error(None, error)
        return data

    def definition(self) -> dict:
        """The rule tree of the filled groups (call after ``is_valid()``)."""
        data = self.cleaned_data
        rules: list[dict] = []

        def add(field: str, **params):
            params = {k: v for k, v in params.items() if v not in (None, "", [])}
            rules.append({"field": field, **params})

        def num(value):
            return float(value) if isinstance(value, Decimal) else value

        if data.get("distance_store"):
            add(
                "distance",
                store=data["distance_store"].pk,
                max_km=num(data.get("distance_max_km")),
                min_km=num(data.get("distance_min_km")),
            )
        if data.get("age_min") is not None or data.get("age_max") is not None:
            add("age", min=data.get("age_min"), max=data.get("age_max"))
        if data.get("genders"):
            add("gender", values=sorted(data["genders"]))
        if data.get("home_stores"):
            add("home_store", stores=sorted(store.pk for store in data["home_stores"]))
        if data.get("ladder_state"):
            add(
                "ladder_step",
                state=data["ladder_state"],
                step=getattr(data.get("ladder_step"), "pk", None),
                ladder=getattr(data.get("ladder"), "pk", None),
            )
        for prefix in ("bought", "not_bought"):
            product = data.get(f"{prefix}_product")
            category = data.get(f"{prefix}_category")
            if product or category:
                add(
                    prefix,
                    product=getattr(product, "pk", None),
                    category=getattr(category, "pk", None),
                    within_days=data.get(f"{prefix}_within_days"),
                )
        if (
            data.get("recency_min_days") is not None
            or data.get("recency_max_days") is not None
        ):
            add(
                "recency",
                min_days=data.get("recency_min_days"),
                max_days=data.get("recency_max_days"),
            )
        if (
            data.get("frequency_min") is not None
            or data.get("frequency_max") is not None
        ):
            add(
                "frequency",
                min=data.get("frequency_min"),
                max=data.get("frequency_max"),
                within_days=data.get("frequency_within_days"),
            )
        if data.get("spend_min") is not None or data.get("spend_max") is not None:
            add(
                "spend",
                min=num(data.get("spend_min")),
                max=num(data.get("spend_max")),
                within_days=data.get("spend_within_days"),
            )
        if data.get("max_return_rate") is not None:
            add("return_rate", max=float(data["max_return_rate"]) / 100)
        if data.get("consent_channel"):
            add("consent", channel=data["consent_channel"])
        if data.get("prospects"):
            add("prospect", value=data["prospects"] == "yes")
        if data.get("lookalike_segment"):
            add(
                "lookalike",
                segment=data["lookalike_segment"].pk,
                limit=data.get("lookalike_limit"),
                min_similarity=num(data.get("lookalike_min_similarity")),
            )
        return {"match": data.get("match") or "all", "rules": rules}


# rule field → {rule parameter: form field}; the inverse of ``definition()``.
_INVERSE: dict[str, dict[str, str]] = {
    "distance": {
        "store": "distance_store",
        "max_km": "distance_max_km",
        "min_km": "distance_min_km",
    },
    "age": {"min": "age_min", "max": "age_max"},
    "gender": {"values": "genders"},
    "home_store": {"stores": "home_stores"},
    "ladder_step": {"state": "ladder_state", "step": "ladder_step", "ladder": "ladder"},
    "bought": {
        "product": "bought_product",
        "category": "bought_category",
        "within_days": "bought_within_days",
    },
    "not_bought": {
        "product": "not_bought_product",
        "category": "not_bought_category",
        "within_days": "not_bought_within_days",
    },
    "recency": {"min_days": "recency_min_days", "max_days": "recency_max_days"},
    "frequency": {
        "min": "frequency_min",
        "max": "frequency_max",
        "within_days": "frequency_within_days",
    },
    "spend": {
        "min": "spend_min",
        "max": "spend_max",
        "within_days": "spend_within_days",
    },
    "return_rate": {"max": "max_return_rate"},
    "consent": {"channel": "consent_channel"},
    "prospect": {"value": "prospects"},
    "lookalike": {
        "segment": "lookalike_segment",
        "limit": "lookalike_limit",
        "min_similarity": "lookalike_min_similarity",
    },
}


def definition_to_initial(segment: Segment) -> dict | None:
    """The editor's initial values for a segment, or None if the flat form cannot hold it."""
    definition = segment.definition or {}
    initial: dict[str, Any] = {
        "name": segment.name,
        "description": segment.description,
        "match": definition.get("match", "all"),
    }
    if set(definition) - {"match", "rules"}:
        return None
    seen: set[str] = set()
    for rule in definition.get("rules", []):
        field = rule.get("field") if isinstance(rule, dict) else None
        if field not in _INVERSE or field in seen or rule.get("negate"):
            return None
        if set(rule) - set(_INVERSE[field]) - {"field"}:
            return None  # customers-based look-alikes and the like
        seen.add(field)
        for param, form_field in _INVERSE[field].items():
            if param not in rule:
                continue
            value = rule[param]
            if field == "return_rate":
                value = Decimal(str(value)) * 100
            elif field == "prospect":
                value = "yes" if value else "no"
            initial[form_field] = value
    return initial


class CampaignForm(forms.ModelForm):
    """A draft campaign's settings; the control share is entered in percent."""

    offer_product = ProductSkuField(
        label=_("Offered product (SKU)"),
        help_text=_("A product or a ladder step, not both."),
    )
    control_percent = forms.DecimalField(
        label=_("Control group (% of the audience)"),
        min_value=0,
        max_value=50,
        decimal_places=1,
        max_digits=4,
        initial=Decimal("10"),
        help_text=_("Kept aside, sent nothing: the baseline the results compare to."),
    )
    schedule_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: sending starts at launch."),
    )

    class Meta:
        model = Campaign
        # The control share is entered as control_percent (declared above).
        fields = [name for name in CAMPAIGN_SETTINGS if name != "control_share"]
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("segment", "offer_step", "store"):
            self.fields[name].iterator = ReadOnceChoices
        self.fields["segment"].queryset = Segment.objects.order_by("name")
        self.fields["offer_step"].queryset = Step.objects.select_related(
            "ladder"
        ).order_by("ladder__name", "position")
        self.fields["offer_step"].label_from_instance = lambda step: (
            f"{step.ladder.name} · {step.position}. {step.name}"
        )
        self.fields["store"].queryset = Store.objects.order_by("name")
        for name, low, high in (
            ("discount_percent", 0, 100),
            ("attribution_window_days", 1, 365),
        ):
            field = self.fields[name]
            field.validators += [MinValueValidator(low), MaxValueValidator(high)]
            field.widget.attrs.update({"min": low, "max": high})
        if self.instance.pk:
            self.initial.setdefault(
                "control_percent",
                (Decimal(self.instance.control_share or 0) * 100).quantize(
                    Decimal("0.1")
                ),
            )

    def clean(self):
        data = super().clean()
        if data.get("offer_product") and data.get("offer_step"):
            self.add_error(
                "offer_step", _("Offer a product or a ladder step, not both.")
            )
        goal = data.get("goal")
        if (
            goal in (Campaign.Goal.UPSELL, Campaign.Goal.CROSS_SELL)
            and not data.get("offer_product")
            and not data.get("offer_step")
        ):
            self.add_error(
                "offer_product",
                _(
                    "An upsell or cross-sell campaign needs an offer: a product or a step."
                ),
            )
        start, end = data.get("quiet_hours_start"), data.get("quiet_hours_end")
        if (start is None) != (end is None):
            self.add_error(
                "quiet_hours_end", _("Give both ends of the quiet hours, or neither.")
            )
        if data.get("control_percent") is not None:
            data["control_share"] = (data["control_percent"] / 100).quantize(
                Decimal("0.001")
            )
        return data

    def service_arguments(self) -> dict:
        """The cleaned values as keyword arguments of the campaign services."""
        data = dict(self.cleaned_data)
        data.pop("control_percent", None)
        return data


class VariantForm(forms.ModelForm):
    """One message variant; the subject is for e-mail only."""

    class Meta:
        model = Variant
        fields = ["label", "name", "subject", "body", "weight"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, campaign: Campaign | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["weight"].validators += [
            MinValueValidator(1),
            MaxValueValidator(100),
        ]
        self.fields["weight"].widget.attrs.update({"min": 1, "max": 100})
        self.fields["label"].help_text = _("A short tag, e.g. A or B.")
        if campaign is not None and campaign.channel != Campaign.Channel.EMAIL:
            self.fields["subject"].widget = forms.HiddenInput()
        if campaign is not None and campaign.channel == Campaign.Channel.SMS:
            # Parts and cost are recomputed by the server as the body is typed.
            self.fields["body"].widget.attrs.update(
                {
                    "hx-get": reverse("campaigns:sms_meter", args=[campaign.pk]),
                    "hx-trigger": "input changed delay:400ms",
                    "hx-target": "next .sms-meter",
                    # The variant form swaps outerHTML; attributes inherit.
                    "hx-swap": "innerHTML",
                    "hx-params": "body",
                }
            )

    def validate_unique(self):
        # The campaign is not a form field; the service checks the label.
        pass


class CallOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=())
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea
    )

    def __init__(self, *args, outcomes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = list(outcomes)


class OfferCodeForm(forms.Form):
    """A code quoted at the till: the campaign's own, or a partner's."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=OfferCode.Kind.choices, initial=OfferCode.Kind.CAMPAIGN
    )
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        required=False,
        help_text=_("Empty: a random code is drawn."),
    )
    partner_name = forms.CharField(
        label=_("Partner or influencer"), max_length=120, required=False
    )
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
        max_digits=5,
        help_text=_("Empty: the campaign's discount."),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("kind") == OfferCode.Kind.PARTNER
            and not (data.get("partner_name") or "").strip()
        ):
            self.add_error("partner_name", _("Name the partner or influencer."))
        return data

"""Money, percentages and counts read naturally in Italian and English."""

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.utils import translation


def render(source: str, **context) -> str:
    return Template("{% load crm_format %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "€1,234.50"), ("it", "1.234,50\u00a0€")],
)
def test_money_follows_the_active_language(language, expected):
    with translation.override(language):
        assert render("{{ v|money }}", v="1234.5") == expected


def test_money_without_cents_and_negative_amounts():
    with translation.override("en"):
        assert render("{{ v|money:0 }}", v=1234567) == "€1,234,567"
        assert render("{{ v|money }}", v=-3) == "-€3.00"


@override_settings(CURRENCY="GBP")
def test_money_uses_the_configured_currency():
    with translation.override("en"):
        assert render("{{ v|money }}", v=10) == "£10.00"


def test_missing_values_show_a_dash_not_zero():
    with translation.override("en"):
        assert render("{{ v|money }} {{ v|percent }} {{ v|count }}", v=None) == "– – –"


def test_percent_and_count_in_italian():
    with translation.override("it"):
        assert (
            render("{{ r|percent }} {{ n|count }}", r=0.125, n=12345) == "12,5% 12.345"
        )

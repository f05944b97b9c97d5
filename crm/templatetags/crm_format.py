"""Money, percentages and counts in the reader's locale.

Django localises numbers (decimal and thousands separators) but has no
currency formatting; the symbol's side and spacing follow the active
language here (Italian ``1.234,50 €``, English ``€1,234.50``) and the
currency code comes from ``settings.CURRENCY`` (EUR by default).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils import formats
from django.utils.translation import get_language

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}
# Languages that write the symbol after the amount, separated by a space.
SYMBOL_AFTER = {"it", "fr", "de", "es"}


def _as_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_money(value, decimals: int = 2, currency: str | None = None) -> str:
    amount = _as_decimal(value)
    if amount is None:
        return "–"
    code = currency or settings.CURRENCY
    symbol = CURRENCY_SYMBOLS.get(code, code)
    number = formats.number_format(
        abs(amount), decimal_pos=decimals, use_l10n=True, force_grouping=True
    )
    sign = "-" if amount < 0 else ""
    language = (get_language() or "en").split("-")[0]
    if language in SYMBOL_AFTER:
        return f"{sign}{number}\u00a0{symbol}"
    return f"{sign}{symbol}{number}"


@register.filter
def money(value, decimals: int = 2) -> str:
    """``{{ amount|money }}`` → ``€1,234.50`` / ``1.234,50 €``; ``|money:0`` drops cents."""
    return format_money(value, decimals=int(decimals))


@register.filter
def percent(value, decimals: int = 1) -> str:
    """A ratio (0.125) as a localised percentage (``12.5%`` / ``12,5%``)."""
    ratio = _as_decimal(value)
    if ratio is None:
        return "–"
    number = formats.number_format(
        ratio * 100, decimal_pos=int(decimals), use_l10n=True
    )
    return f"{number}%"


@register.filter
def count(value) -> str:
    """An integer with the locale's thousands separator."""
    amount = _as_decimal(value)
    if amount is None:
        return "–"
    return formats.number_format(int(amount), use_l10n=True, force_grouping=True)

"""SMS length and encoding by GSM 03.38 (3GPP TS 23.038), MKT-04.

Pure functions, no Django state except ``check_sms_length`` reading the
configured maximum. A text made only of the GSM-7 basic set costs one septet
per character, the extension characters two (escape + character); 160
septets fit one SMS, 153 per part once it is split (the rest is the
concatenation header). Any other character makes the whole text UCS-2:
70 UTF-16 code units alone, 67 per part; an emoji outside the BMP costs two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

GSM7 = "GSM-7"
UCS2 = "UCS-2"

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[]~|€\f")

LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}

# Typographic characters a word processor puts in, and their GSM-7 twins.
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


@dataclass(frozen=True)
class SmsInfo:
    """How a text travels as SMS: encoding, cost in units and parts."""

    encoding: str
    chars: int
    units: int
    segments: int
    per_segment: int


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` exists in GSM-7 (basic or extension)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_info(text: str) -> SmsInfo:
    """Encoding, units and segment count of ``text``; an empty text is 0 parts."""
    if is_gsm7(text):
        encoding = GSM7
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
    else:
        encoding = UCS2
        units = len(text.encode("utf-16-le")) // 2
    single, multi = LIMITS[encoding]
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = math.ceil(units / multi)
    return SmsInfo(
        encoding=encoding,
        chars=len(text),
        units=units,
        segments=segments,
        per_segment=single if segments <= 1 else multi,
    )


def count_segments(text: str) -> int:
    """Number of SMS parts ``text`` needs."""
    return sms_info(text).segments


def normalize_quotes(text: str) -> str:
    """Typographic quotes, dashes and ellipsis made GSM-7; used only on opt-in."""
    return text.translate(_QUOTES)


def check_sms_length(text: str, *, max_segments: int | None = None) -> SmsInfo:
    """``sms_info(text)``, or ValidationError past the configured maximum."""
    if max_segments is None:
        max_segments = settings.CAMPAIGNS_SMS_MAX_SEGMENTS
    info = sms_info(text)
    if info.segments > max_segments:
        raise ValidationError(
            _(
                "This SMS needs %(segments)s parts (%(encoding)s); "
                "the maximum is %(maximum)s."
            )
            % {
                "segments": info.segments,
                "encoding": info.encoding,
                "maximum": max_segments,
            },
            code="sms_too_long",
        )
    return info

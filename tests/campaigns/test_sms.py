"""SMS segment calculator (MKT-04): table cases and properties."""

import math

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from campaigns.sms import (
    GSM7,
    GSM7_BASIC,
    GSM7_EXTENSION,
    LIMITS,
    UCS2,
    check_sms_length,
    count_segments,
    normalize_quotes,
    sms_info,
)


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", GSM7, 0),
        ("a" * 160, GSM7, 1),
        ("a" * 161, GSM7, 2),
        ("a" * 306, GSM7, 2),
        ("a" * 307, GSM7, 3),
        ("€" * 80, GSM7, 1),
        ("€" + "a" * 159, GSM7, 2),
        ("{}[]~|^\\", GSM7, 1),
        ("a" * 69 + "’", UCS2, 1),
        ("a" * 70 + "’", UCS2, 2),
        ("’" * 134, UCS2, 2),
        ("’" * 135, UCS2, 3),
        ("😀" * 35, UCS2, 1),
        ("😀" * 36, UCS2, 2),
    ],
)
def test_segment_table(text, encoding, segments):
    info = sms_info(text)
    assert (info.encoding, info.segments) == (encoding, segments)


def test_extension_characters_count_two_units():
    assert sms_info("€").units == 2
    assert sms_info("\f").units == 2
    assert sms_info("é").units == 1


def test_typographic_quote_switches_to_ucs2_unless_normalised():
    text = "Ciao, it’s “yours”…"
    assert sms_info(text).encoding == UCS2
    assert sms_info(normalize_quotes(text)).encoding == GSM7


def test_over_the_maximum_is_refused():
    assert check_sms_length("a" * 459, max_segments=3).segments == 3
    with pytest.raises(ValidationError):
        check_sms_length("a" * 460, max_segments=3)


gsm_text = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700)
any_text = st.text(max_size=500)


@given(text=any_text, extra=any_text)
def test_segments_never_shrink_when_appending(text, extra):
    assert count_segments(text + extra) >= count_segments(text)


@given(text=st.one_of(gsm_text, any_text))
def test_split_messages_are_ceil_of_units_per_part(text):
    info = sms_info(text)
    single, multi = LIMITS[info.encoding]
    if info.units > single:
        assert info.segments == math.ceil(info.units / multi)
    else:
        assert info.segments == (1 if info.units else 0)


@given(text=gsm_text)
def test_gsm_text_stays_gsm(text):
    assert sms_info(text).encoding == GSM7

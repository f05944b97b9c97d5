"""SEC-12: validators accept or refuse any text with a clear error, never crash."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from crm.validators import (
    normalize_email,
    normalize_phone,
    reject_nul,
    validate_birth_date,
)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
any_text = st.text(max_size=300) | st.text(
    alphabet=st.characters(), min_size=1000, max_size=3000
)


@given(any_text)
def test_phone_is_e164_or_refused(value):
    try:
        phone = normalize_phone(value)
    except ValidationError as error:
        assert error.messages and all(message for message in error.messages)
    else:
        assert phone == "" or E164.match(phone)
        assert "\x00" not in phone


@given(any_text)
def test_email_is_lowercase_valid_or_refused(value):
    try:
        email = normalize_email(value)
    except ValidationError:
        return
    assert email == email.strip().lower()
    assert email == "" or "@" in email
    assert "\x00" not in email


@given(st.text(max_size=50))
def test_nul_is_always_refused(value):
    if "\x00" in value:
        with pytest.raises(ValidationError):
            reject_nul(value)
    else:
        assert reject_nul(value) == value


@given(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2200, 1, 1)))
def test_birth_dates_between_today_and_120_years_ago(value):
    today = dt.date(2026, 11, 23)
    plausible = value <= today and today.year - value.year <= 120
    try:
        validate_birth_date(value, today=today)
    except ValidationError:
        assert not plausible
    else:
        assert plausible


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("02 1234 5678", "+390212345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
    ],
)
def test_phone_examples(raw, expected):
    assert normalize_phone(raw) == expected

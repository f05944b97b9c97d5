"""Public opt-out endpoints: signed links, RFC 8058 one-click, SMS STOP (PRIV-02, SEC-10)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.sending.tokens import make_unsubscribe_token
from crm.models import ChannelConsent, ConsentEvent, Suppression
from tests.campaigns.sending_support import make_customers

pytestmark = pytest.mark.django_db


def consent(customer, channel="email") -> bool:
    return ChannelConsent.objects.get(customer=customer, channel=channel).granted


@pytest.fixture
def customer():
    return make_customers(1)[0]


@pytest.fixture
def token(customer):
    return make_unsubscribe_token(customer_id=customer.pk, channel="email", send_id=7)


def test_get_shows_a_confirmation_and_changes_nothing(customer, token):
    client = Client()
    for name in ("unsubscribe", "unsubscribe_one_click"):
        response = client.get(reverse(f"campaigns_public:{name}", args=[token]))
        assert response.status_code == 200
        assert b'method="post"' in response.content
        assert b"Log out" not in response.content  # no staff chrome for the public
    assert consent(customer)
    assert not ConsentEvent.objects.exists()


def test_confirming_the_form_withdraws_with_evidence(customer, token):
    client = Client(enforce_csrf_checks=True)
    url = reverse("campaigns_public:unsubscribe", args=[token])
    # without the page's CSRF token the POST is refused
    assert client.post(url).status_code == 403
    assert consent(customer)
    page = client.get(url)
    csrf = page.context["csrf_token"]
    response = client.post(url, {"csrfmiddlewaretoken": str(csrf)})
    assert response.status_code == 200
    assert not consent(customer)
    event = ConsentEvent.objects.get(customer=customer)
    assert (event.action, event.source) == ("withdrawn", "unsubscribe-link:7")
    assert Suppression.objects.is_suppressed(channel="email", contact=customer.email)
    # a second click changes nothing more
    client.post(url, {"csrfmiddlewaretoken": str(csrf)})
    assert ConsentEvent.objects.filter(customer=customer).count() == 1


def test_one_click_post_needs_no_login_nor_csrf(customer, token):
    client = Client(enforce_csrf_checks=True)
    url = reverse("campaigns_public:unsubscribe_one_click", args=[token])
    response = client.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not consent(customer)


def test_one_click_without_the_rfc_body_changes_nothing(customer, token):
    url = reverse("campaigns_public:unsubscribe_one_click", args=[token])
    assert Client().post(url, {"x": "y"}).status_code == 400
    assert consent(customer)


@pytest.mark.parametrize("bad", ["nonsense", "abc:def:ghi"])
def test_altered_or_forged_tokens_are_refused(customer, token, bad):
    client = Client()
    for candidate in (bad, token[:-2] + "xx"):
        url = reverse("campaigns_public:unsubscribe_one_click", args=[candidate])
        response = client.post(
            url,
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 400
        page = client.get(reverse("campaigns_public:unsubscribe", args=[candidate]))
        assert page.status_code == 400
    assert consent(customer)


def test_a_token_for_another_purpose_is_refused(customer):
    from django.core import signing

    forged = signing.dumps({"c": customer.pk, "ch": "email", "s": 1}, salt="other")
    url = reverse("campaigns_public:unsubscribe_one_click", args=[forged])
    response = Client().post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert consent(customer)


def test_sms_stop_webhook_withdraws_sms_consent_by_phone(settings):
    settings.CAMPAIGNS_SMS_INBOUND_SECRET = "s3cret-gateway"
    customer = make_customers(1, channel="sms")[0]
    other = make_customers(1, channel="sms")[0]
    url = reverse("campaigns_public:sms_inbound")
    client = Client(enforce_csrf_checks=True)
    body = {"from": customer.phone, "text": "stop please"}
    # wrong or missing secret
    assert client.post(url, body, content_type="application/json").status_code in (
        401,
        403,
    )
    response = client.post(
        url,
        body,
        content_type="application/json",
        headers={"Authorization": "Bearer wrong"},
    )
    assert response.status_code in (401, 403)
    assert consent(customer, "sms")
    # right secret
    response = client.post(
        url,
        body,
        content_type="application/json",
        headers={"Authorization": "Bearer s3cret-gateway"},
    )
    assert response.status_code == 200 and response.json() == {"stopped": 1}
    assert not consent(customer, "sms")
    assert consent(other, "sms")
    assert ConsentEvent.objects.get(customer=customer).source == "sms-stop"
    # an ordinary reply is not an opt-out; a malformed number is a 400
    response = client.post(
        url,
        {"from": other.phone, "text": "thanks!"},
        content_type="application/json",
        headers={"Authorization": "Bearer s3cret-gateway"},
    )
    assert response.json() == {"stopped": 0} and consent(other, "sms")
    response = client.post(
        url,
        {"from": "not a phone", "text": "STOP"},
        content_type="application/json",
        headers={"Authorization": "Bearer s3cret-gateway"},
    )
    assert response.status_code == 400


def test_sms_webhook_is_closed_without_a_configured_secret(settings):
    settings.CAMPAIGNS_SMS_INBOUND_SECRET = ""
    response = Client().post(
        reverse("campaigns_public:sms_inbound"),
        {"from": "+393331234567", "text": "STOP"},
        content_type="application/json",
        headers={"Authorization": "Bearer "},
    )
    assert response.status_code in (401, 403)

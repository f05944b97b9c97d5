"""SEC-17: a 500 shows nothing internal, and its log line carries the request id."""

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.urls("tests.crm.urls_with_error")
def test_a_crash_is_logged_with_the_request_id_the_user_sees(manager, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Traceback" not in body and "SELECT" not in body
    assert "SECRET_KEY" not in body and "kaboom-secret" not in body
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    crash = [r for r in caplog.records if r.name == "django.request"]
    assert crash, "the crash was not logged"
    assert crash[0].request_id == request_id
    assert crash[0].exc_info is not None  # the traceback goes to the log only


def test_a_safe_incoming_request_id_is_kept_and_an_unsafe_one_replaced(manager):
    client = Client()
    client.force_login(manager)
    kept = client.get("/", headers={"X-Request-ID": "lb-0123456789abcdef"})
    assert kept["X-Request-ID"] == "lb-0123456789abcdef"
    replaced = client.get("/", headers={"X-Request-ID": "evil\nINFO forged line"})
    assert replaced["X-Request-ID"] != "evil\nINFO forged line"
    assert len(replaced["X-Request-ID"]) == 32


def test_the_log_format_prints_the_request_id(settings):
    config = settings.LOGGING
    assert "%(request_id)s" in config["formatters"]["plain"]["format"]
    assert "request_id" in config["handlers"]["console"]["filters"]

"""SMS gateway backends: the file default and an HTTP gateway on a real local server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from campaigns.backends import (
    PermanentSendError,
    SmsMessage,
    TransientSendError,
    get_sms_backend,
)
from campaigns.backends.file import FileSmsBackend
from campaigns.backends.http import HttpSmsBackend
from campaigns.models import Send
from campaigns.sending import services
from crm.models import Channel
from tests.campaigns import sending_support
from tests.campaigns.sending_support import make_campaign, make_customers

# Fixtures shared by the sending tests.
no_quiet_hours = sending_support.no_quiet_hours


class Gateway(BaseHTTPRequestHandler):
    """Answers according to ``server.mode``; records each request."""

    def do_POST(self):  # noqa: N802 - http.server API
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        self.server.requests.append((dict(self.headers), body))
        mode = self.server.mode
        if mode == "slow":
            time.sleep(3)
        status = {"ok": 200, "slow": 200, "busy": 503, "limit": 429, "bad": 400}[mode]
        payload = json.dumps({"id": f"gw-{body['reference']}"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.requests = []
    server.mode = "ok"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/messages"
    yield server
    server.shutdown()
    server.server_close()


def message(send_id=41):
    return SmsMessage(send_id=send_id, to="+393331234567", body="Ciao", sender="Shop")


def test_http_backend_posts_json_with_idempotency_key(gateway):
    backend = HttpSmsBackend(url=gateway.url, token="tkn", timeout=(1, 2))
    assert backend.send(message()) == "gw-41"
    headers, body = gateway.requests[0]
    assert headers["Idempotency-Key"] == "send-41"
    assert headers["Authorization"] == "Bearer tkn"
    assert body == {
        "to": "+393331234567",
        "from": "Shop",
        "text": "Ciao",
        "reference": "41",
    }


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("busy", TransientSendError),
        ("limit", TransientSendError),
        ("bad", PermanentSendError),
    ],
)
def test_http_backend_sorts_errors(gateway, mode, error):
    gateway.mode = mode
    with pytest.raises(error):
        HttpSmsBackend(url=gateway.url, token="", timeout=(1, 2)).send(message())


def test_http_backend_read_timeout_is_transient(gateway):
    gateway.mode = "slow"
    started = time.monotonic()
    with pytest.raises(TransientSendError):
        HttpSmsBackend(url=gateway.url, token="", timeout=(1, 0.5)).send(message())
    assert time.monotonic() - started < 2


def test_http_backend_refused_connection_is_transient():
    with pytest.raises(TransientSendError):
        HttpSmsBackend(url="http://127.0.0.1:9/x", token="", timeout=(0.5, 0.5)).send(
            message()
        )


def test_file_backend_writes_one_json_line_per_message(tmp_path):
    backend = FileSmsBackend(directory=tmp_path)
    backend.send(message(1))
    backend.send(message(2))
    lines = backend.path_for_today().read_text().splitlines()
    assert [json.loads(line)["send_id"] for line in lines] == [1, 2]


@pytest.mark.django_db
@pytest.mark.usefixtures("no_quiet_hours")
def test_an_sms_campaign_through_the_configured_gateway(
    gateway, settings, django_capture_on_commit_callbacks
):

    settings.CAMPAIGNS_SMS_BACKEND = "campaigns.backends.http.HttpSmsBackend"
    settings.CAMPAIGNS_SMS_GATEWAY_URL = gateway.url
    assert isinstance(get_sms_backend(), HttpSmsBackend)
    campaign = make_campaign(make_customers(3, channel=Channel.SMS), channel="sms")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.queue_sends(campaign)
    assert len(gateway.requests) == 3
    texts = [body["text"] for _headers, body in gateway.requests]
    assert all(text.endswith("Reply STOP to opt out") for text in texts)
    sends = Send.objects.filter(campaign=campaign)
    assert {s.provider_message_id for s in sends} == {f"gw-{s.pk}" for s in sends}

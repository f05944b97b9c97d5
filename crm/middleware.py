"""Cross-cutting HTTP middleware: request ids (SEC-17) and no-store caching (SEC-02).

Both apply to every view by default, so a page added later is covered without
anyone remembering a decorator.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is reused only when it cannot smuggle anything into a log line.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_current_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    """The id of the request being served in this context, or "-" outside one."""
    return _current_request_id.get()


class RequestIdMiddleware:
    """Give every request an id, echo it in ``X-Request-ID`` and in every log line.

    The 500 page shows nothing internal (SEC-17); the id in the response header
    is what a user quotes to support, and the same id is on the logged traceback.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        install_request_id_on_log_records()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def install_request_id_on_log_records() -> None:
    """Stamp ``request_id`` on every log record when it is created.

    A handler filter alone only reaches the handlers configured here; the
    record factory also covers Sentry, pytest's caplog and any handler added
    later. Installing twice is harmless.
    """
    factory = logging.getLogRecordFactory()
    if getattr(factory, "adds_request_id", False):
        return

    def record_with_request_id(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    record_with_request_id.adds_request_id = True
    logging.setLogRecordFactory(record_with_request_id)


class RequestIdLogFilter(logging.Filter):
    """Add ``record.request_id`` so formatters can print ``%(request_id)s``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class NoStoreMiddleware:
    """Mark every dynamic response ``Cache-Control: no-store`` (SEC-02, ASVS 14.3.2).

    Deny by default rather than a list of PII pages: nearly every page and API
    answer of a CRM names customers, and a list would miss the next page
    added. Static files never reach this middleware (WhiteNoise answers them
    earlier in the chain), so they keep their long cache lifetimes. A view
    that really serves shareable content opts out by setting
    ``Cache-Control: public`` itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        cache_control = response.get("Cache-Control", "")
        if "public" not in cache_control and "no-store" not in cache_control:
            add_never_cache_headers(response)
        return response

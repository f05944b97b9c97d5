"""API errors: DRF's handler, plus a generic 500 body with no internals (SEC-17)."""

import logging

from django.db import DatabaseError, IntegrityError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    """Known errors keep DRF's shape; an integrity clash is a 400; the rest a 500.

    A 500 body names nothing but a request reference, so no traceback, SQL or
    setting reaches a client; the full error goes to the log.
    """
    response = exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, IntegrityError):
        return Response(
            {"detail": "The request conflicts with existing data."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    request = context.get("request")
    logger.exception(
        "Unhandled API error on %s", getattr(request, "path", "?"), exc_info=exc
    )
    if isinstance(exc, DatabaseError):
        detail = "The database could not complete the request."
    else:
        detail = "Internal error."
    return Response({"detail": detail}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

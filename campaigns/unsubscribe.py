"""Public opt-out endpoints: no login, authenticated by a signed token or secret.

* ``GET /u/<token>/`` shows a confirmation page; GET never changes anything
  (mail scanners follow links, RFC 8058 §1).
* ``POST /u/<token>/`` (the page's form, CSRF-protected) withdraws consent.
* ``POST /u/<token>/one-click/`` with body ``List-Unsubscribe=One-Click`` is
  the RFC 8058 one-click target named in the ``List-Unsubscribe`` header. The
  mail provider posts it without cookies, so it is the one csrf_exempt view
  of the project (SEC-10); the signed token is its authentication.
* ``POST /u/sms/inbound/`` is the SMS gateway's webhook for inbound STOP
  messages, authenticated by a shared secret.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.sending.optout import (
    UNSUBSCRIBE_SOURCE,
    handle_sms_stop,
    is_stop_message,
    withdraw_channel_consent,
)
from campaigns.sending.tokens import UnsubscribeToken, read_unsubscribe_token
from crm.models import Channel

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/public/unsubscribe_invalid.html", status=400)


def _token_data(token: str) -> UnsubscribeToken | None:
    """The token's content if it is genuine and names a known channel."""
    data = read_unsubscribe_token(token)
    if data is None or data.channel not in Channel.values:
        return None
    return data


def _confirm_page(request: HttpRequest, token: str, data: UnsubscribeToken):
    return render(
        request,
        "campaigns/public/unsubscribe_confirm.html",
        {"token": token, "channel_label": Channel(data.channel).label},
    )


@method_decorator(login_not_required, name="dispatch")
class UnsubscribeView(View):
    """Confirmation page (GET) and the confirmed withdrawal (POST, with CSRF)."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        data = _token_data(token)
        if data is None:
            return _invalid(request)
        return _confirm_page(request, token, data)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        data = _token_data(token)
        if data is None:
            return _invalid(request)
        withdraw_channel_consent(
            customer_id=data.customer_id,
            channel=data.channel,
            source=UNSUBSCRIBE_SOURCE,
            send_id=data.send_id,
        )
        return render(
            request,
            "campaigns/public/unsubscribe_done.html",
            {"channel_label": Channel(data.channel).label},
        )


@method_decorator(login_not_required, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
class OneClickUnsubscribeView(View):
    """RFC 8058 one-click POST; a GET (a person or a scanner) only shows the page."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        data = _token_data(token)
        if data is None:
            return _invalid(request)
        return _confirm_page(request, token, data)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        data = _token_data(token)
        if data is None:
            return HttpResponse("invalid link", status=400, content_type="text/plain")
        if request.POST.get("List-Unsubscribe") != "One-Click":
            return HttpResponse(
                f"expected body {ONE_CLICK_BODY}",
                status=400,
                content_type="text/plain",
            )
        withdraw_channel_consent(
            customer_id=data.customer_id,
            channel=data.channel,
            source=UNSUBSCRIBE_SOURCE,
            send_id=data.send_id,
        )
        return HttpResponse("unsubscribed", content_type="text/plain")


class HasGatewaySecret(BasePermission):
    """The request carries ``Authorization: Bearer <LADDER_SMS_INBOUND_SECRET>``."""

    def has_permission(self, request, view) -> bool:
        secret = settings.CAMPAIGNS_SMS_INBOUND_SECRET
        if not secret:
            return False
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), secret.encode())


class InboundSmsSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=1600, allow_blank=True)

    def get_fields(self):
        # "from" (the sender's number) is a Python keyword, so not a class attribute.
        fields = super().get_fields()
        fields["from"] = serializers.CharField(max_length=32)
        return fields


@method_decorator(login_not_required, name="dispatch")
class InboundSmsView(APIView):
    """Webhook of the SMS gateway: a STOP reply withdraws SMS consent."""

    authentication_classes: list = []
    permission_classes = [HasGatewaySecret]
    throttle_classes: list = []
    serializer_class = InboundSmsSerializer

    @extend_schema(
        request=InboundSmsSerializer,
        responses={
            200: inline_serializer(
                "InboundSmsResult", {"stopped": serializers.IntegerField()}
            )
        },
        auth=[],
    )
    def post(self, request) -> Response:
        serializer = InboundSmsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not is_stop_message(data["text"]):
            return Response({"stopped": 0}, status=status.HTTP_200_OK)
        try:
            found = handle_sms_stop(phone=data["from"])
        except ValidationError as exc:
            return Response({"from": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"stopped": found}, status=status.HTTP_200_OK)

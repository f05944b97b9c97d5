"""The login form with the brute-force lockout (SEC-05)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from crm.models import LoginAttempt
from crm.services.auth import client_ip, record_login_attempt, reserve_login_attempt


class LockoutAuthenticationForm(AuthenticationForm):
    """Django's login form, counting each attempt before the password is checked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _(
            "Too many failed attempts. For your security, logging in is blocked "
            "for up to %(minutes)s minutes. Try again later or ask a manager."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password")
        if not username or password is None:
            return super().clean()
        ticket = reserve_login_attempt(
            username=username, ip_address=client_ip(self.request)
        )
        user_agent = self.request.headers.get("User-Agent", "")
        if not ticket.allowed:
            record_login_attempt(
                ticket=ticket, succeeded=False, via=LoginAttempt.Via.WEB,
                user_agent=user_agent,
            )  # fmt: skip
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": settings.LOGIN_LOCKOUT_WINDOW_MINUTES},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            record_login_attempt(
                ticket=ticket, succeeded=False, via=LoginAttempt.Via.WEB,
                user_agent=user_agent,
            )  # fmt: skip
            raise
        record_login_attempt(
            ticket=ticket, succeeded=True, via=LoginAttempt.Via.WEB,
            user_agent=user_agent,
        )  # fmt: skip
        return cleaned

    @property
    def locked_out(self) -> bool:
        return any(e.code == "locked" for e in self.errors.as_data().get("__all__", []))

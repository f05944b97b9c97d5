"""Login brute-force limits per username and per IP, and the login audit (SEC-05).

Each attempt is counted *before* the password is checked, in one row-locked
update per key, so thirty parallel guesses cannot all read "9 so far" and pass
(the race DRF's cache-based throttles have, DRF #8127). The counters live in
the database rather than the cache: the embedded default's cache is
per-process memory, which each gunicorn worker would count separately, and the
database is shared by every process whatever the deployment.

A success clears the username's counter and gives the IP back its attempt;
the window is fixed (it starts at the first attempt counted), so a locked
account opens again at most LOGIN_LOCKOUT_WINDOW after the first failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from crm.models import LoginAttempt, LoginThrottle

logger = logging.getLogger("crm.security")


@dataclass(frozen=True)
class AttemptTicket:
    """The outcome of counting one attempt: whether the password may be checked."""

    username: str
    ip_address: str | None
    allowed: bool


def _user_key(username: str) -> str:
    return f"user:{username.strip().casefold()[:150]}"


def _ip_key(ip_address: str | None) -> str | None:
    return f"ip:{ip_address}" if ip_address else None


def client_ip(request: HttpRequest) -> str | None:
    """The peer address; behind a proxy, the proxy must pass the client's as REMOTE_ADDR."""
    return request.META.get("REMOTE_ADDR") or None


def _count_attempt(key: str, *, now) -> int:
    """Add one attempt to ``key``'s window and return the window's total."""
    window = timedelta(minutes=settings.LOGIN_LOCKOUT_WINDOW_MINUTES)
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(
            key=key, defaults={"window_started_at": now}
        )
        if throttle.window_started_at <= now - window:
            throttle.attempts = 0
            throttle.window_started_at = now
        throttle.attempts += 1
        throttle.save(update_fields=["attempts", "window_started_at"])
        return throttle.attempts


def reserve_login_attempt(*, username: str, ip_address: str | None) -> AttemptTicket:
    """Count one attempt for the username and the IP; refuse past either limit.

    Call it before checking the password; a refused ticket must not be checked.
    """
    now = timezone.now()
    user_count = _count_attempt(_user_key(username), now=now)
    ip_key = _ip_key(ip_address)
    ip_count = _count_attempt(ip_key, now=now) if ip_key else 0
    allowed = (
        user_count <= settings.LOGIN_LOCKOUT_ATTEMPTS
        and ip_count <= settings.LOGIN_LOCKOUT_IP_ATTEMPTS
    )
    return AttemptTicket(username=username, ip_address=ip_address, allowed=allowed)


def record_login_attempt(
    *, ticket: AttemptTicket, succeeded: bool, via: str, user_agent: str = ""
) -> LoginAttempt:
    """Write the audit row and log line; a success clears the username's counter."""
    if not ticket.allowed:
        outcome = LoginAttempt.Outcome.LOCKED
    elif succeeded:
        outcome = LoginAttempt.Outcome.SUCCESS
    else:
        outcome = LoginAttempt.Outcome.FAILURE
    with transaction.atomic():
        if outcome == LoginAttempt.Outcome.SUCCESS:
            LoginThrottle.objects.filter(key=_user_key(ticket.username)).update(
                attempts=0
            )
            ip_key = _ip_key(ticket.ip_address)
            if ip_key:
                LoginThrottle.objects.filter(key=ip_key, attempts__gt=0).update(
                    attempts=F("attempts") - 1
                )
        attempt = LoginAttempt.objects.create(
            username=ticket.username[:150],
            ip_address=ticket.ip_address,
            user_agent=user_agent[:300],
            outcome=outcome,
            via=via,
        )
    level = logging.INFO if outcome == LoginAttempt.Outcome.SUCCESS else logging.WARNING
    logger.log(
        level,
        "login %s for %r from %s via %s",
        outcome,
        ticket.username[:150],
        ticket.ip_address or "?",
        via,
    )
    return attempt

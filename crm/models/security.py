"""Login throttling counters and the login audit trail (SEC-05)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LoginThrottle(models.Model):
    """Attempts counted against one key ("user:<name>" or "ip:<address>").

    ``attempts`` counts the attempts of the current window, which starts at
    ``window_started_at`` and lasts LOGIN_LOCKOUT_WINDOW. Counted before the
    password is checked, under a row lock, so parallel guesses cannot all slip
    under the limit (crm.lockout).
    """

    key = models.CharField(max_length=200, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()

    class Meta:
        verbose_name = _("login throttle")
        verbose_name_plural = _("login throttles")

    def __str__(self) -> str:
        return f"{self.key}: {self.attempts}"


class LoginAttempt(models.Model):
    """One login attempt, on the web form or the API token endpoint (audit log)."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Wrong credentials")
        LOCKED = "locked", _("Refused: locked out")

    class Via(models.TextChoices):
        WEB = "web", _("Web login")
        API = "api", _("API token")

    username = models.CharField(_("username"), max_length=150)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    via = models.CharField(_("via"), max_length=5, choices=Via.choices)
    attempted_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        verbose_name = _("login attempt")
        verbose_name_plural = _("login attempts")
        indexes = [
            models.Index(
                fields=["username", "attempted_at"], name="loginattempt_user_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.outcome} {self.attempted_at:%Y-%m-%d %H:%M}"

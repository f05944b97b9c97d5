"""Import jobs: the database row is the source of truth for a CSV import."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One CSV import, run in-process or by a worker (a transactional outbox).

    ``attempts`` counts deliveries to a worker; past CELERY_MAX_DELIVERIES the
    job is failed instead of being retried forever (poison-message guard).
    """

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        PRODUCTS = "products", _("Products")
        ORDERS = "orders", _("Orders")
        ONLINE_RETAIL = "online_retail", _("Online Retail (UCI)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Already imported")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    file_path = models.CharField(_("file"), max_length=500)
    file_name = models.CharField(_("original file name"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, db_index=True)
    skip_invalid = models.BooleanField(_("import valid rows only"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error_report = models.TextField(_("error report (CSV)"), blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name or self.file_path} ({self.status})"

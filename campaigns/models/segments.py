"""Segments: saved, composable customer filters evaluated by campaigns.segments."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Segment(models.Model):
    """A saved filter over customers.

    ``definition`` holds the composable rules, validated by
    ``campaigns.segments.validate_definition`` before every save::

        {"match": "all" | "any",
         "rules": [{"field": "distance_km", "store": 3, "max_km": 10}, ...]}

    A rule may itself be a group (``{"match": ..., "rules": [...]}``) and any
    rule may carry ``"negate": true``.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    definition = models.JSONField(_("definition"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name

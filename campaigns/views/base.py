"""What every campaign page shares: who may open it, and small helpers.

Managers may do everything; sales staff may read campaigns, their results
and work their call lists; clerks get no campaign page at all (403). The
permissions come from the role groups (``campaigns/migrations/0002_roles``).
"""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.forms import Form


class CampaignReaderMixin(PermissionRequiredMixin):
    """Read-only campaign pages: managers and sales staff."""

    permission_required = "campaigns.view_campaign"


class SegmentReaderMixin(PermissionRequiredMixin):
    permission_required = "campaigns.view_segment"


class CampaignManagerMixin(PermissionRequiredMixin):
    """Pages that change campaigns: managers only."""

    permission_required = ("campaigns.view_campaign", "campaigns.change_campaign")


class SegmentManagerMixin(PermissionRequiredMixin):
    permission_required = ("campaigns.view_segment", "campaigns.change_segment")


def messages_of(error: ValidationError) -> list[str]:
    """Every message of a ValidationError, flattened (dict or list form)."""
    return [str(message) for message in error.messages]


def add_service_errors(form: Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, per field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in errors:
                form.add_error(target, item.messages)
    else:
        form.add_error(None, messages_of(error))

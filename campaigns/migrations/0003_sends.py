"""Send rows (the outbox of campaign messages) and who may see them.

Managers and sales staff may view sends and change them (sales record the
outcome of a call-list entry); clerks get nothing.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


GRANTS = {
    "manager": ("view_send", "change_send"),
    "sales": ("view_send", "change_send"),
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="campaigns", codename__in=codenames
            )
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="campaigns", codename__in=GRANTS["manager"]
    )
    for group in Group.objects.filter(name__in=list(GRANTS)):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_roles"),
        ("crm", "0002_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Send",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("email", "E-mail"),
                            ("sms", "SMS"),
                            ("phone", "Phone"),
                            ("in_store", "In store"),
                            ("checkout", "Checkout"),
                            ("web", "Web"),
                        ],
                        max_length=10,
                        verbose_name="channel",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("claimed", "Claimed"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("failed", "Failed"),
                            ("skipped", "Skipped"),
                            ("deferred", "Deferred (quiet hours)"),
                            ("unknown", "Unknown (worker lost)"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "skip_reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("no_consent", "No consent on this channel"),
                            ("opted_out", "Opted out"),
                            ("suppressed", "On the suppression list"),
                            ("frequency_cap", "Frequency cap reached"),
                            ("quiet_hours", "Quiet hours"),
                            ("no_address", "No address for this channel"),
                            ("bounced", "Address bounced"),
                            ("cancelled", "Campaign cancelled"),
                        ],
                        max_length=16,
                        verbose_name="reason",
                    ),
                ),
                (
                    "attempts",
                    models.PositiveSmallIntegerField(
                        default=0, verbose_name="attempts"
                    ),
                ),
                (
                    "last_error",
                    models.CharField(
                        blank=True, max_length=500, verbose_name="last error"
                    ),
                ),
                (
                    "provider_message_id",
                    models.CharField(
                        blank=True, max_length=200, verbose_name="provider message id"
                    ),
                ),
                ("queued_at", models.DateTimeField(verbose_name="queued at")),
                (
                    "claimed_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="claimed at"
                    ),
                ),
                (
                    "sent_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="sent at"),
                ),
                (
                    "call_outcome",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("reached", "Reached"),
                            ("no_answer", "No answer"),
                            ("declined", "Declined"),
                            ("accepted", "Accepted the offer"),
                            ("wrong_number", "Wrong number"),
                        ],
                        max_length=16,
                        verbose_name="call outcome",
                    ),
                ),
                ("call_notes", models.TextField(blank=True, verbose_name="call notes")),
                (
                    "call_done_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="called at"
                    ),
                ),
                (
                    "call_done_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sends",
                        to="campaigns.campaign",
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="campaign_sends",
                        to="crm.customer",
                    ),
                ),
                (
                    "variant",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sends",
                        to="campaigns.variant",
                    ),
                ),
            ],
            options={
                "verbose_name": "send",
                "verbose_name_plural": "sends",
                "ordering": ["id"],
                "indexes": [
                    models.Index(
                        fields=["status", "queued_at"], name="send_status_idx"
                    ),
                    models.Index(
                        fields=["customer", "channel", "claimed_at"], name="send_cap_idx"
                    ),
                    models.Index(
                        fields=["campaign", "status"], name="send_campaign_idx"
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("campaign", "customer", "channel"),
                        name="campaign_send_once",
                    )
                ],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]

"""The suppression list of opted-out contacts, as keyed digests (PRIV-03)."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_roles")]

    operations = [
        migrations.CreateModel(
            name="Suppression",
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
                    "digest",
                    models.CharField(max_length=64, verbose_name="contact digest"),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("opt_out", "Opted out"),
                            ("erasure", "Erased"),
                            ("bounced", "Hard bounce"),
                        ],
                        max_length=10,
                        verbose_name="reason",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="suppressed at"
                    ),
                ),
            ],
            options={
                "verbose_name": "suppression",
                "verbose_name_plural": "suppressions",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("channel", "digest"),
                        name="suppression_one_per_contact",
                    )
                ],
            },
        ),
    ]

"""Grant the campaign models' permissions to the role groups.

Managers may do everything with segments and campaigns, including launching
and cancelling them; sales staff may only view them; clerks get nothing
(campaigns are a manager's tool, and the counter view reads in-store prompts
through a selector, not through these permissions). The grants are frozen
here, as they stood for this migration, so later changes to live code cannot
rewrite history.
"""

from django.db import migrations

_ALL = ("view", "add", "change", "delete")
MODELS = (
    "segment",
    "campaign",
    "variant",
    "audiencemember",
    "offercode",
    "offerredemption",
    "campaignresult",
)

GRANTS = {
    "manager": {
        **{model: _ALL for model in MODELS},
        "campaign": (*_ALL, "launch"),
    },
    "sales": {model: ("view",) for model in MODELS},
}


def _codenames(model: str, actions: tuple[str, ...]) -> list[str]:
    # "launch" is the custom permission Meta.permissions declares on Campaign.
    return [
        "launch_campaign" if action == "launch" else f"{action}_{model}"
        for action in actions
    ]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations (post_migrate).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for model, actions in grants.items():
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="campaigns",
                    codename__in=_codenames(model, actions),
                )
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    campaign_permissions = Permission.objects.filter(
        content_type__app_label="campaigns",
        codename__in=[
            code
            for grants in GRANTS.values()
            for model, actions in grants.items()
            for code in _codenames(model, actions)
        ],
    )
    for group in Group.objects.filter(name__in=list(GRANTS)):
        group.permissions.remove(*campaign_permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("crm", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

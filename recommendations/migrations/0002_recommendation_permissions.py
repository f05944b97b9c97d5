"""Grant the recommendation models' permissions to the role groups.

Managers may do everything; sales staff and clerks may view suggestions and
runs and change suggestions (recording outcomes). The grants are frozen here,
as they stood for this migration, so later changes to live code cannot
rewrite history.
"""

from django.db import migrations

_ALL = ("view", "add", "change", "delete")
MODELS = (
    "recommendationrun",
    "recommendationshard",
    "associationrule",
    "customerscore",
    "suggestion",
)
STAFF = {"suggestion": ("view", "change"), "recommendationrun": ("view",)}

GRANTS = {
    "manager": {model: _ALL for model in MODELS},
    "sales": STAFF,
    "clerk": STAFF,
}


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
                    content_type__app_label="recommendations",
                    codename__in=[f"{action}_{model}" for action in actions],
                )
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="recommendations")
    for group in Group.objects.filter(name__in=list(GRANTS)):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0001_initial"),
        ("crm", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

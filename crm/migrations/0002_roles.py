"""Create the sales, clerk and manager groups with their model permissions."""

from django.db import migrations


# Frozen copy of crm.roles.ROLE_PERMISSIONS as it stood for this migration:
# later apps' permissions are granted by their own migrations.
GRANTS = {
    "manager": {
        "crm.store": ("view", "add", "change", "delete"),
        "crm.customer": ("view", "add", "change", "delete"),
        "crm.channelconsent": ("view", "add", "change", "delete"),
        "crm.consentevent": ("view",),
        "crm.category": ("view", "add", "change", "delete"),
        "crm.product": ("view", "add", "change", "delete"),
        "crm.order": ("view", "add", "change", "delete"),
        "crm.orderline": ("view", "add", "change", "delete"),
        "crm.return": ("view", "add", "change", "delete"),
        "crm.interaction": ("view", "add", "change", "delete"),
        "crm.importjob": ("view", "add"),
        "crm.staffprofile": ("view",),
    },
    "sales": {
        "crm.store": ("view",),
        "crm.customer": ("view", "add", "change"),
        "crm.channelconsent": ("view", "add", "change"),
        "crm.consentevent": ("view",),
        "crm.category": ("view",),
        "crm.product": ("view",),
        "crm.order": ("view", "add"),
        "crm.orderline": ("view", "add"),
        "crm.return": ("view", "add"),
        "crm.interaction": ("view", "add", "change"),
    },
    "clerk": {
        "crm.store": ("view",),
        "crm.customer": ("view", "add", "change"),
        "crm.channelconsent": ("view", "add", "change"),
        "crm.consentevent": ("view",),
        "crm.category": ("view",),
        "crm.product": ("view",),
        "crm.order": ("view", "add"),
        "crm.orderline": ("view", "add"),
        "crm.return": ("view", "add"),
        "crm.interaction": ("view", "add"),
    },
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations (post_migrate);
    # create them now so the groups can be given them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for label, actions in grants.items():
            app_label, model = label.split(".")
            for action in actions:
                wanted.append(
                    Permission.objects.get(
                        content_type__app_label=app_label,
                        codename=f"{action}_{model}",
                    )
                )
        group.permissions.set(wanted)


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=["sales", "clerk", "manager"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

"""Role groups for transactional tests.

pytest-django empties every table after a transactional test (live server,
real workers, threads), the role groups and grants that migrations created
included; the next test that builds a manager or a clerk needs them back.
"""

from __future__ import annotations

_ROLE_GRANTS: dict[str, list[tuple[str, str]]] = {}


def _replay_role_migrations() -> None:
    """Re-run the data migrations that create the role groups and grant them.

    Tests that use ``live_server`` are transactional: pytest-django empties
    every table after each one, the groups that migrations created included.
    The migrations' own functions are run again on their historical models,
    so the grants stay exactly what a migrated database has.
    """
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    loader = MigrationLoader(connection)
    plan: list[tuple[str, str]] = []
    for leaf in loader.graph.leaf_nodes():
        for key in loader.graph.forwards_plan(leaf):
            if key not in plan:
                plan.append(key)
    for key in plan:
        migration = loader.graph.nodes[key]
        module = __import__(migration.__module__, fromlist=["GRANTS"])
        if not hasattr(module, "GRANTS"):
            continue
        state = loader.project_state(key, at_end=False)
        for operation in migration.operations:
            if isinstance(operation, RunPython):
                operation.code(state.apps, None)


def ensure_roles() -> None:
    """The manager, sales and clerk groups with their migrated permissions."""
    from django.contrib.auth.models import Group, Permission

    if not _ROLE_GRANTS:
        if not Group.objects.filter(name__in=["manager", "sales", "clerk"]).exists():
            _replay_role_migrations()
        for group in Group.objects.prefetch_related("permissions__content_type"):
            _ROLE_GRANTS[group.name] = [
                (p.content_type.app_label, p.codename) for p in group.permissions.all()
            ]
    for name, grants in _ROLE_GRANTS.items():
        group, created = Group.objects.get_or_create(name=name)
        if created:
            wanted = {f"{app}.{codename}" for app, codename in grants}
            group.permissions.set(
                [
                    permission
                    for permission in Permission.objects.select_related("content_type")
                    if f"{permission.content_type.app_label}.{permission.codename}"
                    in wanted
                ]
            )

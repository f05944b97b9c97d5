"""API permission classes: role permissions checked on the server."""

from rest_framework.permissions import DjangoModelPermissions


class RoleModelPermissions(DjangoModelPermissions):
    """Model permissions for every method, reads included (deny by default).

    DRF's stock class lets any authenticated user read; here a GET needs the
    ``view`` permission the user's role grants. Views without a queryset
    (commands, reports) declare their own permission classes.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        if getattr(view, "_ignore_model_permissions", False):
            return True
        if not hasattr(view, "get_queryset") and not hasattr(view, "queryset"):
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)

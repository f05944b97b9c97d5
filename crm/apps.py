from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from crm.search import register_sqlite_functions

        # SQLite gets the Python twin of the PostgreSQL search function.
        connection_created.connect(
            register_sqlite_functions, dispatch_uid="crm.register_sqlite_functions"
        )

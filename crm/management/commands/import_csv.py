"""``manage.py import_csv customers|products|orders FILE``: the project formats."""

from django.conf import settings
from django.core.management.base import BaseCommand

from crm.imports.cli import add_common_arguments, run_import_command
from crm.models import ImportJob

KINDS = [
    ImportJob.Kind.CUSTOMERS.value,
    ImportJob.Kind.PRODUCTS.value,
    ImportJob.Kind.ORDERS.value,
]


class Command(BaseCommand):
    help = (
        "Import customers, products or orders from a .csv/.csv.gz in the "
        "project's format (docs/import.md). All or nothing unless --skip-invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS, help="What the file holds.")
        add_common_arguments(
            parser, default_time_zone=settings.LADDER_IMPORT_ORDERS_TIME_ZONE
        )

    def handle(self, *args, **options):
        run_import_command(self, kind=options["kind"], options=options)

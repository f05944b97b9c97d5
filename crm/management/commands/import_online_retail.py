"""``manage.py import_online_retail FILE``: the UCI Online Retail format."""

from django.core.management.base import BaseCommand

from crm.imports.cli import add_common_arguments, run_import_command
from crm.imports.preparers import ONLINE_RETAIL_TIME_ZONE
from crm.models import ImportJob


class Command(BaseCommand):
    help = (
        "Import a UCI Online Retail file (.csv or .csv.gz): invoices become "
        "orders, C-invoices cancellations. All or nothing unless --skip-invalid."
    )

    def add_arguments(self, parser):
        add_common_arguments(parser, default_time_zone=ONLINE_RETAIL_TIME_ZONE)

    def handle(self, *args, **options):
        run_import_command(self, kind=ImportJob.Kind.ONLINE_RETAIL, options=options)

"""``manage.py demo``: build the demo business and print how to log in."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from crm.demo import (
    DEFAULT_CUSTOMERS,
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DEMO_USERS,
    DemoResetBlocked,
    build_demo,
)

SERVER_URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = (
        "Build a deterministic demo chain of three department stores with customers, "
        "two years of orders, returns, consents and interactions. Does nothing but "
        "refresh the demo users when the demo exists, unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMERS,
            help=f"Number of customers and prospects (default {DEFAULT_CUSTOMERS}).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="Random seed: the same seed builds the same demo.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the existing demo data and build it again.",
        )
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"Password of every demo user (default “{DEFAULT_PASSWORD}”).",
        )

    def _app_hooks(self, attribute: str) -> list:
        """Demo hooks apps above crm declare on their AppConfig (no imports here).

        crm sits at the bottom of the app graph, so it cannot import ladder or
        campaigns; each app names its own builder and cleaner as dotted paths.
        """
        return [
            import_string(getattr(config, attribute))
            for config in apps.get_app_configs()
            if getattr(config, attribute, None)
        ]

    def handle(self, *args, **options) -> None:
        if options["customers"] < 1:
            raise CommandError("--customers must be at least 1.")
        if options["reset"]:
            # Higher apps' demo rows protect the shop's products: clear them first.
            for delete in reversed(self._app_hooks("demo_delete")):
                delete(stdout=self.stdout)
        try:
            summary = build_demo(
                customers=options["customers"],
                seed=options["seed"],
                password=options["password"],
                reset=options["reset"],
                stdout=self.stdout,
            )
        except DemoResetBlocked as exc:
            raise CommandError(str(exc)) from exc
        for build in self._app_hooks("demo_build"):
            build(stdout=self.stdout)
        if summary.created:
            self.stdout.write(
                self.style.SUCCESS(f"Demo built in {summary.seconds:.1f} s:")
            )
            for name, count in summary.counts.items():
                self.stdout.write(f"  {name.replace('_', ' ')}: {count:,}")
        self.stdout.write("")
        self.stdout.write(f"Open {SERVER_URL} and log in as:")
        for username, (role, store) in DEMO_USERS.items():
            label = role or "superuser"
            if store:
                label += f", store {store}"
            self.stdout.write(f"  {username:<10} ({label})")
        self.stdout.write(f"Password for all of them: {options['password']}")

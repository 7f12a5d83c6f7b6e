"""``python manage.py load_demo [--logins]``: the demo county, loaded idempotently."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from demo import loader
from demo.core import logins


class Command(BaseCommand):
    help = "Load the demo county (schools, alliances, teachers, exchanges, funding, evaluation). Safe to run twice."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--logins",
            action="store_true",
            help="Only print one demo login per role (username, password, role, school).",
        )

    def handle(self, *args, logins: bool = False, **options) -> None:
        if logins:
            self._print_logins()
            return
        started = time.monotonic()
        ctx = loader.load(self.stdout.write)
        if ctx.created:
            for label, n in sorted(ctx.created.items()):
                self.stdout.write(f"  created {n:>4} {label}")
        else:
            self.stdout.write("  nothing to do: the demo county is already loaded")
        self.stdout.write(self.style.SUCCESS(f"Demo county {ctx.county} loaded in {time.monotonic() - started:.1f} s."))

    def _print_logins(self) -> None:
        rows = logins()
        width = max(len(r[0]) for r in rows)
        for username, password, role, where in rows:
            self.stdout.write(f"{role:<17} {username:<{width}}  {password}  {where}")

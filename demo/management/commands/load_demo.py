"""``python manage.py load_demo [--logins]``: the demo county, loaded idempotently."""

from __future__ import annotations

import time

from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from demo import loader
from demo.core import all_logins


class Command(BaseCommand):
    help = gettext_lazy(  # type: ignore[assignment]
        "Load the demo counties (schools, alliances, teachers, exchanges, funding, evaluation, supervision). "
        "Running it again changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--logins",
            action="store_true",
            help=gettext_lazy(
                "Only print the demo logins, each county's roles: role, username, password, county, school."
            ),
        )

    def handle(self, *args, logins: bool = False, **options) -> None:
        if logins:
            self._print_logins()
            return
        started = time.monotonic()
        ctx = loader.load(self.stdout.write)
        if ctx.created:
            for label, n in sorted(ctx.created.items()):
                name = apps.get_model(label)._meta.verbose_name
                self.stdout.write(_("  %(model)s: %(count)d created") % {"count": n, "model": name})
        else:
            self.stdout.write(_("  Nothing to do: the demo county is already loaded."))
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo counties %(counties)s loaded in %(seconds).1f s.")
                % {
                    "counties": "、".join(str(c) for c in (ctx.county, *(r.county for r in ctx.counties.values()))),
                    "seconds": time.monotonic() - started,
                }
            )
        )

    def _print_logins(self) -> None:
        counties = all_logins()
        width = max(len(r[0]) for _county, rows in counties for r in rows)
        for county, rows in counties:
            for username, password, role, where in rows:
                self.stdout.write(f"{role:<17} {username:<{width}}  {password}  {county}  {where}")

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance.models import User
from imports import services
from imports.kinds import KINDS


class Command(BaseCommand):
    help = (
        "Import schools, teachers, alliances or funding quotas from an XLSX or CSV file as a user; "
        "a dry run unless --commit. Prints what each row would do or why it cannot; exits non-zero "
        "when the file or a row is bad (nothing is imported then)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="the importing user's username (bureau staff)")
        parser.add_argument("--county", help="county code (for a superuser, who belongs to no county)")
        parser.add_argument("--commit", action="store_true", help="write the rows (otherwise a dry run)")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(_("No active user %(name)s.") % {"name": options["user"]})
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        try:
            county = services.import_county(user, options.get("county"))
            report = services.import_run(
                actor=user,
                kind=options["kind"],
                data=data,
                file_name=path.name,
                commit=options["commit"],
                county=county,
            )
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(_("The file was not imported."))

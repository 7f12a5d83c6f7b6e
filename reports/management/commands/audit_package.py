from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance import access
from alliance.models import County, SchoolYear, User
from reports.package import build_package


def command_reader() -> User:
    """Who builds a package when no --user is named: the one running manage.py, who holds the
    database already. An unsaved user that reads everything; the trail records the command
    (``manage.py audit_package …``) as the actor, and the manifest no user."""
    user = User(username="", is_active=True, is_superuser=True)
    access.remember_role(user, None)
    return user


class Command(BaseCommand):
    help = (
        "Write the auditor's package of a county's school year: every report, the award notices and the "
        "yearly summary, and a manifest with each file's SHA-256, the ledger's totals, the published awards "
        "and the audit trail's head (check it with verify_package)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--county", required=True, help="county code")
        parser.add_argument("--year", type=int, required=True, help="school year, by the year it starts")
        parser.add_argument("--output", required=True, help="ZIP file to write")
        parser.add_argument(
            "--user",
            help="username to build it as (bureau staff, an auditor or a superuser); without it, as the command",
        )

    def handle(self, *args, county, year, output, user=None, **options):
        county_obj = County.objects.filter(code=county).first()
        if county_obj is None:
            raise CommandError(_("No county with code %(code)s.") % {"code": county})
        school_year = SchoolYear.objects.filter(county=county_obj, start_year=year).first()
        if school_year is None:
            raise CommandError(
                _("%(county)s has no school year starting in %(year)s.") % {"county": county_obj, "year": year}
            )
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(_("No active user named %(name)s.") % {"name": user})
        else:
            actor = command_reader()
        try:
            with open(output, "wb") as out:
                manifest = build_package(actor, county_obj, school_year, out)
        except (PermissionDenied, ValidationError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(" ".join(messages)) from exc
        self.stdout.write(
            _("Package written to %(file)s: %(files)s files, manifest SHA-256 %(sha)s.")
            % {"file": output, "files": len(manifest["files"]), "sha": manifest["manifest_sha256"]}
        )
        for name, reason in manifest["omitted"].items():
            self.stdout.write(_("Left out %(file)s: %(reason)s") % {"file": name, "reason": reason})

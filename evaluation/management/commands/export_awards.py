from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance.models import County, User
from alliance.signals import export_done
from evaluation.export import award_period, write_award_csv


class Command(BaseCommand):
    help = (
        "Write the award sheet of a school year as CSV (UTF-8 with BOM, for Excel), as a named user: "
        "the access checkpoint decides, as for the admin's download."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="school year, by the year it starts")
        parser.add_argument("--output", required=True, help="CSV file to write")
        parser.add_argument("--county", help="county code (needed when several counties have the year)")
        parser.add_argument(
            "--user", required=True, help="username to export as (bureau staff, an auditor or a superuser)"
        )

    def handle(self, *args, year, output, user, county=None, **options):
        actor = User.objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(_("No active user named %(name)s.") % {"name": user})
        county_obj = None
        if county:
            county_obj = County.objects.filter(code=county).first()
            if county_obj is None:
                raise CommandError(_("No county with code %(code)s.") % {"code": county})
        try:
            period = award_period(start_year=year, county=county_obj)
            with open(output, "w", encoding="utf-8", newline="") as f:
                write_award_csv(period, f, user=actor)
            export_done(model="evaluation.evaluationperiod", object_id=period.pk, detail={"file": output})
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Award sheet written to %(file)s.") % {"file": output})

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance.models import County
from audit.services import record_event
from evaluation.export import award_period, write_award_csv


class Command(BaseCommand):
    help = "Write the award sheet of a school year as CSV (UTF-8 with BOM, for Excel)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="school year, by the year it starts")
        parser.add_argument("--output", required=True, help="CSV file to write")
        parser.add_argument("--county", help="county code (needed when several counties have the year)")

    def handle(self, *args, year, output, county=None, **options):
        county_obj = None
        if county:
            county_obj = County.objects.filter(code=county).first()
            if county_obj is None:
                raise CommandError(_("No county with code %(code)s.") % {"code": county})
        try:
            period = award_period(start_year=year, county=county_obj)
            with open(output, "w", encoding="utf-8", newline="") as f:
                write_award_csv(period, f)
            record_event("export", model="evaluation.evaluationperiod", object_id=period.pk, detail={"file": output})
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(_("Award sheet written to %(file)s.") % {"file": output})

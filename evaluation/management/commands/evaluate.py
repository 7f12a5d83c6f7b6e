from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alliance.models import County
from evaluation import services


class Command(BaseCommand):
    help = "Recompute the evaluation of every open period (the nightly job, run now)."

    def add_arguments(self, parser):
        parser.add_argument("--county", help="county code (default: every county)")
        parser.add_argument("--year", type=int, help="school year, by the year it starts (default: every open year)")

    def handle(self, *args, county=None, year=None, **options):
        county_obj = None
        if county:
            county_obj = County.objects.filter(code=county).first()
            if county_obj is None:
                raise CommandError(_("No county with code %(code)s.") % {"code": county})
        try:
            run = services.evaluation_run(county=county_obj, start_year=year, trigger="command")
        except services.RunRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Run %(id)s %(status)s: %(periods)s periods, %(schools)s school results, %(warnings)s decline warnings.")
            % {
                "id": run.pk,
                "status": run.get_status_display(),
                "periods": run.periods_count,
                "schools": run.schools_count,
                "warnings": run.warnings_count,
            }
        )

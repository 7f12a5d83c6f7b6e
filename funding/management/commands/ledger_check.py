"""``manage.py ledger_check [--year YYYY]``: verify the books; exit 1 naming the first broken rule."""

from django.core.management.base import BaseCommand, CommandError

from funding.bookcheck import check_year, summary_line
from funding.models import FundingYear


class Command(BaseCommand):
    help = "Check the funding ledger of every (or one) funding year and print a summary per year."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="school year by its start year, e.g. 2025")
        parser.add_argument("--county", help="county code (default: every county)")

    def handle(self, *args, year=None, county=None, **options):
        years = FundingYear.objects.select_related("county", "school_year").order_by(
            "county__code", "school_year__start_year"
        )
        if year is not None:
            years = years.filter(school_year__start_year=year)
        if county:
            years = years.filter(county__code=county)
        first = None
        checked = 0
        for funding_year in years:
            checked += 1
            self.stdout.write(summary_line(funding_year))
            problems = check_year(funding_year)
            for problem in problems:
                self.stdout.write(f"  BROKEN {problem}")
            if problems and first is None:
                first = problems[0]
        if first is not None:
            raise CommandError(f"ledger check failed: {first}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"OK: {checked} funding year(s) checked, the books balance."))

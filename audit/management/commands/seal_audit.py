from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit import chain


class Command(BaseCommand):
    help = "Seal the audit records written since the last seal into the hash chain."

    def handle(self, *args, **options):
        try:
            n = chain.seal()
        except chain.Busy as exc:
            raise CommandError(_("A transaction that wrote audit records is still open; try again.")) from exc
        self.stdout.write(_("%(n)d audit records sealed.") % {"n": n})

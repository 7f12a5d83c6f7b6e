from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.models import AuditRecord
from reports.package import verify


class Command(BaseCommand):
    help = (
        "Check an auditor's package: its manifest's signature, every file's SHA-256 and size, and that no "
        "file is missing or extra. Exits non-zero naming the first bad file."
    )

    def add_arguments(self, parser):
        parser.add_argument("package", help="the ZIP written by audit_package")
        parser.add_argument(
            "--no-signature",
            action="store_true",
            help="skip the manifest's signature (where the portal's key is not at hand)",
        )

    def handle(self, *args, package, no_signature=False, **options):
        verdict = verify(package, check_signature=not no_signature)
        if not verdict.ok:
            raise CommandError(_("The package does not verify: %(problem)s") % {"problem": verdict.problem})
        self.stdout.write(
            _("The package verifies: %(files)s files as listed, manifest SHA-256 %(sha)s.")
            % {"files": verdict.files, "sha": verdict.manifest_sha256}
        )
        record = (
            AuditRecord.objects.filter(action="export", after__manifest_sha256=verdict.manifest_sha256)
            .order_by("id")
            .first()
        )
        if record is not None:
            self.stdout.write(
                _("The audit trail recorded it: record %(id)s, %(user)s, %(at)s.")
                % {"id": record.pk, "user": record.username or record.source, "at": record.at.isoformat()}
            )
        else:
            self.stdout.write(_("The audit trail here has no record of this package."))

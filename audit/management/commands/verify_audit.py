from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit import chain


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain: exits non-zero naming the first record that was altered, "
        "deleted or inserted directly in the database; reports the records not yet sealed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="SEQ:HASH",
            help="a seal noted earlier (printed by a previous run): fails if it is no longer in the chain",
        )

    def handle(self, *args, expect_head=None, **options):
        expected = None
        if expect_head:
            seq, _sep, digest = expect_head.partition(":")
            if not seq.isdigit() or len(digest) != 64:
                raise CommandError(_("--expect-head takes SEQ:HASH, as printed by verify_audit."))
            expected = (int(seq), digest)
        report = chain.verify(expect_head=expected)
        if not report.ok:
            raise CommandError(_("Audit trail broken: %(problem)s.") % {"problem": report.problem})
        seq, digest = report.head
        self.stdout.write(
            _("Audit trail intact: %(n)d records sealed, head %(seq)d:%(hash)s.")
            % {"n": report.sealed, "seq": seq, "hash": digest}
        )
        if report.unsealed:
            self.stdout.write(
                _("Not yet sealed: %(n)d records (ids %(first)d–%(last)d); seal_audit seals them.")
                % {"n": len(report.unsealed), "first": report.unsealed[0], "last": report.unsealed[-1]}
            )

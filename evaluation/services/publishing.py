"""Publishing a period: the proposal and public notice (公示), appeals (申诉), the second
bureau user's approval that books the awards, and corrections of a published period as
new revisions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance import access
from alliance.models import School
from funding.models import FundingYear, LedgerEntry
from funding.services import awards_book, entry_reverse
from staffing.models import Teacher

from ..compute import compute_period
from ..models import (
    Appeal,
    Correction,
    EvaluationPeriod,
    Indicator,
    IndicatorValue,
    Publication,
    SchoolResult,
    Subject,
)
from .errors import EvaluationError, _error
from .policies import period_pool_of
from .results import outcome_write
from .values import _check_value, _indicator_of_period, _require_period_open, _subject_school


def _yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def _refuse_overdraw(period: EvaluationPeriod, awards: Iterable[Decimal | None]) -> None:
    """A year's pool is paid once: refuse a period whose awards, with what the ledger has
    already paid from the pool, would come to more than the pool."""
    total = sum((a for a in awards if a), Decimal("0.00"))
    figures = period_pool_of(period)
    if figures is None or not total:
        return
    if figures.paid + total > figures.year_pool:
        raise _error(
            _(
                "Publishing %(period)s would overdraw the award pool: the pool is %(pool)s, %(paid)s of it "
                "has already been paid, and this period's awards add up to %(awards)s."
            )
            % {
                "period": period,
                "pool": _yuan(figures.year_pool),
                "paid": _yuan(figures.paid),
                "awards": _yuan(total),
            },
            EvaluationError.OVER_POOL,
        )


def publication_propose(*, actor: Any, period: EvaluationPeriod, notice_days: int | None = None) -> EvaluationPeriod:
    """Recompute the period and show it to the principals for the public notice (公示)."""
    access.require_bureau_of(actor, period.county_id)
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        _require_period_open(period)
        days = notice_days or period.notice_days
        if days < 1:
            raise _error(_("The public notice lasts at least one day."), EvaluationError.OUT_OF_RANGE, "notice_days")
        outcome = compute_period(period)
        if not outcome.has_results:
            raise _error(_("There are no results to propose."), EvaluationError.NO_RESULTS)
        _refuse_overdraw(period, (s.award_preview for s in outcome.schools.values()))
        outcome_write(outcome)
        now = timezone.now()
        period.status = EvaluationPeriod.Status.PROPOSED
        period.proposed_by = actor
        period.proposed_at = now
        period.notice_days = days
        period.notice_ends_at = now + dt.timedelta(days=days)
        period.save()
        return period


def appeal_file(
    *, actor: Any, period: EvaluationPeriod, indicator: Indicator, reason: str, evidence: Any = None
) -> Appeal:
    """申诉: a principal contests an indicator value of its own school during the notice."""
    access.require_principal(actor, message=_("Only a school's principal may appeal its result."))
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        if period.county_id != actor.school.county_id:
            raise PermissionDenied(_("Only a school's principal may appeal its result."))
        if period.subject == Subject.TEACHER:  # a principal appeals its school's or its own result
            raise _error(_("A teachers' period takes no appeals."), EvaluationError.NO_SUBJECT, "period")
        # A proposed period has its notice's end (``period_propose``).
        if period.status != EvaluationPeriod.Status.PROPOSED or timezone.now() >= cast(
            "dt.datetime", period.notice_ends_at
        ):
            raise _error(
                _("Appeals are accepted only during the public notice of %(period)s.") % {"period": period},
                EvaluationError.NOTICE_OVER,
            )
        if not (reason or "").strip():
            raise _error(_("Give the reason for the appeal."), EvaluationError.NO_REASON, "reason")
        _indicator_of_period(period, indicator)
        return Appeal.objects.create(
            period=period,
            school_id=actor.school_id,
            indicator=indicator,
            reason=reason.strip(),
            evidence=evidence or "",
            filed_by=actor,
        )


def _open_appeal(appeal: Appeal, actor: Any) -> Appeal:
    access.require_bureau_of(actor, appeal.school.county_id)
    appeal = Appeal.objects.select_for_update().select_related("period", "indicator", "school").get(pk=appeal.pk)
    if appeal.status != Appeal.Status.OPEN:
        raise _error(_("This appeal has already been decided."), EvaluationError.APPEAL_DECIDED)
    return appeal


def appeal_accept(*, actor: Any, appeal: Appeal, value: Any, decision: str = "") -> Appeal:
    """Correct the value as appealed and recompute the period's results."""
    with transaction.atomic():
        appeal = _open_appeal(appeal, actor)
        period = EvaluationPeriod.objects.select_for_update().get(pk=appeal.period_id)
        if period.status != EvaluationPeriod.Status.PROPOSED:
            raise _error(
                _("%(period)s is no longer under public notice.") % {"period": period}, EvaluationError.NOTICE_OVER
            )
        value = _check_value(appeal.indicator, value)
        IndicatorValue.objects.update_or_create(
            period=period,
            indicator=appeal.indicator,
            school=appeal.school,
            defaults={
                "value": value,
                "entered_by": actor,
                "comment": _("Corrected after appeal #%(id)s") % {"id": appeal.pk},
            },
        )
        outcome_write(compute_period(period))
        appeal.status = Appeal.Status.ACCEPTED
        appeal.corrected_value = value
        appeal.decision = (decision or "").strip()
        appeal.decided_by = actor
        appeal.decided_at = timezone.now()
        appeal.save()
        return appeal


def appeal_reject(*, actor: Any, appeal: Appeal, decision: str) -> Appeal:
    with transaction.atomic():
        appeal = _open_appeal(appeal, actor)
        if not (decision or "").strip():
            raise _error(_("Give the reason for rejecting the appeal."), EvaluationError.NO_REASON, "decision")
        appeal.status = Appeal.Status.REJECTED
        appeal.decision = decision.strip()
        appeal.decided_by = actor
        appeal.decided_at = timezone.now()
        appeal.save()
        return appeal


def _funding_year(period: EvaluationPeriod):
    return FundingYear.objects.filter(county_id=period.county_id, school_year_id=period.school_year_id).first()


def _book(period: EvaluationPeriod, actor: Any, awards: Mapping[int, Decimal | None], memo: str) -> int | None:
    if period.subject != Subject.SCHOOL:  # principals' and teachers' periods pay no award (docs/adr/0008)
        return None
    funding_year = _funding_year(period)
    positive = {s: a for s, a in awards.items() if a and a > 0}
    if funding_year is None or not positive:
        return None
    return awards_book(funding_year=funding_year, awards=positive, actor=actor, memo=memo).pk


def publication_approve(*, actor: Any, period: EvaluationPeriod) -> Publication:
    """The second bureau user's approval after the notice: freezes scores and awards and books
    the awards (pool → schools) in the same transaction."""
    access.require_bureau_of(actor, period.county_id)
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        if period.status == EvaluationPeriod.Status.PUBLISHED:
            raise _error(_("%(period)s is already published.") % {"period": period}, EvaluationError.PERIOD_PUBLISHED)
        if period.status != EvaluationPeriod.Status.PROPOSED:
            raise _error(_("Propose the results before approving them."), EvaluationError.NOT_PROPOSED)
        assert period.proposed_by_id is not None and period.notice_ends_at is not None  # set when proposed
        if period.proposed_by_id == actor.pk:
            raise _error(
                _("A different bureau user must approve what you proposed (four eyes)."), EvaluationError.OWN_PROPOSAL
            )
        if timezone.now() < period.notice_ends_at:
            raise _error(
                _("The public notice runs until %(end)s.")
                % {"end": timezone.localtime(period.notice_ends_at).strftime("%Y-%m-%d %H:%M")},
                EvaluationError.NOTICE_RUNNING,
            )
        if period.appeals.filter(status=Appeal.Status.OPEN).exists():
            raise _error(_("Decide the open appeals first."), EvaluationError.OPEN_APPEALS)
        SchoolResult.objects.filter(period=period).update(award=F("award_preview"))
        awards = dict(SchoolResult.objects.filter(period=period, award__isnull=False).values_list("school_id", "award"))
        _refuse_overdraw(period, awards.values())
        entry_id = _book(period, actor, awards, _("Differential awards, %(period)s") % {"period": period})
        now = timezone.now()
        period.status = EvaluationPeriod.Status.PUBLISHED
        period.approved_by = actor
        period.approved_at = now
        period.save()
        return Publication.objects.create(
            period=period,
            revision=1,
            proposed_by_id=period.proposed_by_id,
            approved_by=actor,
            approved_at=now,
            awards={str(s): str(a) for s, a in sorted(awards.items())},
            ledger_entry_id=entry_id,
        )


# A corrected value: (indicator, school, value), or (indicator, school, value, teacher) for a
# teachers' period (the school may then be None: it is the teacher's).
CorrectionLine = tuple[Indicator, School | None, Any] | tuple[Indicator, School | None, Any, Teacher | None]


def correction_propose(
    *,
    actor: Any,
    period: EvaluationPeriod,
    reason: str,
    corrections: Iterable[CorrectionLine] = (),
) -> Correction:
    """Propose a correction of a published period (a published period is never unpublished: a
    correction becomes a new published revision once a different bureau user approves it,
    ``correction_approve``). The values are checked now; nothing changes until then. One
    correction of a period waits at a time. Whose value each line corrects is checked as
    ``indicator_value_set`` checks it: a school's (or, in a principals' period, the school's
    principal position's), or in a teachers' period a teacher's, named by the teacher."""
    access.require_bureau_of(actor, period.county_id)
    if not (reason or "").strip():
        raise _error(_("Give the reason for the correction."), EvaluationError.NO_REASON, "reason")
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        if period.status != EvaluationPeriod.Status.PUBLISHED:
            raise _error(_("Only a published period is corrected this way."), EvaluationError.NOT_PUBLISHED)
        if period.corrections.filter(status=Correction.Status.PENDING).exists():
            raise _error(
                _("A correction of %(period)s is waiting for approval: approve or reject it first.")
                % {"period": period},
                EvaluationError.EXISTS,
            )
        values = []
        for line in corrections:
            indicator, named, value = line[:3]
            teacher = line[3] if len(line) > 3 else None
            _indicator_of_period(period, indicator)
            school = _subject_school(period, named, teacher)
            if school.county_id != period.county_id:
                if teacher is not None:
                    raise _error(
                        _("The teacher teaches at a school of another county."),
                        EvaluationError.OTHER_COUNTY,
                        "teacher",
                    )
                raise _error(_("The school belongs to another county."), EvaluationError.OTHER_COUNTY, "school")
            row: dict[str, Any] = {"indicator": indicator.pk, "school": school.pk}
            if teacher is not None:
                row["teacher"] = teacher.pk
            row["value"] = str(_check_value(indicator, value))
            values.append(row)
        return Correction.objects.create(period=period, reason=reason.strip(), values=values, proposed_by=actor)


def _pending_correction(period: EvaluationPeriod) -> Correction:
    correction = period.corrections.select_for_update().filter(status=Correction.Status.PENDING).first()
    if correction is None:
        raise _error(
            _("No correction of %(period)s is waiting for approval.") % {"period": period},
            EvaluationError.NO_CORRECTION,
        )
    return correction


def correction_approve(*, actor: Any, period: EvaluationPeriod) -> Publication:
    """A different bureau user approves the period's waiting correction: the corrected values
    are written, the period recomputed, the last revision's award entry reversed and the new
    awards booked as a new published revision, with the correction's reason, in one
    transaction."""
    access.require_bureau_of(actor, period.county_id)
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        correction = _pending_correction(period)
        if correction.proposed_by_id == actor.pk:
            raise _error(
                _("A different bureau user must approve what you proposed (four eyes)."), EvaluationError.OWN_PROPOSAL
            )
        for v in correction.values:
            IndicatorValue.objects.update_or_create(
                period=period,
                indicator_id=v["indicator"],
                **IndicatorValue.subject_key(v["school"], v.get("teacher")),
                defaults={
                    "school_id": v["school"],
                    "value": Decimal(v["value"]),
                    "entered_by_id": correction.proposed_by_id,
                    "comment": correction.reason,
                },
            )
        last = period.publications.order_by("-revision").first()
        assert last is not None  # a correction is of a published period
        outcome_write(compute_period(period))
        SchoolResult.objects.filter(period=period).update(award=F("award_preview"))
        if last.ledger_entry_id:
            # ledger_entry_id is set, so ledger_entry is the row.
            reversal = entry_reverse(
                entry=cast("LedgerEntry", last.ledger_entry), actor=actor, reason=correction.reason
            )
            Publication.objects.filter(pk=last.pk).update(reversal_entry=reversal)
        awards = dict(SchoolResult.objects.filter(period=period, award__isnull=False).values_list("school_id", "award"))
        revision = (period.publications.aggregate(m=Max("revision"))["m"] or 0) + 1
        _refuse_overdraw(period, awards.values())
        entry_id = _book(
            period,
            actor,
            awards,
            _("Differential awards, %(period)s, revision %(n)s") % {"period": period, "n": revision},
        )
        now = timezone.now()
        publication = Publication.objects.create(
            period=period,
            revision=revision,
            proposed_by_id=correction.proposed_by_id,
            approved_by=actor,
            approved_at=now,
            reason=correction.reason,
            awards={str(s): str(a) for s, a in sorted(awards.items())},
            ledger_entry_id=entry_id,
        )
        correction.status = Correction.Status.APPROVED
        correction.decided_by, correction.decided_at, correction.publication = actor, now, publication
        correction.save()
        return publication


def correction_reject(*, actor: Any, period: EvaluationPeriod, decision: str) -> Correction:
    """Reject (or, by its proposer, withdraw) the period's waiting correction, with the reason.
    Nothing else changes."""
    access.require_bureau_of(actor, period.county_id)
    if not (decision or "").strip():
        raise _error(_("Give the reason for the decision."), EvaluationError.NO_REASON, "decision")
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        correction = _pending_correction(period)
        correction.status = Correction.Status.REJECTED
        correction.decided_by, correction.decided_at, correction.decision = actor, timezone.now(), decision.strip()
        correction.save()
        return correction

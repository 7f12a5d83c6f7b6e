"""Every write of the funding app that books money or spans rows.

Conventions: keyword-only arguments, the acting user first; each function runs in
``transaction.atomic`` (nested in the caller's transaction when there is one) and raises
Django's ``ValidationError`` with a translatable message and a ``FundingError`` code before
writing anything, or ``PermissionDenied`` when the actor may not do it at all.

Lock order (so that two requests never wait on each other in a circle): the funding year row,
then plan lines in primary-key order. Spending takes only its plan line's lock and re-reads
the year after it, closing takes the year and then every current plan line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance import access
from alliance.formatting import yuan
from alliance.models import Alliance, Membership, Pairing, School

from .errors import FundingError
from .models import (
    Account,
    FundingQuota,
    FundingYear,
    LedgerEntry,
    LedgerLine,
    PlanLine,
    ProgrammeFund,
    ProgrammeFundLine,
    ProgrammeSpending,
    SpendingPlan,
    SpendingRecord,
)
from .querysets import money_sum
from .rounding import FEN, split


def _error(message: str, code: FundingError, field: str | None = None) -> ValidationError:
    error = ValidationError(message, code=code.value)
    return ValidationError({field: [error]}) if field else error


# --- who may act -------------------------------------------------------------------------


def _require_bureau(actor: Any, county_id: int) -> None:
    access.require_bureau_of(actor, county_id)


def _require_lead(actor: Any, plan_lead_school_id: int) -> None:
    access.require_lead_of(actor, plan_lead_school_id)


# --- money checks ------------------------------------------------------------------------


PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def check_amount(amount: Any, field: str = "amount", *, allow_zero: bool = False) -> Decimal:
    """A positive amount in whole fen, as a Decimal; never rounds, never accepts a float.
    Text and Decimals alike must be in plain decimal notation ("1000.00"; "1e3" is refused:
    an exponent is how a typo or a spreadsheet's float turns into money)."""
    if isinstance(amount, str):
        if not PLAIN_DECIMAL.fullmatch(amount.strip()):
            raise _error(_("Enter the amount as a plain decimal number, e.g. 1000.00."), FundingError.NOT_PLAIN, field)
        amount = Decimal(amount.strip())
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise _error(_("Enter the amount as a decimal number of yuan."), FundingError.NOT_MONEY, field)
    if cast(int, amount.as_tuple().exponent) > 0:  # an int: the amount is finite
        raise _error(_("Enter the amount as a plain decimal number, e.g. 1000.00."), FundingError.NOT_PLAIN, field)
    if amount != amount.quantize(FEN):
        raise _error(_("Enter an amount with at most two decimal places (to the fen)."), FundingError.NOT_FEN, field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise _error(_("The amount must be greater than zero."), FundingError.NOT_POSITIVE, field)
    return amount.quantize(FEN)


def _lock_year(funding_year: FundingYear) -> FundingYear:
    return FundingYear.objects.select_for_update().select_related("school_year").get(pk=funding_year.pk)


def _require_open(year: FundingYear) -> None:
    if year.is_closed:
        raise _error(_("The funding year is closed; nothing can change any more."), FundingError.YEAR_CLOSED)
    if not year.is_open:
        raise _error(_("The funding year is not open yet."), FundingError.YEAR_NOT_OPEN)


# --- accounts and booking ----------------------------------------------------------------


def account_for(
    funding_year: FundingYear,
    kind: str,
    *,
    alliance: Alliance | None = None,
    school: School | None = None,
    programme_fund: ProgrammeFund | None = None,
) -> Account:
    account, _created = Account.objects.get_or_create(
        funding_year=funding_year,
        kind=kind,
        alliance=alliance if kind in Account.ALLIANCE_KINDS else None,
        school=school if kind in Account.SCHOOL_KINDS else None,
        programme_fund=programme_fund if kind in Account.PROGRAMME_KINDS else None,
    )
    return account


def _entry_lines(lines: Iterable[tuple[Account, Decimal]]) -> list[tuple[Account, Decimal]]:
    kept = [(account, amount) for account, amount in lines if amount != 0]
    for _account, amount in kept:
        if amount != amount.quantize(FEN):
            raise _error(_("A ledger line must be a whole number of fen."), FundingError.NOT_FEN)
    if sum((amount for _a, amount in kept), Decimal(0)) != 0:
        # The database refuses it at commit too; this is the same rule where there is no trigger.
        raise _error(_("The lines of a ledger entry must add up to zero."), FundingError.UNBALANCED)
    return kept


def _book(
    *, funding_year: FundingYear, kind: str, actor: Any, lines: Iterable[tuple[Account, Decimal]], **document: Any
) -> LedgerEntry:
    kept = _entry_lines(lines)
    entry = LedgerEntry.objects.create(funding_year=funding_year, kind=kind, created_by=actor, **document)
    LedgerLine.objects.bulk_create([LedgerLine(entry=entry, account=a, amount=amount) for a, amount in kept])
    return entry


def account_balance(account: Account) -> Decimal:
    return LedgerLine.objects.filter(account=account).aggregate(total=money_sum("amount"))["total"]


def alliance_fund_capacity(funding_year: FundingYear, alliance: Alliance) -> Decimal:
    """What the alliance received into its fund at opening: the most its plan may add up to."""
    return LedgerLine.objects.filter(
        entry__funding_year=funding_year,
        entry__kind=LedgerEntry.Kind.ALLOCATION,
        account__kind=Account.Kind.ALLIANCE_FUND,
        account__alliance=alliance,
    ).aggregate(total=money_sum("amount"))["total"]


# --- funding year ------------------------------------------------------------------------


def _require_draft(year: FundingYear) -> None:
    year.require_draft()  # the year's rule (``FundingYear.require_draft``), on the locked row


QUOTA_FIELDS = ("school", "alliance", "quota")
YEAR_FIELDS = ("county", "school_year", "base_quota", "lead_share", "pool_share")


def funding_year_create(*, actor: Any, county: Any, school_year: Any, **fields: Any) -> FundingYear:
    """A draft funding year of a county's school year (the bureau's)."""
    _refuse_unknown(fields, YEAR_FIELDS)
    with transaction.atomic():
        _require_bureau(actor, county.pk)
        if "base_quota" in fields:
            fields["base_quota"] = check_amount(fields["base_quota"], "base_quota")
        year = FundingYear(county=county, school_year=school_year, **fields)
        year.full_clean()
        year.save()
        return year


def funding_year_update(*, actor: Any, funding_year: FundingYear, **fields: Any) -> FundingYear:
    """Change a year's quota and split; fixed once the year is open (``FundingYear.clean``)."""
    _refuse_unknown(fields, YEAR_FIELDS)
    with transaction.atomic():
        year = _lock_year(funding_year)
        _require_bureau(actor, year.county_id)
        if "county" in fields:
            _require_bureau(actor, fields["county"].pk)
        if "base_quota" in fields:
            fields["base_quota"] = check_amount(fields["base_quota"], "base_quota")
        for name, value in fields.items():
            setattr(year, name, value)
        year.full_clean()
        year.save()
        return year


def _refuse_unknown(fields: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(
            {
                name: [ValidationError(_("This field cannot be set here."), code=FundingError.UNKNOWN_FIELD.value)]
                for name in sorted(unknown)
            }
        )


def funding_quota_create(
    *, actor: Any, funding_year: FundingYear, school: School, quota: Decimal, alliance: Alliance | None = None
) -> FundingQuota:
    """A funded school's quota, while the year is a draft (the bureau's)."""
    with transaction.atomic():
        year = _lock_year(funding_year)
        _require_bureau(actor, year.county_id)
        _require_draft(year)
        row = FundingQuota(funding_year=year, school=school, alliance=alliance, quota=check_amount(quota, "quota"))
        row.full_clean()
        row.save()
        return row


def funding_quota_update(*, actor: Any, funding_quota: FundingQuota, **fields: Any) -> FundingQuota:
    _refuse_unknown(fields, QUOTA_FIELDS)
    with transaction.atomic():
        year = _lock_year(funding_quota.funding_year)
        _require_bureau(actor, year.county_id)
        _require_draft(year)
        row = FundingQuota.objects.select_for_update().get(pk=funding_quota.pk)
        if "quota" in fields:
            fields["quota"] = check_amount(fields["quota"], "quota")
        for name, value in fields.items():
            setattr(row, name, value)
        row.full_clean()
        row.save()
        return row


def funding_quota_delete(*, actor: Any, funding_quota: FundingQuota) -> None:
    with transaction.atomic():
        year = _lock_year(funding_quota.funding_year)
        _require_bureau(actor, year.county_id)
        _require_draft(year)
        FundingQuota.objects.filter(pk=funding_quota.pk).delete()


def _alliances_of_schools(year: FundingYear) -> dict[int, set[int]]:
    """School id → its alliances of the year's school year (the schools funded by default)."""
    alliances_of: dict[int, set[int]] = defaultdict(set)
    for school_id, alliance_id in Membership.objects.filter(
        school_year=year.school_year, school__county=year.county_id
    ).values_list("school_id", "alliance_id"):
        alliances_of[school_id].add(alliance_id)
    return alliances_of


def quotas_default_outcome(funding_year: FundingYear, added: int) -> str:
    """What ``funding_quotas_default`` did, said exactly (the admin's report of its action)."""
    in_alliances = len(_alliances_of_schools(funding_year))
    if not in_alliances:
        return _("%(year)s: made quotas for 0 schools: the year has no alliances.") % {"year": funding_year}
    if not added:
        return _("%(year)s: made quotas for 0 schools: all %(count)s schools in an alliance already have one.") % {
            "year": funding_year,
            "count": in_alliances,
        }
    return _("%(year)s: made quotas for %(added)s of %(count)s schools in an alliance (the others had one).") % {
        "year": funding_year,
        "added": added,
        "count": in_alliances,
    }


def funding_quotas_default(*, actor: Any, funding_year: FundingYear) -> int:
    """Add a quota at the base amount for every school in an alliance of the year that has
    none yet (every school in an alliance is funded by default). Returns how many were added."""
    with transaction.atomic():
        year = _lock_year(funding_year)
        _require_bureau(actor, year.county_id)
        _require_draft(year)
        alliances_of = _alliances_of_schools(year)
        have = set(year.quotas.values_list("school_id", flat=True))
        new = [
            FundingQuota(
                funding_year=year,
                school_id=school_id,
                quota=year.base_quota,
                alliance_id=next(iter(alliance_ids)) if len(alliance_ids) == 1 else None,
            )
            for school_id, alliance_ids in sorted(alliances_of.items())
            if school_id not in have
        ]
        FundingQuota.objects.bulk_create(new)
        return len(new)


def funding_year_open(*, actor: Any, funding_year: FundingYear) -> FundingYear:
    """Book the allocation: for every funded school, the lead share of its quota into its
    alliance's fund and the pool share into the county award pool (split to the fen by
    ``rounding.split``), one entry per school. Opening an open year books nothing again."""
    with transaction.atomic():
        year = _lock_year(funding_year)
        _require_bureau(actor, year.county_id)
        if year.is_open:
            return year
        if year.is_closed:
            raise _error(_("The funding year is closed; nothing can change any more."), FundingError.YEAR_CLOSED)
        quotas = list(year.quotas.select_related("school", "alliance").order_by("school__code", "pk"))
        programme_funds = list(year.programme_funds.order_by("pk"))
        if not quotas and not programme_funds:
            raise _error(_("The funding year has no funded schools."), FundingError.NO_QUOTAS)
        alliances_of: dict[int, list[Alliance]] = defaultdict(list)
        for membership in Membership.objects.filter(
            school_year=year.school_year, school_id__in=[q.school_id for q in quotas]
        ).select_related("alliance"):
            alliances_of[membership.school_id].append(membership.alliance)
        errors: list[ValidationError] = []
        for quota in quotas:
            candidates = alliances_of[quota.school_id]
            if quota.alliance_id and quota.alliance_id not in {a.pk for a in candidates}:
                errors.append(
                    _error(
                        _("%(school)s is not a member of %(alliance)s.")
                        % {"school": quota.school, "alliance": quota.alliance},
                        FundingError.NOT_IN_QUOTA_ALLIANCE,
                    )
                )
            elif not quota.alliance_id and not candidates:
                errors.append(
                    _error(
                        _(
                            "%(school)s is funded but in no alliance this school year; "
                            "add it to an alliance or remove its quota."
                        )
                        % {"school": quota.school},
                        FundingError.NO_ALLIANCE,
                    )
                )
            elif not quota.alliance_id and len(candidates) > 1:
                errors.append(
                    _error(
                        _("%(school)s is in several alliances this school year; choose one on its quota.")
                        % {"school": quota.school},
                        FundingError.SEVERAL_ALLIANCES,
                    )
                )
            elif not quota.alliance_id:
                quota.alliance = candidates[0]
        if errors:
            raise ValidationError(errors)

        for programme_fund in programme_funds:
            _programme_fund_allocate(year=year, fund=programme_fund, actor=actor)
        appropriation = account_for(year, Account.Kind.APPROPRIATION) if quotas else None
        pool = account_for(year, Account.Kind.POOL) if quotas else None
        funds: dict[int | None, Account] = {}
        entries: list[LedgerEntry] = []
        pending: list[list[tuple[Account, Decimal]]] = []
        for quota in quotas:
            fund = funds.get(quota.alliance_id) or account_for(
                year, Account.Kind.ALLIANCE_FUND, alliance=quota.alliance
            )
            funds[quota.alliance_id] = fund
            lead_part, pool_part = split(quota.quota, [year.lead_share, year.pool_share])
            assert pool is not None and appropriation is not None  # there are quotas
            pending.append(_entry_lines([(fund, lead_part), (pool, pool_part), (appropriation, -quota.quota)]))
            entries.append(
                LedgerEntry(
                    funding_year=year,
                    kind=LedgerEntry.Kind.ALLOCATION,
                    school=quota.school,
                    created_by=actor,
                    memo=_("Allocation of the %(year)s quota") % {"year": year.school_year},
                )
            )
        # Set-based: two inserts for the whole county, not three per school.
        entries = LedgerEntry.objects.bulk_create(entries)
        LedgerLine.objects.bulk_create(
            [
                LedgerLine(entry=entry, account=account, amount=amount)
                for entry, lines in zip(entries, pending, strict=True)
                for account, amount in lines
            ]
        )
        FundingQuota.objects.bulk_update(quotas, ["alliance"])
        year.status = FundingYear.Status.OPEN
        year.opened_at = timezone.now()
        year.opened_by = actor
        year.save(update_fields=["status", "opened_at", "opened_by"])
        return year


def funding_year_close(*, actor: Any, funding_year: FundingYear) -> FundingYear:
    """Book every alliance's unspent fund to its returned/unspent account and close the year;
    afterwards only bureau reversals are accepted. Closing a closed year does nothing."""
    with transaction.atomic():
        year = _lock_year(funding_year)
        _require_bureau(actor, year.county_id)
        if year.is_closed:
            return year
        if not year.is_open:
            raise _error(_("The funding year is not open yet."), FundingError.YEAR_NOT_OPEN)
        # Wait for spending in flight (it holds its plan line's lock) before reading balances.
        list(PlanLine.objects.select_for_update().filter(plan__funding_year=year).order_by("pk").values_list("pk"))
        lines: list[tuple[Account, Decimal]] = []
        funds = (
            Account.objects.filter(funding_year=year, kind=Account.Kind.ALLIANCE_FUND)
            .select_related("alliance")
            .with_balance()
            .order_by("pk")
        )
        for fund in funds:
            if fund.balance:
                returned = account_for(year, Account.Kind.RETURNED, alliance=fund.alliance)
                lines += [(returned, fund.balance), (fund, -fund.balance)]
        # A programme fund's unspent working fund likewise (its held part stays with the bureau).
        list(
            ProgrammeFundLine.objects.select_for_update()
            .filter(fund__funding_year=year)
            .order_by("pk")
            .values_list("pk")
        )
        programme_accounts = (
            Account.objects.filter(funding_year=year, kind=Account.Kind.PROGRAMME_FUND)
            .select_related("programme_fund")
            .with_balance()
            .order_by("pk")
        )
        for fund in programme_accounts:
            if fund.balance:
                returned = account_for(year, Account.Kind.PROGRAMME_RETURNED, programme_fund=fund.programme_fund)
                lines += [(returned, fund.balance), (fund, -fund.balance)]
        if lines:
            _book(
                funding_year=year,
                kind=LedgerEntry.Kind.YEAR_CLOSE,
                actor=actor,
                lines=lines,
                memo=_("Unspent alliance funds returned at year close"),
            )
        year.status = FundingYear.Status.CLOSED
        year.closed_at = timezone.now()
        year.closed_by = actor
        year.save(update_fields=["status", "closed_at", "closed_by"])
        return year


# --- spending plans ----------------------------------------------------------------------


def _lead_school_of(alliance: Alliance) -> School:
    lead = alliance.memberships.filter(role=Membership.Role.LEAD).select_related("school").first()
    if lead is None:
        raise _error(_("The alliance has no lead school."), FundingError.NO_LEAD_SCHOOL, "alliance")
    return lead.school


def spending_plan_create(*, actor: Any, funding_year: FundingYear, alliance: Alliance, notes: str = "") -> SpendingPlan:
    """Start revision 1 of an alliance's plan (the lead principal's)."""
    with transaction.atomic():
        year = _lock_year(funding_year)
        lead = _lead_school_of(alliance)
        _require_lead(actor, lead.pk)
        _require_open(year)
        if alliance.school_year_id != year.school_year_id:
            raise _error(_("The alliance belongs to another school year."), FundingError.WRONG_YEAR, "alliance")
        if SpendingPlan.objects.filter(funding_year=year, alliance=alliance).exists():
            raise _error(
                _("This alliance already has a plan for the year; revise it instead."), FundingError.PLAN_EXISTS
            )
        return SpendingPlan.objects.create(
            funding_year=year, alliance=alliance, lead_school=lead, revision=1, notes=notes, created_by=actor
        )


def spending_plan_revise(*, actor: Any, plan: SpendingPlan) -> SpendingPlan:
    """A new draft revision of an approved plan, with its lines copied; the approved one stays
    in force (and in the history) until the new one is approved."""
    with transaction.atomic():
        plan = SpendingPlan.objects.select_for_update().get(pk=plan.pk)
        _require_lead(actor, plan.lead_school_id)
        _require_open(plan.funding_year)
        if plan.status != SpendingPlan.Status.APPROVED:
            raise _error(_("Only the approved plan can be revised."), FundingError.PLAN_STATUS)
        if SpendingPlan.objects.filter(
            funding_year=plan.funding_year, alliance=plan.alliance, status__in=SpendingPlan.IN_PROGRESS
        ).exists():
            raise _error(_("A revision of this plan is already in progress."), FundingError.PLAN_EXISTS)
        new = SpendingPlan.objects.create(
            funding_year=plan.funding_year,
            alliance=plan.alliance,
            lead_school=plan.lead_school,
            revision=plan.revision + 1,
            previous=plan,
            notes=plan.notes,
            created_by=actor,
        )
        PlanLine.objects.bulk_create(
            [
                PlanLine(
                    plan=new, school_id=line.school_id, category=line.category, amount=line.amount, notes=line.notes
                )
                for line in plan.lines.all()
            ]
        )
        return new


PLAN_LINE_FIELDS = ("school", "category", "amount", "notes")


def _lock_plan_for_lines(plan_id: int) -> SpendingPlan:
    """The plan row first, then its lines in primary-key order: the order every writer of a
    plan's lines and the submission take, so a plan is submitted with exactly the lines that
    passed the fund check (and an edit waiting on the plan sees it submitted)."""
    plan = SpendingPlan.objects.select_for_update().select_related("funding_year", "alliance").get(pk=plan_id)
    list(PlanLine.objects.select_for_update().filter(plan=plan).order_by("pk").values_list("pk"))
    return plan


def plan_line_check(*, actor: Any, plan: SpendingPlan) -> None:
    """Who may change a plan's lines and when: the lead principal of the plan's lead school (or
    the bureau of its county), while the plan is a draft or returned (submitting locks it with
    its lines)."""
    if not access.is_bureau_of(actor, plan.funding_year.county_id):
        _require_lead(actor, plan.lead_school_id)
    if not plan.is_editable:
        raise _error(_("Only a draft or returned plan can be changed."), FundingError.PLAN_LOCKED, "plan")


def plan_line_add(
    *, actor: Any, plan: SpendingPlan, school: School, category: str, amount: Decimal, notes: str = ""
) -> PlanLine:
    """A line of an editable plan for a member school of the plan's alliance."""
    amount = check_amount(amount)
    with transaction.atomic():
        plan = _lock_plan_for_lines(plan.pk)
        plan_line_check(actor=actor, plan=plan)
        line = PlanLine(plan=plan, school=school, category=category, amount=amount, notes=notes)
        line.full_clean()
        line.save()
        return line


def plan_line_update(*, actor: Any, line: PlanLine, **fields: Any) -> PlanLine:
    """Change a line's school, category, amount or notes; a line stays in its plan."""
    _refuse_unknown(fields, PLAN_LINE_FIELDS)
    if "amount" in fields:
        fields["amount"] = check_amount(fields["amount"])
    with transaction.atomic():
        plan = _lock_plan_for_lines(line.plan_id)
        plan_line_check(actor=actor, plan=plan)
        locked = PlanLine.objects.get(pk=line.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.plan = plan
        locked.full_clean()
        locked.save()
        return locked


def plan_line_delete(*, actor: Any, line: PlanLine) -> None:
    with transaction.atomic():
        plan = _lock_plan_for_lines(line.plan_id)
        plan_line_check(actor=actor, plan=plan)
        PlanLine.objects.filter(pk=line.pk).delete()


def _check_within_fund(plan: SpendingPlan) -> None:
    total = plan.lines.aggregate(total=money_sum("amount"))["total"]
    capacity = alliance_fund_capacity(plan.funding_year, plan.alliance)
    if total > capacity:
        raise _error(
            _("The plan adds up to %(total)s but the alliance fund holds %(capacity)s.")
            % {"total": yuan(total), "capacity": yuan(capacity)},
            FundingError.OVER_FUND,
        )


def spending_plan_submit(*, actor: Any, plan: SpendingPlan) -> SpendingPlan:
    """Submit a draft or returned plan that passes the fund check; the plan row and then its
    lines are locked (the lines' writers' order), so what is submitted is what was checked."""
    with transaction.atomic():
        plan = _lock_plan_for_lines(plan.pk)
        _require_lead(actor, plan.lead_school_id)
        _require_open(plan.funding_year)
        if not plan.is_editable:
            raise _error(_("Only a draft or returned plan can be submitted."), FundingError.PLAN_STATUS)
        if not plan.lines.exists():
            raise _error(_("The plan has no lines."), FundingError.PLAN_EMPTY)
        _check_within_fund(plan)
        plan.status = SpendingPlan.Status.SUBMITTED
        plan.submitted_at = timezone.now()
        plan.save(update_fields=["status", "submitted_at"])
        return plan


def spending_plan_approve(*, actor: Any, plan: SpendingPlan) -> SpendingPlan:
    """Approve a submitted revision; the previously approved one becomes superseded. Refused
    if a line would fall below what was already spent on its school and category."""
    with transaction.atomic():
        plan = SpendingPlan.objects.select_for_update().select_related("funding_year", "alliance").get(pk=plan.pk)
        _require_bureau(actor, plan.funding_year.county_id)
        _require_open(plan.funding_year)
        if plan.status != SpendingPlan.Status.SUBMITTED:
            raise _error(_("Only a submitted plan can be approved."), FundingError.PLAN_STATUS)
        _check_within_fund(plan)
        current = SpendingPlan.objects.filter(
            funding_year=plan.funding_year, alliance=plan.alliance, status=SpendingPlan.Status.APPROVED
        ).first()
        if current is not None:
            # Spending on the current lines holds these locks; wait for it, then compare.
            old_lines = list(
                PlanLine.objects.select_for_update(of=("self",))
                .filter(plan=current)
                .order_by("pk")
                .with_spent()
                .select_related("school")
            )
            new_amounts = {(line.school_id, line.category): line.amount for line in plan.lines.all()}
            for line in old_lines:
                if line.spent > new_amounts.get((line.school_id, line.category), Decimal(0)):
                    raise _error(
                        _("%(school)s, %(category)s: %(spent)s is already spent, more than the revised plan allows.")
                        % {"school": line.school, "category": line.get_category_display(), "spent": yuan(line.spent)},
                        FundingError.BELOW_SPENT,
                    )
            current.status = SpendingPlan.Status.SUPERSEDED
            current.save(update_fields=["status"])
        plan.status = SpendingPlan.Status.APPROVED
        plan.decided_by = actor
        plan.decided_at = timezone.now()
        plan.return_reason = ""
        plan.save(update_fields=["status", "decided_by", "decided_at", "return_reason"])
        return plan


def spending_plan_return(*, actor: Any, plan: SpendingPlan, reason: str) -> SpendingPlan:
    with transaction.atomic():
        plan = SpendingPlan.objects.select_for_update().select_related("funding_year").get(pk=plan.pk)
        _require_bureau(actor, plan.funding_year.county_id)
        _require_open(plan.funding_year)
        if not (reason or "").strip():
            raise _error(_("Say why the plan is sent back."), FundingError.NO_REASON, "reason")
        if plan.status != SpendingPlan.Status.SUBMITTED:
            raise _error(_("Only a submitted plan can be sent back."), FundingError.PLAN_STATUS)
        plan.status = SpendingPlan.Status.RETURNED
        plan.return_reason = reason.strip()
        plan.decided_by = actor
        plan.decided_at = timezone.now()
        plan.save(update_fields=["status", "return_reason", "decided_by", "decided_at"])
        return plan


# --- spending ----------------------------------------------------------------------------


def spent_on(line: PlanLine) -> Decimal:
    """Booked spending on the line's school and category in its alliance's plan (every revision)."""
    return (
        SpendingRecord.objects.booked()
        .filter(
            plan_line__plan__funding_year_id=line.plan.funding_year_id,
            plan_line__plan__alliance_id=line.plan.alliance_id,
            plan_line__school_id=line.school_id,
            plan_line__category=line.category,
        )
        .aggregate(total=money_sum("amount"))["total"]
    )


def _require_spendable(year: FundingYear, *, date: dt.date, amount: Decimal, approved: Decimal, spent: Decimal) -> None:
    """The rules every spending obeys, on a 70/30 plan line or a programme fund's line: dated
    inside the funding year's school year, and never past the line's approved amount (the caller
    holds the line's row lock, so ``spent`` cannot move under it)."""
    school_year = year.school_year
    if not (school_year.start_date <= date <= school_year.end_date):
        raise _error(
            _("The date is outside the %(year)s school year.") % {"year": school_year},
            FundingError.DATE_OUTSIDE_YEAR,
            "date",
        )
    if spent + amount > approved:
        raise _error(
            _("This would take the plan line past its approved %(approved)s: %(spent)s is spent, %(left)s is left.")
            % {"approved": yuan(approved), "spent": yuan(spent), "left": yuan(approved - spent)},
            FundingError.OVER_LINE,
            "amount",
        )


def spending_record_create(
    *,
    actor: Any,
    plan_line: PlanLine,
    date: dt.date,
    amount: Decimal,
    payee: str,
    description: str = "",
    receipt: File | None = None,
) -> SpendingRecord:
    """Record money spent on an approved plan line and book it (alliance fund → school
    spending). The line's row lock makes two simultaneous records queue, so together they can
    never pass the line's approved amount."""
    amount = check_amount(amount)
    if not (payee or "").strip():
        raise _error(_("Name the payee."), FundingError.NO_PAYEE, "payee")
    with transaction.atomic():
        line = (
            PlanLine.objects.select_for_update(of=("self",))
            .select_related("plan__funding_year__school_year", "plan__alliance", "school")
            .get(pk=plan_line.pk)
        )
        plan, year = line.plan, line.plan.funding_year
        if not access.is_principal_of(actor, line.school_id, plan.lead_school_id):
            raise _error(
                _("This plan line belongs to another school or alliance."), FundingError.NOT_YOUR_LINE, "plan_line"
            )
        _require_open(year)
        if plan.status != SpendingPlan.Status.APPROVED:
            raise _error(
                _("Spending is recorded against a line of the approved plan in force."),
                FundingError.PLAN_STATUS,
                "plan_line",
            )
        _require_spendable(year, date=date, amount=amount, approved=line.amount, spent=spent_on(line))
        record = SpendingRecord(
            plan_line=line,
            date=date,
            amount=amount,
            payee=payee.strip(),
            description=description,
            recorded_by=actor,
        )
        if receipt is not None:
            record.receipt = receipt
        record.save()
        _book(
            funding_year=year,
            kind=LedgerEntry.Kind.SPENDING,
            actor=actor,
            lines=[
                (account_for(year, Account.Kind.SCHOOL_SPENDING, school=line.school), amount),
                (account_for(year, Account.Kind.ALLIANCE_FUND, alliance=plan.alliance), -amount),
            ],
            school=line.school,
            spending_record=record,
            memo=f"{payee.strip()}"[:255],
        )
        return record


# --- awards and corrections --------------------------------------------------------------


def awards_book(*, funding_year: FundingYear, awards: Mapping[int, Decimal], actor: Any, memo: str) -> LedgerEntry:
    """Pay differential awards from the county pool to each school's awards-paid account.

    ``awards`` maps funded school ids to amounts in whole fen (zero awards are left out). The
    year must be open; the total may not exceed the pool's balance, and what is not awarded
    stays in the pool. Runs in the caller's transaction (the evaluation publishes and books
    together)."""
    with transaction.atomic():
        year = _lock_year(funding_year)
        _require_bureau(actor, year.county_id)
        _require_open(year)
        checked = {school_id: check_amount(amount, allow_zero=True) for school_id, amount in awards.items()}
        checked = {school_id: amount for school_id, amount in checked.items() if amount}
        if not checked:
            raise _error(_("There is nothing to award."), FundingError.NOTHING_TO_AWARD)
        funded = set(year.quotas.values_list("school_id", flat=True))
        outside = sorted(set(checked) - funded)
        if outside:
            names = ", ".join(str(s) for s in School.objects.filter(pk__in=outside))
            raise _error(
                _("Not funded in this year: %(schools)s.") % {"schools": names or outside}, FundingError.NOT_FUNDED
            )
        pool = account_for(year, Account.Kind.POOL)
        total = sum(checked.values(), Decimal(0))
        available = account_balance(pool)
        if total > available:
            raise _error(
                _("The awards add up to %(total)s but the pool holds %(available)s.")
                % {"total": yuan(total), "available": yuan(available)},
                FundingError.OVER_POOL,
            )
        schools = School.objects.in_bulk(list(checked))
        lines = [
            (account_for(year, Account.Kind.AWARDS_PAID, school=schools[school_id]), amount)
            for school_id, amount in sorted(checked.items())
        ]
        lines.append((pool, -total))
        return _book(funding_year=year, kind=LedgerEntry.Kind.AWARD, actor=actor, lines=lines, memo=memo[:255])


REVERSIBLE = (LedgerEntry.Kind.SPENDING, LedgerEntry.Kind.AWARD, LedgerEntry.Kind.PROGRAMME_SPENDING)


def entry_reverse(*, entry: LedgerEntry, actor: Any, reason: str) -> LedgerEntry:
    """Correct a spending (of an alliance fund or of a programme fund) or award entry by
    booking its mirror image, with a reason. The only change a closed year accepts. A reversed
    spending no longer counts as spent on its plan line (``SpendingRecordQuerySet.booked``,
    ``ProgrammeSpendingQuerySet.booked``), so the line may be spent again while the year is
    open. Allocations follow the quotas and funds and year closes follow the balances, so they
    are not reversed by hand."""
    with transaction.atomic():
        year = _lock_year(entry.funding_year)
        _require_bureau(actor, year.county_id)
        if not (reason or "").strip():
            raise _error(_("Give the reason for the reversal."), FundingError.NO_REASON, "reason")
        entry = LedgerEntry.objects.get(pk=entry.pk)
        if entry.kind not in REVERSIBLE:
            raise _error(
                _("Only spending and award entries can be reversed; a %(kind)s entry cannot.")
                % {"kind": entry.get_kind_display()},
                FundingError.NOT_REVERSIBLE,
            )
        if LedgerEntry.objects.filter(reverses=entry).exists():
            raise _error(_("This entry has already been reversed."), FundingError.ALREADY_REVERSED)
        lines = [(line.account, -line.amount) for line in entry.lines.select_related("account").order_by("pk")]
        return _book(
            funding_year=year,
            kind=LedgerEntry.Kind.REVERSAL,
            actor=actor,
            lines=lines,
            reverses=entry,
            reason=reason.strip(),
            school=entry.school,
            programme_fund=_programme_fund_of(entry),
            memo=(_("Reversal of entry #%(id)s") % {"id": entry.pk})[:255],
        )


def _programme_fund_of(entry: LedgerEntry) -> ProgrammeFund | None:
    """The programme fund a programme spending entry spent from (its reversal names it too)."""
    if entry.programme_spending_id is None:
        return None
    return ProgrammeFund.objects.get(lines__spendings=entry.programme_spending_id)


def plan_total(plan: SpendingPlan) -> Decimal:
    return plan.lines.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")


# --- programme funds (cross-county programmes, seed 002) -----------------------------------

PROGRAMME_FUND_FIELDS = ("amount", "spend_share")


def programme_fund_parts(fund: ProgrammeFund) -> tuple[Decimal, Decimal]:
    """The fund split to the fen: the helper school's working part and the bureau's held part."""
    spend, held = split(fund.amount, [fund.spend_share, 1 - fund.spend_share])
    return spend, held


def _programme_fund_allocate(*, year: FundingYear, fund: ProgrammeFund, actor: Any) -> LedgerEntry:
    """Book a programme fund: its appropriation to the working part and the held part."""
    spend, held = programme_fund_parts(fund)
    return _book(
        funding_year=year,
        kind=LedgerEntry.Kind.PROGRAMME_ALLOCATION,
        actor=actor,
        lines=[
            (account_for(year, Account.Kind.PROGRAMME_FUND, programme_fund=fund), spend),
            (account_for(year, Account.Kind.PROGRAMME_RESERVE, programme_fund=fund), held),
            (account_for(year, Account.Kind.PROGRAMME_APPROPRIATION, programme_fund=fund), -fund.amount),
        ],
        school=fund.helper_school,
        programme_fund=fund,
        memo=(_("Programme fund of %(fund)s") % {"fund": fund})[:255],
    )


def programme_fund_is_allocated(fund: ProgrammeFund) -> bool:
    return LedgerEntry.objects.filter(programme_fund=fund, kind=LedgerEntry.Kind.PROGRAMME_ALLOCATION).exists()


def _programme_fund_check(fund: ProgrammeFund) -> None:
    fund.full_clean()
    helps = Pairing.objects.filter(programme_id=fund.programme_id, helper_school_id=fund.helper_school_id)
    if not helps.exists():
        raise _error(
            _("%(school)s helps no school in this programme.") % {"school": fund.helper_school},
            FundingError.NOT_PROGRAMME_HELPER,
            "helper_school",
        )


def programme_fund_create(
    *,
    actor: Any,
    funding_year: FundingYear,
    programme: Any,
    helper_school: School,
    amount: Decimal,
    spend_share: Decimal = Decimal("1.00"),
) -> ProgrammeFund:
    """A helper school's programme fund in its county's funding year: the bureau's. Added to an
    open year it is booked at once; to a draft year, when the year opens."""
    amount = check_amount(amount)
    with transaction.atomic():
        year = _lock_year(funding_year)
        _require_bureau(actor, year.county_id)
        if year.is_closed:
            raise _error(_("The funding year is closed; nothing can change any more."), FundingError.YEAR_CLOSED)
        fund = ProgrammeFund(
            funding_year=year, programme=programme, helper_school=helper_school, amount=amount, spend_share=spend_share
        )
        _programme_fund_check(fund)
        fund.save()
        if year.is_open:
            _programme_fund_allocate(year=year, fund=fund, actor=actor)
        return fund


def _lock_programme_fund(actor: Any, fund: ProgrammeFund) -> ProgrammeFund:
    year = _lock_year(fund.funding_year)
    _require_bureau(actor, year.county_id)
    locked = ProgrammeFund.objects.select_for_update().get(pk=fund.pk)
    if programme_fund_is_allocated(locked):
        raise _error(_("The programme fund is booked; its amount and split are fixed."), FundingError.FUND_ALLOCATED)
    return locked


def programme_fund_update(*, actor: Any, fund: ProgrammeFund, **fields: Any) -> ProgrammeFund:
    _refuse_unknown(fields, PROGRAMME_FUND_FIELDS)
    if "amount" in fields:
        fields["amount"] = check_amount(fields["amount"])
    with transaction.atomic():
        locked = _lock_programme_fund(actor, fund)
        for name, value in fields.items():
            setattr(locked, name, value)
        _programme_fund_check(locked)
        locked.save()
        return locked


def programme_fund_delete(*, actor: Any, fund: ProgrammeFund) -> None:
    with transaction.atomic():
        _lock_programme_fund(actor, fund).delete()


def programme_fund_spend_capacity(fund: ProgrammeFund) -> Decimal:
    """What the helper school may plan and spend: the working part booked into its fund."""
    return LedgerLine.objects.filter(
        entry__kind=LedgerEntry.Kind.PROGRAMME_ALLOCATION,
        entry__programme_fund=fund,
        account__kind=Account.Kind.PROGRAMME_FUND,
    ).aggregate(total=money_sum("amount"))["total"]


PROGRAMME_LINE_FIELDS = ("helped_school", "category", "amount", "notes")


def _require_programme_writer(actor: Any, fund: ProgrammeFund) -> None:
    """The fund's plan and spending are the helper school's (its principal), or the bureau's."""
    if access.is_bureau_of(actor, fund.funding_year.county_id):
        return
    access.require_principal_of(
        actor, fund.helper_school_id, message=_("Only the helper school or its bureau plans and spends this fund.")
    )


def programme_line_schools(fund: ProgrammeFund) -> Any:
    """The schools a line of the fund may be for: those its helper school helps in the programme."""
    helped = Pairing.objects.filter(programme_id=fund.programme_id, helper_school_id=fund.helper_school_id)
    return School.objects.filter(pk__in=helped.values("helped_school_id"))


def _programme_line_check(line: ProgrammeFundLine) -> None:
    line.full_clean()
    fund = line.fund
    if line.helped_school_id and not programme_line_schools(fund).filter(pk=line.helped_school_id).exists():
        raise _error(
            _("The fund's helper school does not help this school in the programme."),
            FundingError.NOT_PROGRAMME_SCHOOL,
            "helped_school",
        )
    others = ProgrammeFundLine.objects.filter(fund=fund).exclude(pk=line.pk).aggregate(total=money_sum("amount"))
    capacity = programme_fund_spend_capacity(fund)
    if others["total"] + line.amount > capacity:
        raise _error(
            _("The plan would add up to %(total)s but the fund's working part is %(capacity)s.")
            % {"total": others["total"] + line.amount, "capacity": capacity},
            FundingError.OVER_PROGRAMME_FUND,
            "amount",
        )
    spent = programme_spent_on(line)
    if line.pk and line.amount < spent:
        raise _error(
            _("%(spent)s is already spent on this line.") % {"spent": spent}, FundingError.BELOW_SPENT, "amount"
        )


def _lock_fund_for_plan(fund: ProgrammeFund) -> ProgrammeFund:
    locked = ProgrammeFund.objects.select_for_update().select_related("funding_year").get(pk=fund.pk)
    _require_open(locked.funding_year)
    return locked


def programme_line_create(*, actor: Any, fund: ProgrammeFund, **fields: Any) -> ProgrammeFundLine:
    """A line of the programme fund's plan; the plan may not add up to more than the fund's
    working part (the fund's row lock makes two lines queue)."""
    _refuse_unknown(fields, PROGRAMME_LINE_FIELDS)
    with transaction.atomic():
        locked = _lock_fund_for_plan(fund)
        _require_programme_writer(actor, locked)
        line = ProgrammeFundLine(fund=locked, **fields)
        _programme_line_check(line)
        line.save()
        return line


def programme_line_update(*, actor: Any, line: ProgrammeFundLine, **fields: Any) -> ProgrammeFundLine:
    _refuse_unknown(fields, PROGRAMME_LINE_FIELDS)
    with transaction.atomic():
        fund = _lock_fund_for_plan(line.fund)
        _require_programme_writer(actor, fund)
        locked = ProgrammeFundLine.objects.select_for_update().get(pk=line.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        _programme_line_check(locked)
        locked.save()
        return locked


def programme_line_delete(*, actor: Any, line: ProgrammeFundLine) -> None:
    with transaction.atomic():
        fund = _lock_fund_for_plan(line.fund)
        _require_programme_writer(actor, fund)
        if line.spendings.exists():
            raise _error(_("Money is already spent on this line."), FundingError.BELOW_SPENT)
        line.delete()


def programme_spent_on(line: ProgrammeFundLine) -> Decimal:
    if not line.pk:
        return Decimal("0.00")
    return ProgrammeSpending.objects.booked().filter(line=line).aggregate(total=money_sum("amount"))["total"]


def programme_spending_create(
    *,
    actor: Any,
    line: ProgrammeFundLine,
    date: dt.date,
    amount: Decimal,
    payee: str,
    description: str = "",
    receipt: File | None = None,
) -> ProgrammeSpending:
    """Record money spent on a line of a programme fund's plan and book it (programme fund →
    programme spending). The line's lock makes two records queue, so they never pass it."""
    amount = check_amount(amount)
    if not (payee or "").strip():
        raise _error(_("Name the payee."), FundingError.NO_PAYEE, "payee")
    with transaction.atomic():
        locked = (
            ProgrammeFundLine.objects.select_for_update(of=("self",))
            .select_related("fund__funding_year__school_year", "fund__helper_school")
            .get(pk=line.pk)
        )
        fund, year = locked.fund, locked.fund.funding_year
        _require_programme_writer(actor, fund)
        _require_open(year)
        _require_spendable(year, date=date, amount=amount, approved=locked.amount, spent=programme_spent_on(locked))
        record = ProgrammeSpending(
            line=locked, date=date, amount=amount, payee=payee.strip(), description=description, recorded_by=actor
        )
        if receipt is not None:
            record.receipt = receipt
        record.save()
        _book(
            funding_year=year,
            kind=LedgerEntry.Kind.PROGRAMME_SPENDING,
            actor=actor,
            lines=[
                (account_for(year, Account.Kind.PROGRAMME_SPENT, programme_fund=fund), amount),
                (account_for(year, Account.Kind.PROGRAMME_FUND, programme_fund=fund), -amount),
            ],
            school=fund.helper_school,
            programme_spending=record,
            memo=f"{payee.strip()}"[:255],
        )
        return record

"""The 70/30 rule: funding years, quotas, an append-only double-entry ledger, spending plans
and spending records.

Balances are never stored: they are sums of ``LedgerLine.amount`` (debit positive, credit
negative; the lines of an entry add up to zero). Every write that books money goes through
``funding.services``; the database refuses unbalanced entries and changes to posted lines
(PostgreSQL triggers, migration 0002).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alliance.access import Scope, Via
from alliance.models import Alliance, County, Programme, School, SchoolYear
from alliance.querysets import ScopedQuerySet
from alliance.uploads import ProtectedFileField, UploadTo

from .errors import FundingError
from .querysets import (
    AccountQuerySet,
    FundingQuotaQuerySet,
    FundingYearQuerySet,
    LedgerEntryQuerySet,
    LedgerLineQuerySet,
    PlanLineQuerySet,
    ProgrammeSpendingQuerySet,
    SpendingPlanQuerySet,
    SpendingRecordQuerySet,
)
from .rounding import FEN

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
SHARE: dict[str, Any] = {"max_digits": 5, "decimal_places": 4}


def fen_places(value: Decimal) -> None:
    """Money is a whole number of fen: refuse more than two decimals rather than round them."""
    if value is not None and value != value.quantize(FEN):
        raise ValidationError(_("Enter an amount with at most two decimal places (to the fen)."), code="fen")


def positive_money(value: Decimal) -> None:
    if value is not None and value <= 0:
        raise ValidationError(_("The amount must be greater than zero."), code="not_positive")


class FundingYear(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    county = models.ForeignKey(County, models.PROTECT, related_name="funding_years", verbose_name=_("county"))
    school_year = models.ForeignKey(
        SchoolYear, models.PROTECT, related_name="funding_years", verbose_name=_("school year")
    )
    base_quota = models.DecimalField(
        _("base quota per school"),
        **MONEY,
        default=Decimal("200000.00"),
        validators=[positive_money, fen_places],
        help_text=_("The default yearly quota of each funded school, in CNY."),
    )
    lead_share = models.DecimalField(
        _("lead-school share"),
        **SHARE,
        default=Decimal("0.70"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text=_("Fraction of each quota arranged by the lead school for its alliance (0.70 = 70 %)."),
    )
    pool_share = models.DecimalField(
        _("award pool share"),
        **SHARE,
        default=Decimal("0.30"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text=_("Fraction of each quota held by the bureau for the differential awards (0.30 = 30 %)."),
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT, editable=False)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True, editable=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )

    objects = FundingYearQuerySet.as_manager()
    scope = Scope(county="county", county_wide=True)

    class Meta:
        verbose_name = _("funding year")
        verbose_name_plural = _("funding years")
        ordering = ["county", "-school_year__start_year"]
        constraints = [
            models.UniqueConstraint(fields=["county", "school_year"], name="funding_year_unique_per_school_year"),
            models.CheckConstraint(
                condition=Q(lead_share__gte=0) & Q(pool_share__gte=0) & Q(lead_share__lte=1) & Q(pool_share__lte=1),
                name="funding_year_shares_are_fractions",
            ),
            models.CheckConstraint(
                condition=Q(lead_share=1 - models.F("pool_share")), name="funding_year_shares_add_to_one"
            ),
            models.CheckConstraint(condition=Q(base_quota__gt=0), name="funding_year_base_quota_positive"),
        ]

    def __str__(self) -> str:
        return _("Funding %(year)s") % {"year": self.school_year}

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.lead_share is not None and self.pool_share is not None and self.lead_share + self.pool_share != 1:
            errors["pool_share"] = [_("The lead-school share and the pool share must add up to 1 (100 %).")]
        if self.school_year_id and self.county_id and self.school_year.county_id != self.county_id:
            errors.setdefault("school_year", []).append(_("The school year belongs to another county."))
        if self.pk:
            before = FundingYear.objects.filter(pk=self.pk).first()
            if before and before.status != self.Status.DRAFT:
                frozen = ("county_id", "school_year_id", "base_quota", "lead_share", "pool_share")
                if any(getattr(before, f) != getattr(self, f) for f in frozen):
                    errors.setdefault("__all__", []).append(
                        _("The quota and the split are fixed once the funding year is open.")
                    )
        if errors:
            raise ValidationError(errors)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def require_draft(self) -> None:
        """Quotas change only while the year is a draft: the rule, for a quota's ``clean`` and
        for the services that add, change or delete quotas (on the year they locked)."""
        if not self.is_draft:
            raise ValidationError(
                _("Quotas can only be changed while the funding year is a draft."),
                code=FundingError.YEAR_NOT_DRAFT.value,
            )

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class FundingQuota(models.Model):
    """A funded school's yearly quota; the set of quotas is the set of funded schools."""

    funding_year = models.ForeignKey(FundingYear, models.CASCADE, related_name="quotas", verbose_name=_("funding year"))
    school = models.ForeignKey(School, models.PROTECT, related_name="funding_quotas", verbose_name=_("school"))
    # Which alliance receives the 70 % share; filled at opening when the school is in exactly one.
    alliance = models.ForeignKey(
        Alliance,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="funding_quotas",
        verbose_name=_("alliance"),
        help_text=_("The alliance whose fund receives the lead-school share; needed only if the school is in several."),
    )
    quota = models.DecimalField(_("quota"), **MONEY, validators=[positive_money, fen_places])

    objects = FundingQuotaQuerySet.as_manager()
    scope = Scope(county="funding_year__county", schools=("school",))

    class Meta:
        verbose_name = _("funding quota")
        verbose_name_plural = _("funding quotas")
        ordering = ["funding_year", "school__code"]
        constraints = [
            models.UniqueConstraint(fields=["funding_year", "school"], name="funding_quota_unique_school"),
            models.CheckConstraint(condition=Q(quota__gt=0), name="funding_quota_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.school} · {self.quota}"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        year = self.funding_year if self.funding_year_id else None
        if year is not None:
            try:
                year.require_draft()
            except ValidationError as exc:
                errors.setdefault("__all__", []).extend(exc.error_list)
        if year is not None and self.school_id and self.school.county_id != year.county_id:
            errors.setdefault("school", []).append(_("The school belongs to another county."))
        if year is not None and self.alliance_id:
            if self.alliance.school_year_id != year.school_year_id:  # type: ignore[union-attr]
                errors.setdefault("alliance", []).append(_("The alliance belongs to another school year."))
            elif self.school_id and not self.alliance.memberships.filter(school_id=self.school_id).exists():  # type: ignore[union-attr, misc]
                errors.setdefault("alliance", []).append(_("The school is not a member of this alliance."))
        if errors:
            raise ValidationError(errors)


class Account(models.Model):
    """A ledger account of one funding year. Which of alliance/school is set depends on the kind."""

    class Kind(models.TextChoices):
        APPROPRIATION = "appropriation", _("County appropriation")
        POOL = "pool", _("County award pool")
        ALLIANCE_FUND = "alliance_fund", _("Alliance fund")
        SCHOOL_SPENDING = "school_spending", _("School spending")
        AWARDS_PAID = "awards_paid", _("Awards paid")
        RETURNED = "returned", _("Returned / unspent")
        # A programme fund's own accounts (one set per ProgrammeFund): appropriated, the part the
        # helper school spends, the part the bureau holds, spent, returned at year close.
        PROGRAMME_APPROPRIATION = "prog_approp", _("Programme appropriation")
        PROGRAMME_FUND = "prog_fund", _("Programme working fund")
        PROGRAMME_RESERVE = "prog_reserve", _("Programme fund held by the bureau")
        PROGRAMME_SPENT = "prog_spent", _("Programme spending")
        PROGRAMME_RETURNED = "prog_returned", _("Programme fund returned / unspent")

    funding_year = models.ForeignKey(
        FundingYear, models.PROTECT, related_name="accounts", verbose_name=_("funding year")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    alliance = models.ForeignKey(
        Alliance, models.PROTECT, null=True, blank=True, related_name="funding_accounts", verbose_name=_("alliance")
    )
    school = models.ForeignKey(
        School, models.PROTECT, null=True, blank=True, related_name="funding_accounts", verbose_name=_("school")
    )
    programme_fund = models.ForeignKey(
        "ProgrammeFund",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("programme fund"),
    )

    objects = AccountQuerySet.as_manager()
    # An alliance's accounts are the lead school's to see; a member school sees its own; a
    # programme fund's, its helper school.
    scope = Scope(
        county="funding_year__county",
        schools=(
            "school",
            Via("alliance__memberships__school", alliance__memberships__role="lead"),
            "programme_fund__helper_school",
        ),
    )

    COUNTY_KINDS = (Kind.APPROPRIATION, Kind.POOL)
    ALLIANCE_KINDS = (Kind.ALLIANCE_FUND, Kind.RETURNED)
    SCHOOL_KINDS = (Kind.SCHOOL_SPENDING, Kind.AWARDS_PAID)
    PROGRAMME_KINDS = (
        Kind.PROGRAMME_APPROPRIATION,
        Kind.PROGRAMME_FUND,
        Kind.PROGRAMME_RESERVE,
        Kind.PROGRAMME_SPENT,
        Kind.PROGRAMME_RETURNED,
    )

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["funding_year", "kind", "alliance_id", "school_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["funding_year", "kind"],
                condition=Q(kind__in=["appropriation", "pool"]),
                name="account_unique_county_kind",
            ),
            models.UniqueConstraint(
                fields=["funding_year", "kind", "alliance"],
                condition=Q(kind__in=["alliance_fund", "returned"]),
                name="account_unique_alliance_kind",
            ),
            models.UniqueConstraint(
                fields=["funding_year", "kind", "school"],
                condition=Q(kind__in=["school_spending", "awards_paid"]),
                name="account_unique_school_kind",
            ),
            models.UniqueConstraint(
                fields=["funding_year", "kind", "programme_fund"],
                condition=Q(kind__in=["prog_approp", "prog_fund", "prog_reserve", "prog_spent", "prog_returned"]),
                name="account_unique_programme_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind__in=["appropriation", "pool"],
                        alliance__isnull=True,
                        school__isnull=True,
                        programme_fund__isnull=True,
                    )
                    | Q(
                        kind__in=["alliance_fund", "returned"],
                        alliance__isnull=False,
                        school__isnull=True,
                        programme_fund__isnull=True,
                    )
                    | Q(
                        kind__in=["school_spending", "awards_paid"],
                        alliance__isnull=True,
                        school__isnull=False,
                        programme_fund__isnull=True,
                    )
                    | Q(
                        kind__in=["prog_approp", "prog_fund", "prog_reserve", "prog_spent", "prog_returned"],
                        alliance__isnull=True,
                        school__isnull=True,
                        programme_fund__isnull=False,
                    )
                ),
                name="account_owner_matches_kind_v2",
            ),
        ]

    def __str__(self) -> str:
        owner = self.alliance or self.school or self.programme_fund
        return f"{self.get_kind_display()} · {owner}" if owner else str(self.get_kind_display())


class LedgerEntry(models.Model):
    """One booking: its lines add up to zero. Inserted, never updated or deleted."""

    class Kind(models.TextChoices):
        ALLOCATION = "allocation", _("Allocation")
        SPENDING = "spending", _("Spending")
        AWARD = "award", _("Award")
        REVERSAL = "reversal", _("Reversal")
        YEAR_CLOSE = "year_close", _("Year close")
        PROGRAMME_ALLOCATION = "prog_allocation", _("Programme fund allocation")
        PROGRAMME_SPENDING = "prog_spending", _("Programme spending")

    funding_year = models.ForeignKey(
        FundingYear, models.PROTECT, related_name="entries", verbose_name=_("funding year")
    )
    kind = models.CharField(_("document type"), max_length=16, choices=Kind.choices)
    # The document that caused the entry: the funded school (allocation), the spending record,
    # or the reversed entry; awards and year close are documented by the memo.
    school = models.ForeignKey(
        School, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("school")
    )
    spending_record = models.ForeignKey(
        "SpendingRecord",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("spending record"),
    )
    reverses = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name=_("reverses")
    )
    # The documents of a programme fund's entries: the fund (its allocation), the spending.
    programme_fund = models.ForeignKey(
        "ProgrammeFund",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("programme fund"),
    )
    programme_spending = models.ForeignKey(
        "ProgrammeSpending",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("programme spending"),
    )
    reason = models.TextField(_("reason"), blank=True)
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = LedgerEntryQuerySet.as_manager()
    scope = Scope(
        county="funding_year__county",
        schools=(
            "lines__account__school",
            Via(
                "lines__account__alliance__memberships__school",
                lines__account__alliance__memberships__role="lead",
            ),
            "lines__account__programme_fund__helper_school",
        ),
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["funding_year", "pk"]
        constraints = [
            # The natural key that makes opening a year idempotent even if two openings race.
            models.UniqueConstraint(
                fields=["funding_year", "school"],
                condition=Q(kind="allocation"),
                name="entry_one_allocation_per_school",
            ),
            models.UniqueConstraint(
                fields=["spending_record"], condition=Q(kind="spending"), name="entry_one_per_spending_record"
            ),
            models.UniqueConstraint(
                fields=["funding_year"], condition=Q(kind="year_close"), name="entry_one_year_close"
            ),
            models.UniqueConstraint(
                fields=["programme_fund"],
                condition=Q(kind="prog_allocation"),
                name="entry_one_allocation_per_programme_fund",
            ),
            models.UniqueConstraint(
                fields=["programme_spending"],
                condition=Q(kind="prog_spending"),
                name="entry_one_per_programme_spending",
            ),
            models.CheckConstraint(
                condition=~Q(kind="reversal") | (Q(reverses__isnull=False) & ~Q(reason="")),
                name="entry_reversal_has_target_and_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"


class LedgerLine(models.Model):
    entry = models.ForeignKey(LedgerEntry, models.PROTECT, related_name="lines", verbose_name=_("entry"))
    account = models.ForeignKey(Account, models.PROTECT, related_name="lines", verbose_name=_("account"))
    amount = models.DecimalField(
        _("amount"), **MONEY, help_text=_("Debit positive, credit negative; the lines of an entry add up to zero.")
    )

    objects = LedgerLineQuerySet.as_manager()
    scope = Scope(
        county="entry__funding_year__county",
        schools=(
            "account__school",
            Via("account__alliance__memberships__school", account__alliance__memberships__role="lead"),
            "account__programme_fund__helper_school",
        ),
    )

    class Meta:
        verbose_name = _("ledger line")
        verbose_name_plural = _("ledger lines")
        ordering = ["entry", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_line_not_zero")]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount}"


class Category(models.TextChoices):
    TEACHING_RESEARCH = "teaching_research", _("Teaching research")
    TRAINING = "training", _("Training")
    STUDENT_AID = "student_aid", _("Student aid and scholarships")
    CLUBS = "clubs", _("Clubs")
    EQUIPMENT = "equipment", _("Equipment and goods")
    OTHER = "other", _("Other")


class SpendingPlan(models.Model):
    """One revision of an alliance's plan for its fund. Revising an approved plan adds a new
    revision; the old one is kept (superseded once the new one is approved)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned")
        SUPERSEDED = "superseded", _("Superseded")

    EDITABLE = (Status.DRAFT, Status.RETURNED)
    IN_PROGRESS = (Status.DRAFT, Status.SUBMITTED, Status.RETURNED)

    funding_year = models.ForeignKey(
        FundingYear, models.PROTECT, related_name="spending_plans", verbose_name=_("funding year")
    )
    alliance = models.ForeignKey(Alliance, models.PROTECT, related_name="spending_plans", verbose_name=_("alliance"))
    # The alliance's lead school when the plan was made: its principal owns the plan.
    lead_school = models.ForeignKey(
        School, models.PROTECT, related_name="+", editable=False, verbose_name=_("lead school")
    )
    revision = models.PositiveSmallIntegerField(_("revision"), default=1, editable=False)
    previous = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="next_revision", editable=False
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)

    objects = SpendingPlanQuerySet.as_manager()
    # The whole plan (every member school's lines) is the lead school's; a member school reads
    # its own lines (PlanLine).
    scope = Scope(county="funding_year__county", schools=("lead_school",), owners=("lead_school",))

    class Meta:
        verbose_name = _("spending plan")
        verbose_name_plural = _("spending plans")
        ordering = ["funding_year", "alliance", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["funding_year", "alliance", "revision"], name="plan_revision_unique"),
            models.UniqueConstraint(
                fields=["funding_year", "alliance"], condition=Q(status="approved"), name="plan_one_approved"
            ),
            models.UniqueConstraint(
                fields=["funding_year", "alliance"],
                condition=Q(status__in=["draft", "submitted", "returned"]),
                name="plan_one_in_progress",
            ),
        ]

    def __str__(self) -> str:
        return _("%(alliance)s plan, revision %(revision)s") % {"alliance": self.alliance, "revision": self.revision}

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class PlanLine(models.Model):
    plan = models.ForeignKey(SpendingPlan, models.CASCADE, related_name="lines", verbose_name=_("spending plan"))
    school = models.ForeignKey(School, models.PROTECT, related_name="plan_lines", verbose_name=_("member school"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    amount = models.DecimalField(_("amount"), **MONEY, validators=[positive_money, fen_places])
    notes = models.TextField(_("notes"), blank=True)

    objects = PlanLineQuerySet.as_manager()
    scope = Scope(
        county="plan__funding_year__county", schools=("school", "plan__lead_school"), owners=("plan__lead_school",)
    )

    class Meta:
        verbose_name = _("plan line")
        verbose_name_plural = _("plan lines")
        ordering = ["plan", "school__code", "category"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "school", "category"], name="plan_line_unique_school_category"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="plan_line_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.school} · {self.get_category_display()} · {self.amount}"

    def clean(self) -> None:
        # A line's own rules; that its plan must still be editable (and the lock that keeps it
        # so while the plan is submitted) is ``services.plan_line_check``'s.
        errors: dict[str, list] = {}
        if not self.plan_id:
            return
        plan = self.plan
        if not plan.funding_year.is_open:
            errors.setdefault("plan", []).append(
                ValidationError(_("The funding year is not open."), code=FundingError.YEAR_NOT_OPEN.value)
            )
        if self.school_id and not plan.alliance.memberships.filter(school_id=self.school_id).exists():
            errors.setdefault("school", []).append(
                ValidationError(
                    _("The school is not a member of this plan's alliance."), code=FundingError.NOT_MEMBER.value
                )
            )
        if errors:
            raise ValidationError(errors)


def receipt_path(instance: SpendingRecord, filename: str) -> str:
    return f"receipts/{instance.plan_line.plan.funding_year.school_year.start_year}/{filename}"


class Spending(models.Model):
    """What every spending holds, on a 70/30 plan line (``SpendingRecord``) or a programme fund's
    line (``ProgrammeSpending``): the rules they share are ``services._require_spendable``."""

    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), **MONEY, validators=[positive_money, fen_places])
    payee = models.CharField(_("payee"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    receipt = ProtectedFileField(_("receipt"), upload_to=UploadTo("receipts"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", editable=False, verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.date} · {self.payee} · {self.amount}"


class SpendingRecord(Spending):
    """Money actually spent on a plan line; booked by ``spending_record_create``. A wrong record
    is corrected by reversing its ledger entry, never by editing it."""

    plan_line = models.ForeignKey(
        PlanLine, models.PROTECT, related_name="spending_records", verbose_name=_("plan line")
    )

    objects = SpendingRecordQuerySet.as_manager()
    scope = Scope(
        county="plan_line__plan__funding_year__county",
        schools=("plan_line__school", "plan_line__plan__lead_school"),
        owners=("plan_line__school", "plan_line__plan__lead_school"),
    )

    class Meta:
        verbose_name = _("spending record")
        verbose_name_plural = _("spending records")
        ordering = ["-date", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="spending_record_amount_positive")]


class ProgrammeFund(models.Model):
    """A helper school's working fund of a cross-county programme (seed 002: 100,000 CNY a year
    per helper school), held in its county's funding year beside the 70/30 quotas, with a split
    of its own: ``spend_share`` the helper school spends on the programme's work, the rest the
    bureau holds. Booked at the year's opening (or when added to an open year) into accounts of
    its own; planned and spent through ``ProgrammeFundLine`` and ``ProgrammeSpending``."""

    funding_year = models.ForeignKey(
        FundingYear, models.PROTECT, related_name="programme_funds", verbose_name=_("funding year")
    )
    programme = models.ForeignKey(
        Programme, models.PROTECT, related_name="funds", verbose_name=_("cross-county programme")
    )
    helper_school = models.ForeignKey(
        School, models.PROTECT, related_name="programme_funds", verbose_name=_("helper school")
    )
    amount = models.DecimalField(_("amount"), **MONEY, validators=[positive_money, fen_places])
    spend_share = models.DecimalField(
        _("helper school's share"),
        **SHARE,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text=_("Fraction the helper school spends (1.00 = 100 %); the rest is held by the bureau."),
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="funding_year__county", schools=("helper_school",))

    class Meta:
        verbose_name = _("programme fund")
        verbose_name_plural = _("programme funds")
        ordering = ["funding_year", "programme", "helper_school__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["funding_year", "programme", "helper_school"],
                name="programme_fund_unique",
                violation_error_message=_("This helper school already has a fund of this programme this year."),
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="programme_fund_positive"),
            models.CheckConstraint(
                condition=Q(spend_share__gte=0) & Q(spend_share__lte=1), name="programme_fund_share_is_fraction"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.helper_school}"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        year = self.funding_year if self.funding_year_id else None
        if year is not None and self.helper_school_id and self.helper_school.county_id != year.county_id:
            errors.setdefault("helper_school", []).append(_("The school belongs to another county."))
        if year is not None and self.programme_id and self.programme.helper_county_id != year.county_id:
            errors.setdefault("programme", []).append(
                _("The funding year's county is not the programme's helper county.")
            )
        if errors:
            raise ValidationError(errors)


class ProgrammeFundLine(models.Model):
    """A line of a programme fund's plan: what the helper school means to spend, on which
    category, for which helped school (none: its own programme work)."""

    fund = models.ForeignKey(ProgrammeFund, models.CASCADE, related_name="lines", verbose_name=_("programme fund"))
    helped_school = models.ForeignKey(
        School, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("helped school")
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    amount = models.DecimalField(_("amount"), **MONEY, validators=[positive_money, fen_places])
    notes = models.TextField(_("notes"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        county="fund__funding_year__county", schools=("fund__helper_school",), owners=("fund__helper_school",)
    )

    class Meta:
        verbose_name = _("programme fund plan line")
        verbose_name_plural = _("programme fund plan lines")
        ordering = ["fund", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "helped_school", "category"],
                name="programme_line_unique",
                nulls_distinct=False,
                violation_error_message=_("The plan already has a line for this school and category."),
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="programme_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.fund} · {self.get_category_display()} · {self.amount}"


class ProgrammeSpending(Spending):
    """Money spent on a line of a programme fund's plan; booked by ``programme_spending_create``."""

    line = models.ForeignKey(
        ProgrammeFundLine, models.PROTECT, related_name="spendings", verbose_name=_("programme fund plan line")
    )

    objects = ProgrammeSpendingQuerySet.as_manager()
    scope = Scope(
        county="line__fund__funding_year__county",
        schools=("line__fund__helper_school",),
        owners=("line__fund__helper_school",),
    )

    class Meta:
        verbose_name = _("programme spending")
        verbose_name_plural = _("programme spending")
        ordering = ["-date", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="programme_spending_positive")]

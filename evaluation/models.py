"""Rubrics, indicator values, computed results, runs of the overnight job, appeals and
publications of the evaluation (评价) and its differential awards (差额奖补)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from alliance.access import Scope, Via
from alliance.models import Alliance, County, School, SchoolYear, Term
from alliance.querysets import ScopedQuerySet
from alliance.uploads import ProtectedFileField, UploadTo
from funding.models import LedgerEntry
from staffing.models import Teacher

from .fields import JSONTextField
from .querysets import EvaluationRunQuerySet, PersonResultQuerySet, SchoolResultQuerySet

SCORE: dict[str, Any] = {"max_digits": 6, "decimal_places": 2}
MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class Subject(models.TextChoices):
    """Whom a rubric and its periods evaluate (seed 003: schools, principals and teachers)."""

    SCHOOL = "school", pgettext_lazy("evaluated", "Schools")
    PRINCIPAL = "principal", pgettext_lazy("evaluated", "Principals")
    TEACHER = "teacher", pgettext_lazy("evaluated", "Teachers")


PEOPLE = (Subject.PRINCIPAL, Subject.TEACHER)


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent (优秀)")
    GOOD = "good", _("Good (良好)")
    PASS = "pass", _("Pass (合格)")
    FAIL = "fail", _("Fail (不合格)")


def validate_beta(value: Decimal | None) -> None:
    """β, the share of a core school's final score from its member schools: 0 to 1 (the one
    check, for the rubric's field and the what-if preview's β alike)."""
    if value is not None and not (Decimal(0) <= value <= Decimal(1)):
        raise ValidationError(_("β must be between 0 and 1."), code="out_of_range")


def default_grade_bands() -> dict[str, str]:
    return {Grade.EXCELLENT: "90", Grade.GOOD: "75", Grade.PASS: "60"}


class Rubric(models.Model):
    """A county's evaluation plan (评价方案) for a school year, in numbered versions."""

    class BundlingBasis(models.TextChoices):
        OWN_TOTAL = "own_total", _("Member schools' totals")
        IMPROVEMENT = "improvement", _("Member schools' improvement over the last period")

    class AllianceAveraging(models.TextChoices):
        PLAIN = "plain", _("Plain mean")
        QUOTA = "quota", _("Weighted by quota")

    county = models.ForeignKey(County, models.PROTECT, related_name="rubrics", verbose_name=_("county"))
    school_year = models.ForeignKey(SchoolYear, models.PROTECT, related_name="rubrics", verbose_name=_("school year"))
    subject = models.CharField(
        _("evaluates"), max_length=10, choices=Subject.choices, default=Subject.SCHOOL, db_default=Subject.SCHOOL
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True, editable=False)
    locked = models.BooleanField(_("locked"), default=False, editable=False)
    beta = models.DecimalField(
        _("bundling weight β"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.40"),
        validators=[validate_beta],
        help_text=_("Share of a core school's final score that comes from its member schools (0–1)."),
    )
    bundling_basis = models.CharField(
        _("bundling basis"), max_length=16, choices=BundlingBasis.choices, default=BundlingBasis.OWN_TOTAL
    )
    alliance_averaging = models.CharField(
        _("alliance averaging"), max_length=8, choices=AllianceAveraging.choices, default=AllianceAveraging.PLAIN
    )
    grade_bands = models.JSONField(
        _("grade bands"),
        default=default_grade_bands,
        help_text=_("Lowest score of each grade, e.g. excellent 90, good 75, pass 60; below that: fail."),
    )
    decline_periods = models.PositiveSmallIntegerField(
        _("decline periods"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("A school whose final score fell this many periods in a row is flagged."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="county", county_wide=True)

    class Meta:
        verbose_name = _("rubric")
        verbose_name_plural = _("rubrics")
        ordering = ["county", "-school_year__start_year", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "school_year", "subject", "version"], name="rubric_version_unique"
            ),
            models.CheckConstraint(condition=Q(beta__gte=0) & Q(beta__lte=1), name="rubric_beta_in_unit_interval"),
            models.CheckConstraint(condition=Q(decline_periods__gte=1), name="rubric_decline_periods_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def evaluates_people(self) -> bool:
        return self.subject in PEOPLE

    def clean(self) -> None:
        errors: dict[str, list] = {}
        try:
            from .scoring import parse_grade_bands

            parse_grade_bands(self.grade_bands)
        except ValueError as exc:
            errors["grade_bands"] = [str(exc)]
        if self.school_year_id and self.county_id and self.school_year.county_id != self.county_id:
            errors["school_year"] = [_("The school year belongs to another county.")]
        if errors:
            raise ValidationError(errors)


class Dimension(models.Model):
    rubric = models.ForeignKey(Rubric, models.CASCADE, related_name="dimensions", verbose_name=_("rubric"))
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="rubric__county", county_wide=True)

    class Meta:
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")
        ordering = ["rubric", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["rubric", "code"], name="dimension_code_unique_in_rubric")]

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    class Method(models.TextChoices):
        MANUAL = "manual", _("Entered by an assessor")
        COMPUTED = "computed", _("Computed from logged data")
        SURVEY = "survey", _("Satisfaction survey")

    class Rule(models.TextChoices):
        TARGET = "target", _("Share of a target")
        BANDS = "bands", _("Banded thresholds")
        RANK = "rank", _("Rank within the county")

    class Direction(models.TextChoices):
        HIGHER = "higher", _("Higher is better")
        LOWER = "lower", _("Lower is better")

    dimension = models.ForeignKey(Dimension, models.CASCADE, related_name="indicators", verbose_name=_("dimension"))
    code = models.SlugField(_("code"), max_length=60, help_text=_("Stable across versions and years."))
    name = models.CharField(_("name"), max_length=200)
    max_points = models.DecimalField(
        _("max points"), max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    metric_key = models.CharField(_("metric"), max_length=60, blank=True)
    rule = models.CharField(_("rule"), max_length=8, choices=Rule.choices, default=Rule.TARGET)
    rule_params = models.JSONField(_("rule parameters"), default=dict, blank=True)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    value_min = models.DecimalField(_("lowest value"), max_digits=14, decimal_places=4, default=Decimal(0))
    value_max = models.DecimalField(_("highest value"), max_digits=14, decimal_places=4, default=Decimal(100))
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="dimension__rubric__county", county_wide=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["dimension", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="indicator_code_unique_in_dimension"),
            models.CheckConstraint(condition=Q(max_points__gt=0), name="indicator_max_points_positive"),
            models.CheckConstraint(condition=Q(value_max__gte=models.F("value_min")), name="indicator_range_ordered"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from .metrics import REGISTRY
        from .scoring import validate_rule

        errors: dict[str, list] = {}
        if self.method == self.Method.COMPUTED:
            if self.metric_key not in REGISTRY:
                errors["metric_key"] = [_("Choose a metric from the registry.")]
        elif self.metric_key:
            errors["metric_key"] = [_("Only a computed indicator names a metric.")]
        if self.value_min is not None and self.value_max is not None and self.value_max < self.value_min:
            errors["value_max"] = [_("The highest value must not be below the lowest.")]
        try:
            validate_rule(self.rule, self.rule_params, self.max_points or Decimal(0))
        except ValueError as exc:
            errors["rule_params"] = [str(exc)]
        if errors:
            raise ValidationError(errors)


class EvaluationPeriod(models.Model):
    """What is scored: a term or a whole school year of a county."""

    class Kind(models.TextChoices):
        TERM = "term", _("Term")
        YEAR = "year", _("School year")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PROPOSED = "proposed", _("Proposed (public notice)")
        PUBLISHED = "published", _("Published")

    county = models.ForeignKey(County, models.PROTECT, related_name="evaluation_periods", verbose_name=_("county"))
    school_year = models.ForeignKey(
        SchoolYear, models.PROTECT, related_name="evaluation_periods", verbose_name=_("school year")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.YEAR)
    subject = models.CharField(
        _("evaluates"),
        max_length=10,
        choices=Subject.choices,
        default=Subject.SCHOOL,
        db_default=Subject.SCHOOL,
        help_text=_("Whom the period evaluates, by the county's rubric of that subject."),
    )
    term = models.ForeignKey(Term, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("term"))
    start_date = models.DateField(_("start date"), editable=False)
    end_date = models.DateField(_("end date"), editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN, editable=False)
    notice_days = models.PositiveSmallIntegerField(_("notice days"), default=7, validators=[MinValueValidator(1)])
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True, editable=False)
    notice_ends_at = models.DateTimeField(_("public notice ends at"), null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    # When its results were last computed and written (the nightly run, a proposal, an appeal).
    computed_at = models.DateTimeField(_("results computed at"), null=True, blank=True, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="county", county_wide=True)

    class Meta:
        verbose_name = _("evaluation period")
        verbose_name_plural = _("evaluation periods")
        ordering = ["county", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "school_year", "subject", "term"], name="period_term_unique", condition=Q(kind="term")
            ),
            models.UniqueConstraint(
                fields=["county", "school_year", "subject"], name="period_year_unique", condition=Q(kind="year")
            ),
            models.CheckConstraint(
                condition=(Q(kind="term") & Q(term__isnull=False)) | (Q(kind="year") & Q(term__isnull=True)),
                name="period_term_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        name = str(self.term) if self.kind == self.Kind.TERM and self.term_id else str(self.school_year)
        if self.subject != Subject.SCHOOL:
            return f"{name} · {self.get_subject_display()}"
        return name

    @property
    def evaluates_people(self) -> bool:
        return self.subject in PEOPLE

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.kind == self.Kind.TERM and not self.term_id:
            errors["term"] = [_("A term period names its term.")]
        if self.kind == self.Kind.YEAR and self.term_id:
            errors["term"] = [_("A school-year period does not name a term.")]
        if self.term_id and self.school_year_id and self.term.school_year_id != self.school_year_id:  # type: ignore[union-attr]
            errors["term"] = [_("The term belongs to another school year.")]
        if self.school_year_id and self.county_id and self.school_year.county_id != self.county_id:
            errors["school_year"] = [_("The school year belongs to another county.")]
        if errors:
            raise ValidationError(errors)


class IndicatorValue(models.Model):
    """A manual or survey value of an indicator for a school and period (or a correction of a
    computed one, after an accepted appeal)."""

    period = models.ForeignKey(EvaluationPeriod, models.CASCADE, related_name="values", verbose_name=_("period"))
    indicator = models.ForeignKey(Indicator, models.PROTECT, related_name="values", verbose_name=_("indicator"))
    # For a principals' period, the school is the principal's position; for a teachers' period,
    # the teacher's school (who may read and enter it), and the teacher is the subject.
    school = models.ForeignKey(School, models.PROTECT, related_name="indicator_values", verbose_name=_("school"))
    teacher = models.ForeignKey(
        Teacher, models.PROTECT, null=True, blank=True, related_name="indicator_values", verbose_name=_("teacher")
    )
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4)
    comment = models.TextField(_("comment"), blank=True)
    evidence = ProtectedFileField(_("evidence"), upload_to=UploadTo("evaluation/evidence"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("entered by"), editable=False
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="school__county", schools=("school",), assessed=("school",))

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["period", "school", "indicator"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "indicator", "school"],
                condition=Q(teacher__isnull=True),
                name="indicator_value_unique",
            ),
            models.UniqueConstraint(
                fields=["period", "indicator", "teacher"],
                condition=Q(teacher__isnull=False),
                name="indicator_value_teacher_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher or self.school} · {self.indicator}: {self.value}"

    @staticmethod
    def subject_key(school_id: int | None, teacher_id: int | None) -> dict[str, Any]:
        """Whose value a row is, beside its period and indicator, as the unique constraints key
        it: the teacher where one is named (a teachers' period), else the school (a school or
        its principal position)."""
        if teacher_id is not None:
            return {"teacher_id": teacher_id}
        return {"school_id": school_id, "teacher_id": None}


class RubricSnapshot(models.Model):
    """A rubric's content (``compute.rubric_content``) as results were computed with it, stored
    once per content hash. A school result's trace keeps only the school's own figures (each
    indicator's source, raw value and points); showing it joins them with the snapshot of the
    hash the result records (``trace.explain``), so a result reads the same however its rubric
    is edited or revised later, and the snapshot's hash can be checked against its content."""

    content_hash = models.CharField(_("content hash"), max_length=64, unique=True)
    content = models.JSONField(_("content"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rubric snapshot")
        verbose_name_plural = _("rubric snapshots")

    def __str__(self) -> str:
        return self.content_hash[:12]


class SchoolResult(models.Model):
    period = models.ForeignKey(
        EvaluationPeriod, models.CASCADE, related_name="school_results", verbose_name=_("period")
    )
    school = models.ForeignKey(School, models.PROTECT, related_name="evaluation_results", verbose_name=_("school"))
    alliance = models.ForeignKey(
        Alliance, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("alliance")
    )
    own_total = models.DecimalField(_("own total"), **SCORE)
    final_score = models.DecimalField(_("final score"), **SCORE)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    award_preview = models.DecimalField(_("award (preview)"), null=True, blank=True, **MONEY)
    award = models.DecimalField(_("award (published)"), null=True, blank=True, **MONEY)
    rubric = models.ForeignKey(Rubric, models.PROTECT, related_name="+", verbose_name=_("rubric"))
    rubric_version = models.PositiveSmallIntegerField(_("rubric version"))
    rubric_hash = models.CharField(_("rubric hash"), max_length=64)
    trace = JSONTextField(_("trace"), default=dict)
    # What the nightly job last wrote, as a digest (pgtools.bulk.sync_rows): an unchanged
    # result is not sent to the database again.
    row_digest = models.CharField(_("row digest"), max_length=32, blank=True, db_default="", editable=False)

    objects = SchoolResultQuerySet.as_manager()
    scope = Scope(county="school__county", schools=("school",))

    class Meta:
        verbose_name = _("school result")
        verbose_name_plural = _("school results")
        ordering = ["period", "-final_score", "school__code"]
        constraints = [models.UniqueConstraint(fields=["period", "school"], name="school_result_unique")]

    def __str__(self) -> str:
        return f"{self.school}: {self.final_score}"

    @property
    def explained_trace(self) -> dict:
        """The trace with the rubric's names, rules and bands joined back (``trace.explain``)."""
        from .trace import explain

        return explain(self.trace, self.rubric_hash)


class AllianceResult(models.Model):
    period = models.ForeignKey(
        EvaluationPeriod, models.CASCADE, related_name="alliance_results", verbose_name=_("period")
    )
    alliance = models.ForeignKey(
        Alliance, models.PROTECT, related_name="evaluation_results", verbose_name=_("alliance")
    )
    score = models.DecimalField(_("score"), **SCORE)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    rubric_version = models.PositiveSmallIntegerField(_("rubric version"))
    rubric_hash = models.CharField(_("rubric hash"), max_length=64)
    trace = JSONTextField(_("trace"), default=dict)
    # What the nightly job last wrote, as a digest (pgtools.bulk.sync_rows): an unchanged
    # result is not sent to the database again.
    row_digest = models.CharField(_("row digest"), max_length=32, blank=True, db_default="", editable=False)

    objects = SchoolResultQuerySet.as_manager()
    # The trace lists every school's final score: the lead school's to read (it reads its
    # members' rows anyway), not a member school's.
    scope = Scope(
        county="period__county",
        schools=(Via("alliance__memberships__school", alliance__memberships__role="lead"),),
    )

    class Meta:
        verbose_name = _("alliance result")
        verbose_name_plural = _("alliance results")
        ordering = ["period", "-score"]
        constraints = [models.UniqueConstraint(fields=["period", "alliance"], name="alliance_result_unique")]

    def __str__(self) -> str:
        return f"{self.alliance}: {self.score}"


class PersonResult(models.Model):
    """A principal's or a teacher's result in a principals' or teachers' period (seed 003): the
    same dimensions, indicators, rules, grades and decline check as a school's, without bundling
    or awards (docs/adr/0008). A principal's subject is the school's principal position
    (``school``, no teacher); a teacher's is the teacher (``teacher``; ``school`` is the
    teacher's school as computed). A decline is kept on the row (``falls``, ``decline_scores``)."""

    period = models.ForeignKey(
        EvaluationPeriod, models.CASCADE, related_name="person_results", verbose_name=_("period")
    )
    subject = models.CharField(_("evaluates"), max_length=10, choices=Subject.choices)
    school = models.ForeignKey(School, models.PROTECT, related_name="person_results", verbose_name=_("school"))
    teacher = models.ForeignKey(
        Teacher, models.PROTECT, null=True, blank=True, related_name="evaluation_results", verbose_name=_("teacher")
    )
    score = models.DecimalField(_("score"), **SCORE)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    falls = models.PositiveSmallIntegerField(_("consecutive falls"), default=0)
    decline_scores = models.JSONField(_("scores, oldest first (when declining)"), default=list, blank=True)
    rubric = models.ForeignKey(Rubric, models.PROTECT, related_name="+", verbose_name=_("rubric"))
    rubric_version = models.PositiveSmallIntegerField(_("rubric version"))
    rubric_hash = models.CharField(_("rubric hash"), max_length=64)
    trace = JSONTextField(_("trace"), default=dict)
    row_digest = models.CharField(_("row digest"), max_length=32, blank=True, db_default="", editable=False)

    objects = PersonResultQuerySet.as_manager()
    # The rows each reader reaches are ``access.visible_person_results``'s (own result only).
    scope = Scope(county="school__county")

    class Meta:
        verbose_name = _("principal or teacher result")
        verbose_name_plural = _("principal and teacher results")
        ordering = ["period", "-score", "school__code", "teacher_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "school"], condition=Q(teacher__isnull=True), name="person_result_principal_unique"
            ),
            models.UniqueConstraint(
                fields=["period", "teacher"], condition=Q(teacher__isnull=False), name="person_result_teacher_unique"
            ),
            models.CheckConstraint(
                condition=(Q(subject="principal") & Q(teacher__isnull=True))
                | (Q(subject="teacher") & Q(teacher__isnull=False)),
                name="person_result_subject_matches",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher or self.school}: {self.score}"

    @property
    def declining(self) -> bool:
        return self.falls > 0

    @property
    def explained_trace(self) -> dict:
        from .trace import explain

        return explain(self.trace, self.rubric_hash)


class DeclineWarning(models.Model):
    """连续下滑: the school's final score fell in the last N periods in a row."""

    period = models.ForeignKey(
        EvaluationPeriod, models.CASCADE, related_name="decline_warnings", verbose_name=_("period")
    )
    school = models.ForeignKey(School, models.PROTECT, related_name="decline_warnings", verbose_name=_("school"))
    falls = models.PositiveSmallIntegerField(_("consecutive falls"))
    scores = models.JSONField(_("scores, oldest first"), default=list)

    objects = SchoolResultQuerySet.as_manager()
    scope = Scope(county="school__county", schools=("school",))

    class Meta:
        verbose_name = _("decline warning")
        verbose_name_plural = _("decline warnings")
        ordering = ["period", "school__code"]
        constraints = [models.UniqueConstraint(fields=["period", "school"], name="decline_warning_unique")]

    def __str__(self) -> str:
        return f"{self.school} ↓{self.falls}"


class AwardPolicy(models.Model):
    """How a county's 30 % pool of a school year is divided."""

    class Kind(models.TextChoices):
        PROPORTIONAL = "proportional", _("Proportional to score × quota")
        TIERS = "tiers", _("Coefficient per grade × 30 % share")

    county = models.ForeignKey(County, models.PROTECT, related_name="award_policies", verbose_name=_("county"))
    school_year = models.ForeignKey(SchoolYear, models.PROTECT, related_name="+", verbose_name=_("school year"))
    kind = models.CharField(_("policy"), max_length=16, choices=Kind.choices, default=Kind.PROPORTIONAL)
    tier_coefficients = models.JSONField(
        _("coefficients per grade"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"excellent": "1.2", "good": "1.0", "pass": "0.8", "fail": "0"}'),
    )
    pass_threshold = models.DecimalField(
        _("pass threshold"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Schools scoring below this get nothing."),
    )
    fill_pool = models.BooleanField(
        _("scale to use the whole pool"),
        default=True,
        help_text=_("Tiers only: off = pay coefficient × share (scaled down only if over the pool), rest stays."),
    )
    # Which periods pay from the year's pool, and the share each may pay (``awards.period_pool``).
    period_shares = models.JSONField(
        _("share of the pool per period"),
        default=dict,
        blank=True,
        help_text=_(
            'e.g. {"term1": "0.30", "year": "0.70"}; empty: the school-year period pays the whole pool, '
            "term periods pay nothing."
        ),
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="county", county_wide=True)

    class Meta:
        verbose_name = _("award policy")
        verbose_name_plural = _("award policies")
        constraints = [models.UniqueConstraint(fields=["county", "school_year"], name="award_policy_unique")]

    def __str__(self) -> str:
        return f"{self.school_year} · {self.get_kind_display()}"

    @property
    def is_settled(self) -> bool:
        """Whether an evaluation of the county's school year has been proposed or published:
        its awards were computed under this policy, so the policy no longer changes (a
        correction is a new published revision, ``services.correction_approve``)."""
        return bool(self.county_id and self.school_year_id) and (
            EvaluationPeriod.objects.filter(
                county_id=self.county_id,
                school_year_id=self.school_year_id,
                subject=Subject.SCHOOL,  # people's periods pay nothing (docs/adr/0008)
                status__in=(EvaluationPeriod.Status.PROPOSED, EvaluationPeriod.Status.PUBLISHED),
            ).exists()
        )

    def _refuse_if_settled(self) -> None:
        if self.is_settled:
            raise ValidationError(
                _(
                    "This school year's awards have been proposed or published under this policy; "
                    "it can no longer be changed or deleted."
                ),
                code="award_policy_settled",
            )

    def clean(self) -> None:
        from .awards import PolicyParams, parse_period_shares

        self._refuse_if_settled()
        try:
            parse_period_shares(self.period_shares)
        except ValidationError as exc:
            raise ValidationError({"period_shares": exc.messages}) from exc
        try:
            PolicyParams.from_policy(self).validate()
        except ValidationError as exc:
            raise ValidationError({"tier_coefficients": exc.messages}) from exc

    def delete(self, *args, **kwargs):
        self._refuse_if_settled()
        return super().delete(*args, **kwargs)


class EvaluationRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        REFUSED = "refused", _("Refused (another run was running)")
        ABANDONED = "abandoned", _("Abandoned (its process stopped beating)")
        NOT_QUEUED = "not_queued", _("Not queued (the job queue was unreachable)")

    county = models.ForeignKey(
        County, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("county")
    )
    start_year = models.PositiveSmallIntegerField(_("school year"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    # The claim: at most one row may be running (a partial unique index on this constant).
    lock = models.CharField(max_length=16, default="evaluation", editable=False)
    periods_count = models.PositiveIntegerField(_("periods"), default=0)
    schools_count = models.PositiveIntegerField(_("school results"), default=0)
    alliances_count = models.PositiveIntegerField(_("alliance results"), default=0)
    warnings_count = models.PositiveIntegerField(_("decline warnings"), default=0)
    people_count = models.PositiveIntegerField(_("principal and teacher results"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    error = models.TextField(_("error"), blank=True)
    trigger = models.CharField(_("started by"), max_length=60, blank=True)
    # Beaten by the running process at most every EVALUATION_HEARTBEAT_SECONDS, on a connection
    # of its own; a running row whose beat stopped is swept as abandoned (services.nightly).
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    # The run's PostgreSQL session (pg_backend_pid), so the sweep can end exactly that one.
    backend_pid = models.IntegerField(null=True, blank=True, editable=False)
    # Periods left out and why, e.g. [{"period": 3, "county": "330100", "reason": "…"}].
    skipped = models.JSONField(_("skipped periods"), default=list, blank=True)

    objects = EvaluationRunQuerySet.as_manager()
    scope = Scope(county="county")

    class Meta:
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["lock"], condition=Q(status="running"), name="evaluation_one_running_run"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="evaluation_run_progress_max_100"),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_status_display()}"


class NightlySchedule(models.Model):
    """A county's night: when its evaluation runs (local time) and whether it runs at all. The
    one beat task (``evaluation.nightly_tick``) runs every county whose time has come today; a
    county's bureau staff edit only their county's row."""

    DEFAULT_RUN_AT = dt.time(2, 0)

    county = models.OneToOneField(County, models.CASCADE, related_name="nightly_schedule", verbose_name=_("county"))
    enabled = models.BooleanField(_("runs every night"), default=True)
    run_at = models.TimeField(_("time (local)"), default=DEFAULT_RUN_AT)
    # The local date of the last scheduled run claimed for this county (claimed under the
    # evaluation lock by a conditional UPDATE), and that run; an abandoned run gives it back.
    last_run_on = models.DateField(_("last run on"), null=True, blank=True, editable=False)
    last_run = models.ForeignKey(
        EvaluationRun, models.SET_NULL, null=True, blank=True, related_name="+", editable=False,
        verbose_name=_("last run"),
    )  # fmt: skip

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="county")

    class Meta:
        verbose_name = _("nightly schedule")
        verbose_name_plural = _("nightly schedules")
        ordering = ["county__code"]

    def __str__(self) -> str:
        return f"{self.county} {self.run_at:%H:%M}"


class Appeal(models.Model):
    """申诉: a principal contests an indicator value during the public notice."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    period = models.ForeignKey(EvaluationPeriod, models.CASCADE, related_name="appeals", verbose_name=_("period"))
    school = models.ForeignKey(School, models.PROTECT, related_name="appeals", verbose_name=_("school"))
    indicator = models.ForeignKey(Indicator, models.PROTECT, related_name="appeals", verbose_name=_("indicator"))
    reason = models.TextField(_("reason"))
    evidence = ProtectedFileField(_("evidence"), upload_to=UploadTo("evaluation/appeals"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("filed by"))
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision = models.TextField(_("decision"), blank=True)
    corrected_value = models.DecimalField(_("corrected value"), max_digits=14, decimal_places=4, null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="school__county", schools=("school",), owners=("school",))

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-filed_at"]

    def __str__(self) -> str:
        return f"{self.school} · {self.indicator} ({self.get_status_display()})"


class Publication(models.Model):
    """A published revision of a period's scores and awards (the first, or a correction)."""

    period = models.ForeignKey(EvaluationPeriod, models.PROTECT, related_name="publications", verbose_name=_("period"))
    revision = models.PositiveSmallIntegerField(_("revision"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("approved by")
    )
    approved_at = models.DateTimeField(_("approved at"))
    reason = models.TextField(_("reason"), blank=True)
    awards = models.JSONField(_("awards by school id"), default=dict)
    # The funding app's ledger entries: the awards booked, and their reversal by a later revision.
    ledger_entry = models.ForeignKey(
        LedgerEntry, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("ledger entry")
    )
    reversal_entry = models.ForeignKey(
        LedgerEntry, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("reversing entry")
    )

    objects = ScopedQuerySet.as_manager()
    # The frozen awards of every school: the bureau's and the auditors', not the schools' (each
    # school reads its own result and award through SchoolResult).
    scope = Scope(county="period__county")

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["period", "revision"]
        constraints = [models.UniqueConstraint(fields=["period", "revision"], name="publication_revision_unique")]

    def __str__(self) -> str:
        return f"{self.period} r{self.revision}"


class Correction(models.Model):
    """A correction of a published period: proposed by one bureau user, approved by another
    (four eyes, as for publishing). Until it is approved nothing changes; approving it writes
    the corrected values, recomputes the period and books a new published revision (the last
    one's award entry reversed), all in one transaction (``services.correction_approve``)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for approval")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    period = models.ForeignKey(EvaluationPeriod, models.PROTECT, related_name="corrections", verbose_name=_("period"))
    reason = models.TextField(_("reason"))
    # The corrected values: [{"indicator": id, "school": id, "value": "…"}], checked when proposed;
    # a value of a teachers' period names the teacher too ({"teacher": id}, its school the
    # teacher's), as its IndicatorValue does.
    values = models.JSONField(_("corrected values"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision = models.TextField(_("decision"), blank=True)
    publication = models.OneToOneField(
        Publication, models.PROTECT, null=True, blank=True, related_name="correction", verbose_name=_("publication")
    )

    objects = ScopedQuerySet.as_manager()
    # Like publications: the bureau's and the auditors'.
    scope = Scope(county="period__county")

    class Meta:
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        ordering = ["period", "-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["period"], condition=Q(status="pending"), name="correction_one_pending_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period} · {self.get_status_display()}"

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alliance import access
from alliance.models import School
from alliance.rest import ScopedModelSerializer
from staffing.models import Teacher

from .models import (
    AllianceResult,
    Appeal,
    AwardPolicy,
    Correction,
    DeclineWarning,
    Dimension,
    EvaluationPeriod,
    EvaluationRun,
    Indicator,
    IndicatorValue,
    PersonResult,
    Publication,
    Rubric,
    SchoolResult,
    Subject,
)


class ScopedInputSerializer(serializers.Serializer):
    """The input of a service call. Related rows are offered as the checkpoint narrows them for
    the user (``county_scoped``: rows of the user's county; others: rows the user may read),
    as a model serializer's would be."""

    county_scoped: tuple[str, ...] = ()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        user = getattr(self.context.get("request"), "user", None)
        for name, field in fields.items():
            qs = getattr(field, "queryset", None)
            if qs is not None and user is not None:
                kind = "county" if name in self.county_scoped else "read"
                cast(Any, field).queryset = access.narrow_related(qs, user, kind=kind)
                # Which rule refused a row out of reach, whether or not it exists elsewhere.
                message = access.out_of_reach_message(user, qs.model, kind)
                field.error_messages = {**field.error_messages, "does_not_exist": message}
        return fields


class IndicatorSerializer(ScopedModelSerializer):
    class Meta:
        model = Indicator
        fields = [
            "id", "dimension", "code", "name", "max_points", "method", "metric_key", "rule",
            "rule_params", "direction", "value_min", "value_max", "order",
        ]  # fmt: skip
        read_only_fields = fields


class DimensionSerializer(ScopedModelSerializer):
    indicators = IndicatorSerializer(many=True, read_only=True)

    class Meta:
        model = Dimension
        fields = ["id", "code", "name", "order", "indicators"]
        read_only_fields = fields


class IndicatorSpecSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=60)
    name = serializers.CharField(max_length=200)
    max_points = serializers.DecimalField(max_digits=5, decimal_places=2)
    method = serializers.ChoiceField(choices=Indicator.Method.choices)
    metric_key = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    rule = serializers.ChoiceField(choices=Indicator.Rule.choices, default="target")
    rule_params = serializers.JSONField(required=False, default=dict)
    direction = serializers.ChoiceField(choices=Indicator.Direction.choices, default="higher")
    value_min = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, default=0)  # type: ignore[arg-type]
    value_max = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, default=100)  # type: ignore[arg-type]


class DimensionSpecSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=100)
    indicators = IndicatorSpecSerializer(many=True)


class RubricSummarySerializer(ScopedModelSerializer):
    """A rubric in the rubrics' list: its dimensions and indicators are on its own page."""

    class Meta:
        model = Rubric
        fields = [
            "id", "county", "school_year", "subject", "version", "name", "content_hash", "locked", "beta",
            "bundling_basis", "alliance_averaging", "grade_bands", "decline_periods",
        ]  # fmt: skip
        read_only_fields = fields


class RubricSerializer(RubricSummarySerializer):
    dimensions = DimensionSerializer(many=True, read_only=True)

    class Meta(RubricSummarySerializer.Meta):
        fields = [*RubricSummarySerializer.Meta.fields, "dimensions"]
        read_only_fields = fields


class RubricWriteSerializer(serializers.Serializer):
    """Settings and, optionally, the whole structure (dimensions with their indicators)."""

    name = serializers.CharField(max_length=100, required=False)
    beta = serializers.DecimalField(max_digits=3, decimal_places=2, required=False)
    bundling_basis = serializers.ChoiceField(choices=Rubric.BundlingBasis.choices, required=False)
    alliance_averaging = serializers.ChoiceField(choices=Rubric.AllianceAveraging.choices, required=False)
    grade_bands = serializers.JSONField(required=False)
    decline_periods = serializers.IntegerField(min_value=1, max_value=12, required=False)
    dimensions = DimensionSpecSerializer(many=True, required=False)


class RubricCreateSerializer(RubricWriteSerializer):
    school_year = serializers.IntegerField()
    subject = serializers.ChoiceField(choices=Subject.choices, required=False, default=Subject.SCHOOL)


class SchoolYearRefSerializer(serializers.Serializer):
    school_year = serializers.IntegerField()
    subject = serializers.ChoiceField(choices=Subject.choices, required=False, default=Subject.SCHOOL)


class PeriodSerializer(ScopedModelSerializer):
    class Meta:
        model = EvaluationPeriod
        fields = [
            "id", "county", "school_year", "subject", "kind", "term", "start_date", "end_date", "status",
            "notice_days", "proposed_by", "proposed_at", "notice_ends_at", "approved_by", "approved_at",
        ]  # fmt: skip
        read_only_fields = fields


class PeriodCreateSerializer(serializers.Serializer):
    school_year = serializers.IntegerField()
    term = serializers.IntegerField(required=False, allow_null=True)
    notice_days = serializers.IntegerField(min_value=1, required=False, default=7)
    subject = serializers.ChoiceField(choices=Subject.choices, required=False, default=Subject.SCHOOL)


class ProposeSerializer(serializers.Serializer):
    notice_days = serializers.IntegerField(min_value=1, required=False)


class PreviewSerializer(serializers.Serializer):
    beta = serializers.DecimalField(max_digits=3, decimal_places=2, required=False)
    kind = serializers.ChoiceField(choices=AwardPolicy.Kind.choices, required=False)
    coefficients = serializers.JSONField(required=False)
    pass_threshold = serializers.DecimalField(max_digits=6, decimal_places=2, required=False, allow_null=True)
    fill_pool = serializers.BooleanField(required=False, allow_null=True, default=None)


class PreviewRowSerializer(serializers.Serializer):
    school = serializers.IntegerField()
    school_name = serializers.CharField()
    current_score = serializers.DecimalField(max_digits=6, decimal_places=2)
    new_score = serializers.DecimalField(max_digits=6, decimal_places=2)
    current_grade = serializers.CharField()
    new_grade = serializers.CharField()
    current_award = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    new_award = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class PreviewResultSerializer(serializers.Serializer):
    """The what-if preview: every score and amount a decimal string, never a JSON float."""

    beta = serializers.DecimalField(max_digits=3, decimal_places=2)
    policy = serializers.DictField()
    pool = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    current_remainder = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    new_remainder = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    rows = PreviewRowSerializer(many=True)


class CorrectionItemSerializer(serializers.Serializer):
    """A corrected value: of a school (or, in a principals' period, of the school's principal),
    or in a teachers' period of a teacher, named by ``teacher`` (the school is then the
    teacher's and may be left out), as the values endpoint takes them."""

    indicator = serializers.IntegerField()
    school = serializers.IntegerField(required=False, allow_null=True, default=None)
    teacher = serializers.IntegerField(required=False, allow_null=True, default=None)
    value = serializers.CharField()


class CorrectionProposeSerializer(serializers.Serializer):
    reason = serializers.CharField()
    corrections = CorrectionItemSerializer(many=True, required=False, default=list)


class DecisionSerializer(serializers.Serializer):
    decision = serializers.CharField()


class CorrectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Correction
        fields = ["id", "period", "reason", "values", "status", "proposed_by", "proposed_at", "decided_by",
                  "decided_at", "decision", "publication"]  # fmt: skip
        read_only_fields = fields


class IndicatorValueSerializer(ScopedModelSerializer):
    class Meta:
        model = IndicatorValue
        fields = [
            "id", "period", "indicator", "school", "teacher", "value", "comment", "evidence", "entered_by",
            "entered_at",
        ]  # fmt: skip
        read_only_fields = fields


class IndicatorValueInputSerializer(ScopedInputSerializer):
    """What ``indicator_value_set`` takes; it checks and explains the rest (and updates an
    existing value instead of refusing it as a duplicate)."""

    period = serializers.PrimaryKeyRelatedField(queryset=EvaluationPeriod.objects.all())
    indicator = serializers.PrimaryKeyRelatedField(queryset=Indicator.objects.all())
    # A school's or a principal's value names the school; a teacher's names the teacher.
    school = serializers.PrimaryKeyRelatedField(queryset=School.objects.all(), required=False, allow_null=True)
    teacher = serializers.PrimaryKeyRelatedField(queryset=Teacher.objects.all(), required=False, allow_null=True)
    value = serializers.DecimalField(max_digits=14, decimal_places=4)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.FileField(required=False, allow_null=True, default=None)


class SchoolResultSerializer(ScopedModelSerializer):
    """A result's summary (the lists)."""

    school_name = serializers.CharField(source="school.name", read_only=True)
    school_code = serializers.CharField(source="school.code", read_only=True)

    class Meta:
        model = SchoolResult
        fields = [
            "id", "period", "school", "school_code", "school_name", "alliance", "own_total", "final_score",
            "grade", "award_preview", "award", "rubric", "rubric_version", "rubric_hash",
        ]  # fmt: skip
        read_only_fields = fields


class SchoolResultDetailSerializer(SchoolResultSerializer):
    """A result with its trace: the stored figures with the rubric's names, rules and bands
    joined back (``trace.explain``)."""

    trace = serializers.JSONField(source="explained_trace", read_only=True)

    class Meta(SchoolResultSerializer.Meta):
        fields = [*SchoolResultSerializer.Meta.fields, "trace"]
        read_only_fields = fields


class PersonResultSerializer(ScopedModelSerializer):
    """A principal's or a teacher's result (the lists)."""

    school_name = serializers.CharField(source="school.name", read_only=True)
    teacher_name = serializers.CharField(source="teacher.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = PersonResult
        fields = [
            "id", "period", "subject", "school", "school_name", "teacher", "teacher_name", "score", "grade",
            "falls", "decline_scores", "rubric", "rubric_version", "rubric_hash",
        ]  # fmt: skip
        read_only_fields = fields


class PersonResultDetailSerializer(PersonResultSerializer):
    """A person's result with its trace, the rubric's words joined back (``trace.explain``)."""

    trace = serializers.JSONField(source="explained_trace", read_only=True)

    class Meta(PersonResultSerializer.Meta):
        fields = [*PersonResultSerializer.Meta.fields, "trace"]
        read_only_fields = fields


class AllianceResultSerializer(ScopedModelSerializer):
    class Meta:
        model = AllianceResult
        fields = ["id", "period", "alliance", "score", "grade", "rubric_version", "rubric_hash", "trace"]
        read_only_fields = fields


class DeclineWarningSerializer(ScopedModelSerializer):
    class Meta:
        model = DeclineWarning
        fields = ["id", "period", "school", "falls", "scores"]
        read_only_fields = fields


class EvaluationRunSerializer(ScopedModelSerializer):
    class Meta:
        model = EvaluationRun
        fields = [
            "id", "county", "start_year", "started_at", "finished_at", "status", "periods_count",
            "schools_count", "alliances_count", "warnings_count", "progress", "error", "trigger",
        ]  # fmt: skip
        read_only_fields = fields


class RunStartSerializer(serializers.Serializer):
    # A school year by its first calendar year; bounded so a typo is a 400, not a query on 10²⁰.
    _year_message = _("A school year between 2000 and 2100, e.g. 2025 for 2025–2026.")
    start_year = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=2000,
        max_value=2100,
        error_messages=dict.fromkeys(("min_value", "max_value", "invalid", "max_string_length"), _year_message),
    )


class AppealSerializer(ScopedModelSerializer):
    class Meta:
        model = Appeal
        fields = [
            "id", "period", "school", "indicator", "reason", "evidence", "status", "filed_by", "filed_at",
            "decided_by", "decided_at", "decision", "corrected_value",
        ]  # fmt: skip
        read_only_fields = fields


class AppealInputSerializer(ScopedInputSerializer):
    """What ``appeal_file`` takes; it checks the period, the notice and the indicator."""

    period = serializers.PrimaryKeyRelatedField(queryset=EvaluationPeriod.objects.all())
    indicator = serializers.PrimaryKeyRelatedField(queryset=Indicator.objects.all())
    reason = serializers.CharField(allow_blank=True)
    evidence = serializers.FileField(required=False, allow_null=True, default=None)


class AppealAcceptSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=14, decimal_places=4)
    decision = serializers.CharField(required=False, allow_blank=True, default="")


class AppealRejectSerializer(serializers.Serializer):
    decision = serializers.CharField(allow_blank=True)


class AwardPolicySerializer(ScopedModelSerializer):
    class Meta:
        model = AwardPolicy
        fields = [
            "id",
            "county",
            "school_year",
            "kind",
            "tier_coefficients",
            "pass_threshold",
            "fill_pool",
            "period_shares",
        ]
        county_scoped = ("county", "school_year")


class PublicationSerializer(ScopedModelSerializer):
    ledger_entry_id = serializers.IntegerField(read_only=True)
    reversal_entry_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Publication
        fields = [
            "id", "period", "revision", "proposed_by", "approved_by", "approved_at", "reason", "awards",
            "ledger_entry_id", "reversal_entry_id",
        ]  # fmt: skip
        read_only_fields = fields

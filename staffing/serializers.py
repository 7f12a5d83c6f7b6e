"""The staffing API's serializers: an input serializer per write (it parses and narrows the
related fields through the checkpoint; the service decides) and an output serializer per row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from alliance import access
from alliance.models import School, SchoolYear, User
from alliance.rest import ScopedInputSerializer, ScopedModelSerializer

from .models import (
    Activity,
    ActivityAttachment,
    Exchange,
    MentorMeeting,
    MentorPair,
    Rectification,
    SupervisionVisit,
    Teacher,
)

# --- input -------------------------------------------------------------------------------


class TeacherInputSerializer(ScopedInputSerializer):
    class Meta:
        model = Teacher
        fields = ["school", "name", "gender", "subject", "title", "years_of_service", "is_key_teacher", "active"]
        write_scoped = ("school",)


def _with_partner_schools(fields: dict, context: Mapping[str, Any], name: str) -> dict:
    """Schools of the user's county and those a cross-county programme pairs with them: an
    exchange may be hosted, a programme meeting held, across the line (the services decide)."""
    user = getattr(context.get("request"), "user", None)
    field = fields.get(name)
    if user is not None and field is not None and not field.read_only:
        target = getattr(field, "child_relation", field)
        target.queryset = access.narrow_related(School.objects.all(), user, kind="partners")
    return fields


class ExchangeInputSerializer(ScopedInputSerializer):
    hosts = serializers.PrimaryKeyRelatedField(many=True, source="host_schools", queryset=School.objects.all())

    class Meta:
        model = Exchange
        fields = [
            "kind", "teacher", "origin_school", "hosts", "subject", "class_count", "classes",
            "weekly_periods", "start_date", "end_date",
        ]  # fmt: skip
        # The status, the approval and the derived flag move only through the services.
        write_scoped = ("teacher", "origin_school")
        county_scoped = ("hosts",)

    def get_fields(self) -> dict:
        return _with_partner_schools(super().get_fields(), self.context, "hosts")


class ExchangeCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class MentorPairInputSerializer(ScopedInputSerializer):
    class Meta:
        model = MentorPair
        fields = ["mentor", "mentee", "start_date", "end_date", "goals"]
        # Only teachers the user may read may be named (the service says so beside the field;
        # a teacher it may not read is refused like one that does not exist).


class MentorMeetingInputSerializer(ScopedInputSerializer):
    class Meta:
        model = MentorMeeting
        fields = ["pair", "date", "kind", "notes"]
        write_scoped = ("pair",)


class ActivityInputSerializer(ScopedInputSerializer):
    class Meta:
        model = Activity
        fields = [
            "kind", "date", "host_school", "schools", "title", "participants", "person_times", "description",
            "donation_amount", "goods_description", "goods_count", "goods_value", "resource_count",
            "programme",
        ]  # fmt: skip
        write_scoped = ("host_school",)
        county_scoped = ("schools",)

    def get_fields(self) -> dict:
        return _with_partner_schools(super().get_fields(), self.context, "schools")


class ActivityAttachmentInputSerializer(ScopedInputSerializer):
    class Meta:
        model = ActivityAttachment
        fields = ["activity", "file", "caption"]
        write_scoped = ("activity",)


class SupervisionVisitInputSerializer(ScopedInputSerializer):
    forms = serializers.ListField(child=serializers.ChoiceField(choices=SupervisionVisit.Form.choices), required=False)
    # An assessor of the county; who may be named is the service's rule.
    supervisor = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)

    class Meta:
        model = SupervisionVisit
        fields = ["school", "supervisor", "date", "forms", "findings"]
        # A school of the user's county; whether it is assigned to the assessor is the service's rule.
        county_scoped = ("school",)


class RectificationInputSerializer(ScopedInputSerializer):
    class Meta:
        model = Rectification
        fields = ["visit", "item", "due_date"]


class RectificationAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=4000)


class VisitGridQuerySerializer(serializers.Serializer):
    school_year = serializers.PrimaryKeyRelatedField(queryset=SchoolYear.objects.all())


# --- output ------------------------------------------------------------------------------


class TeacherSerializer(ScopedModelSerializer):
    school_name = serializers.CharField(source="school.name", read_only=True)

    class Meta:
        model = Teacher
        fields = [
            "id", "school", "school_name", "name", "gender", "subject", "title",
            "years_of_service", "is_key_teacher", "active",
        ]  # fmt: skip
        write_scoped = ("school",)


class ExchangeSerializer(ScopedModelSerializer):
    hosts: serializers.PrimaryKeyRelatedField[School] = serializers.PrimaryKeyRelatedField(
        many=True, source="host_schools", read_only=True
    )
    teacher_name = serializers.CharField(source="teacher.name", read_only=True)
    origin_school_name = serializers.CharField(source="origin_school.name", read_only=True)

    class Meta:
        model = Exchange
        fields = [
            "id", "kind", "teacher", "teacher_name", "origin_school", "origin_school_name", "hosts",
            "subject", "class_count", "classes", "weekly_periods", "start_date", "end_date",
            "status", "cross_alliance", "logged_by", "approved_by", "approved_at", "cancel_reason",
        ]  # fmt: skip
        read_only_fields = fields


class MentorMeetingSerializer(ScopedModelSerializer):
    class Meta:
        model = MentorMeeting
        fields = ["id", "pair", "date", "kind", "notes"]
        read_only_fields = fields


class MentorPairSerializer(ScopedModelSerializer):
    """A pair spans two schools: the name of a teacher the caller may not read is not shown."""

    # The API's queryset reads each name only where the caller may read the teacher (None else).
    mentor_name = serializers.CharField(read_only=True, allow_null=True)
    mentee_name = serializers.CharField(read_only=True, allow_null=True)
    meetings = MentorMeetingSerializer(many=True, read_only=True)

    class Meta:
        model = MentorPair
        fields = [
            "id", "mentor", "mentor_name", "mentee", "mentee_name", "start_date", "end_date", "goals", "meetings",
        ]  # fmt: skip
        read_only_fields = fields


class ActivityAttachmentSerializer(ScopedModelSerializer):
    class Meta:
        model = ActivityAttachment
        fields = ["id", "activity", "file", "caption"]
        read_only_fields = fields


class ActivitySerializer(ScopedModelSerializer):
    host_school_name = serializers.CharField(source="host_school.name", read_only=True)
    attachments = ActivityAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id", "kind", "date", "host_school", "host_school_name", "schools", "title", "participants",
            "person_times", "description", "donation_amount", "goods_description", "goods_count",
            "goods_value", "resource_count", "attachments", "programme",
        ]  # fmt: skip
        read_only_fields = fields


class RectificationSerializer(ScopedModelSerializer):
    class Meta:
        model = Rectification
        fields = [
            "id", "visit", "item", "due_date", "status", "answer", "answered_at", "answered_by",
            "closed_at", "closed_by",
        ]  # fmt: skip
        read_only_fields = fields


class SupervisionVisitSerializer(ScopedModelSerializer):
    school_name = serializers.CharField(source="school.name", read_only=True)
    rectifications = RectificationSerializer(many=True, read_only=True)

    class Meta:
        model = SupervisionVisit
        fields = ["id", "school", "school_name", "supervisor", "date", "forms", "findings", "created_at",
                  "rectifications"]  # fmt: skip
        read_only_fields = fields


class VisitGridCellSerializer(serializers.Serializer):
    month = serializers.DateField()
    visits = serializers.IntegerField()
    gap = serializers.BooleanField()


class VisitGridRowSerializer(serializers.Serializer):
    school = serializers.IntegerField(source="school.pk")
    school_name = serializers.CharField(source="school.name")
    gaps = serializers.IntegerField()
    cells = VisitGridCellSerializer(many=True)


def split_m2m(data: dict[str, Any], name: str) -> tuple[dict[str, Any], Any]:
    """``data`` without ``name``, and ``name``'s value (None when not sent)."""
    rest = dict(data)
    return rest, rest.pop(name, None)

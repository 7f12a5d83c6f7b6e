from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.serializers import as_serializer_error

from alliance.models import School
from alliance.rest import ScopedModelSerializer

from . import services
from .models import Activity, ActivityAttachment, Exchange, MentorMeeting, MentorPair, Teacher


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
    """Writes go through ``services.exchange_create`` / ``exchange_update``; the status moves
    only through the viewset's actions."""

    hosts = serializers.PrimaryKeyRelatedField(many=True, source="host_schools", queryset=School.objects.all())
    teacher_name = serializers.CharField(source="teacher.name", read_only=True)
    origin_school_name = serializers.CharField(source="origin_school.name", read_only=True)

    class Meta:
        model = Exchange
        fields = [
            "id", "kind", "teacher", "teacher_name", "origin_school", "origin_school_name", "hosts",
            "subject", "class_count", "classes", "weekly_periods", "start_date", "end_date",
            "status", "cross_alliance", "logged_by", "approved_by", "approved_at", "cancel_reason",
        ]  # fmt: skip
        read_only_fields = ["status", "cross_alliance", "logged_by", "approved_by", "approved_at", "cancel_reason"]
        write_scoped = ("teacher", "origin_school")
        county_scoped = ("hosts",)

    def prepare_instance(self, instance: Exchange, attrs: dict) -> None:  # type: ignore[override]
        if not instance.logged_by_id:
            instance.logged_by = self.context["request"].user

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        current = self.instance
        kind = attrs.get("kind", current.kind if current else None)
        origin = attrs.get("origin_school", current.origin_school if current else None)
        if "host_schools" in attrs:
            hosts = attrs["host_schools"]
        else:
            hosts = list(current.host_schools.all()) if current else []
        try:
            services.exchange_hosts_check(kind=kind, origin_school=origin, host_schools=hosts)  # type: ignore[arg-type]
        except DjangoValidationError as exc:
            raise serializers.ValidationError(as_serializer_error(exc)) from exc
        return attrs

    def create(self, validated_data: dict) -> Exchange:
        return services.exchange_create(actor=self.context["request"].user, **validated_data)

    def update(self, instance: Exchange, validated_data: dict) -> Exchange:
        return services.exchange_update(actor=self.context["request"].user, exchange=instance, **validated_data)


class ExchangeCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class MentorMeetingSerializer(ScopedModelSerializer):
    class Meta:
        model = MentorMeeting
        fields = ["id", "pair", "date", "kind", "notes"]
        write_scoped = ("pair",)


class MentorPairSerializer(ScopedModelSerializer):
    mentor_name = serializers.CharField(source="mentor.name", read_only=True)
    mentee_name = serializers.CharField(source="mentee.name", read_only=True)
    meetings = MentorMeetingSerializer(many=True, read_only=True)

    class Meta:
        model = MentorPair
        fields = [
            "id", "mentor", "mentor_name", "mentee", "mentee_name", "start_date", "end_date", "goals", "meetings",
        ]  # fmt: skip
        # A pair usually spans two schools: any teacher of the county may be named, and the
        # user must be able to change at least one side (checked in validate()).
        county_scoped = ("mentor", "mentee")

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        user = self.context["request"].user
        mentor = attrs.get("mentor", getattr(self.instance, "mentor", None))
        mentee = attrs.get("mentee", getattr(self.instance, "mentee", None))
        ids = [t.pk for t in (mentor, mentee) if t is not None]
        if not Teacher.objects.filter(pk__in=ids).changeable_by(user).exists():
            message = _("The mentor or the mentee must be a teacher of your school.")
            raise serializers.ValidationError({"mentee": [message]})
        return attrs


class ActivityAttachmentSerializer(ScopedModelSerializer):
    class Meta:
        model = ActivityAttachment
        fields = ["id", "activity", "file", "caption"]
        write_scoped = ("activity",)


class ActivitySerializer(ScopedModelSerializer):
    host_school_name = serializers.CharField(source="host_school.name", read_only=True)
    attachments = ActivityAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id", "kind", "date", "host_school", "host_school_name", "schools", "title", "participants",
            "person_times", "description", "donation_amount", "goods_description", "goods_count",
            "goods_value", "resource_count", "attachments",
        ]  # fmt: skip
        write_scoped = ("host_school",)
        county_scoped = ("schools",)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        host = attrs.get("host_school", getattr(self.instance, "host_school", None))
        for school in attrs.get("schools", ()):
            if host is not None and school.county_id != host.county_id:
                message = _("%(school)s belongs to another county.") % {"school": school}
                raise serializers.ValidationError({"schools": [message]})
        return attrs

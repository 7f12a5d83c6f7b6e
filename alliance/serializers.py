from rest_framework import serializers

from .models import Alliance, County, Membership, Pairing, PairingTask, School, SchoolYear, Term
from .rest import ScopedInputSerializer, ScopedModelSerializer


class CountySerializer(ScopedModelSerializer):
    class Meta:
        model = County
        fields = ["id", "code", "name", "province"]


class SchoolSerializer(ScopedModelSerializer):
    class Meta:
        model = School
        fields = [
            "id", "county", "code", "name", "stage", "location", "strength",
            "students", "teachers", "classes", "active",
        ]  # fmt: skip


class TermSerializer(ScopedModelSerializer):
    class Meta:
        model = Term
        fields = ["id", "school_year", "number", "start_date", "end_date"]


class SchoolYearSerializer(ScopedModelSerializer):
    terms = TermSerializer(many=True, read_only=True)

    class Meta:
        model = SchoolYear
        fields = ["id", "county", "start_year", "start_date", "end_date", "terms"]


class MembershipSerializer(ScopedModelSerializer):
    school_name = serializers.CharField(source="school.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "alliance", "school", "school_name", "role"]
        county_scoped = ("school", "alliance")


class AllianceSerializer(ScopedModelSerializer):
    memberships = MembershipSerializer(many=True, read_only=True)

    class Meta:
        model = Alliance
        fields = ["id", "school_year", "kind", "name", "description", "memberships"]


class PairingSerializer(ScopedModelSerializer):
    focus_areas = serializers.ListField(child=serializers.ChoiceField(choices=Pairing.Focus.choices), required=False)

    class Meta:
        model = Pairing
        fields = [
            "id", "alliance", "helper_school", "helped_school", "agreement_date",
            "agreement_document", "focus_areas", "start_date", "end_date",
        ]  # fmt: skip
        county_scoped = ("helper_school", "helped_school", "alliance")


class PairingTaskInputSerializer(ScopedInputSerializer):
    class Meta:
        model = PairingTask
        fields = ["pairing", "title", "due_date", "responsible_person", "status", "completed_on", "progress_notes"]
        write_scoped = ("pairing",)


class PairingTaskSerializer(ScopedModelSerializer):
    class Meta:
        model = PairingTask
        fields = [
            "id", "pairing", "title", "due_date", "responsible_person", "status",
            "completed_on", "progress_notes",
        ]  # fmt: skip
        read_only_fields = fields

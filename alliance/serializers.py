from rest_framework import serializers

from .models import Alliance, County, Membership, Pairing, PairingTask, Programme, School, SchoolYear, Term
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
            "id", "alliance", "programme", "helper_school", "helped_school", "agreement_date",
            "agreement_document", "focus_areas", "start_date", "end_date",
        ]  # fmt: skip
        # A programme's pairings are made through the programme (``programme_pairing_create``).
        read_only_fields = ["programme"]
        county_scoped = ("helper_school", "helped_school", "alliance")


class PairingTaskInputSerializer(ScopedInputSerializer):
    class Meta:
        model = PairingTask
        fields = [
            "pairing", "title", "milestone", "due_date", "responsible_person", "status", "completed_on",
            "progress_notes", "evidence",
        ]  # fmt: skip
        write_scoped = ("pairing",)


class PairingTaskSerializer(ScopedModelSerializer):
    class Meta:
        model = PairingTask
        fields = [
            "id", "pairing", "title", "due_date", "responsible_person", "status",
            "completed_on", "progress_notes", "milestone", "evidence",
        ]  # fmt: skip
        read_only_fields = fields


# The largest id a PostgreSQL integer key holds: a larger one is "no such row", not a database error.
PK_MAX = 2**31 - 1


class ProgrammePairingSerializer(serializers.ModelSerializer):
    """A programme's pairing as its rows show it: the schools of the other county by name only."""

    helper_school_name = serializers.CharField(source="helper_school.name", read_only=True)
    helped_school_name = serializers.CharField(source="helped_school.name", read_only=True)

    class Meta:
        model = Pairing
        fields = ["id", "helper_school", "helper_school_name", "helped_school", "helped_school_name", "start_date"]
        read_only_fields = fields


class ProgrammeSerializer(ScopedModelSerializer):
    helper_county_name = serializers.CharField(source="helper_county.name", read_only=True)
    helped_county_name = serializers.CharField(source="helped_county.name", read_only=True)
    pairings = ProgrammePairingSerializer(many=True, read_only=True)

    class Meta:
        model = Programme
        fields = [
            "id", "name", "helper_county", "helper_county_name", "helped_county", "helped_county_name",
            "agreement", "start_date", "end_date", "pairings",
        ]  # fmt: skip
        read_only_fields = fields


class ProgrammeInputSerializer(ScopedInputSerializer):
    class Meta:
        model = Programme
        fields = ["name", "helper_county", "helped_county", "agreement", "start_date", "end_date"]

    def get_fields(self) -> dict:
        fields = super().get_fields()
        # The other county is another bureau's, so not among the counties the user reads; any
        # county may be named, and the service requires the writer's county to be one of the two.
        for name in ("helper_county", "helped_county"):
            field = fields.get(name)
            if field is not None and not field.read_only:
                field.queryset = County.objects.all()  # type: ignore[attr-defined]
        return fields


class ProgrammePairingInputSerializer(serializers.Serializer):
    """A pairing of the programme: its schools are looked up among the programme's two counties
    (``ProgrammeApi.pairings``), so a school elsewhere is refused like one that does not exist."""

    helper_school = serializers.IntegerField(min_value=1, max_value=PK_MAX)
    helped_school = serializers.IntegerField(min_value=1, max_value=PK_MAX)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    agreement_date = serializers.DateField(required=False, allow_null=True)
    focus_areas = serializers.ListField(child=serializers.ChoiceField(choices=Pairing.Focus.choices), required=False)


class ProgrammeMissingMeetingQuerySerializer(serializers.Serializer):
    term = serializers.IntegerField(min_value=1, max_value=PK_MAX)

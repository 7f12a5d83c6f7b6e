from django.db import transaction
from rest_framework import serializers

from alliance.rest import ScopedModelSerializer

from . import services
from .models import Account, FundingQuota, FundingYear, LedgerEntry, LedgerLine, PlanLine, SpendingPlan, SpendingRecord


class FundingYearSerializer(ScopedModelSerializer):
    class Meta:
        model = FundingYear
        fields = [
            "id", "county", "school_year", "base_quota", "lead_share", "pool_share",
            "status", "opened_at", "closed_at",
        ]  # fmt: skip
        read_only_fields = ["status", "opened_at", "closed_at"]
        county_scoped = ("county", "school_year")


class FundingQuotaSerializer(ScopedModelSerializer):
    school_name = serializers.CharField(source="school.name", read_only=True)

    class Meta:
        model = FundingQuota
        fields = ["id", "funding_year", "school", "school_name", "alliance", "quota"]
        county_scoped = ("funding_year", "school", "alliance")


class AccountSerializer(ScopedModelSerializer):
    balance = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Account
        fields = ["id", "funding_year", "kind", "alliance", "school", "balance"]


class LedgerLineSerializer(serializers.ModelSerializer):
    account_kind = serializers.CharField(source="account.kind", read_only=True)

    class Meta:
        model = LedgerLine
        fields = ["id", "account", "account_kind", "amount"]


class LedgerEntrySerializer(ScopedModelSerializer):
    lines = LedgerLineSerializer(many=True, read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id", "funding_year", "kind", "school", "spending_record", "reverses", "reason", "memo",
            "created_by", "created_at", "lines",
        ]  # fmt: skip
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class PlanLineSerializer(ScopedModelSerializer):
    spent = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = PlanLine
        fields = ["id", "plan", "school", "category", "amount", "notes", "spent"]
        write_scoped = ("plan",)


class SpendingPlanSerializer(ScopedModelSerializer):
    lines = PlanLineSerializer(many=True, read_only=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = SpendingPlan
        fields = [
            "id", "funding_year", "alliance", "lead_school", "revision", "previous", "status", "notes",
            "return_reason", "total", "created_at", "submitted_at", "decided_at", "lines",
        ]  # fmt: skip
        read_only_fields = [
            "lead_school", "revision", "previous", "status", "return_reason", "created_at", "submitted_at",
            "decided_at",
        ]  # fmt: skip

    def validate(self, attrs):
        # The service checks the year, the alliance and the actor; the model has no clean().
        return attrs

    def create(self, validated_data):
        return services.spending_plan_create(actor=self.context["request"].user, **validated_data)


class SpendingRecordSerializer(ScopedModelSerializer):
    reversed = serializers.SerializerMethodField()

    class Meta:
        model = SpendingRecord
        fields = [
            "id", "plan_line", "date", "amount", "payee", "description", "receipt", "recorded_by",
            "recorded_at", "reversed",
        ]  # fmt: skip
        read_only_fields = ["recorded_by", "recorded_at"]

    def get_reversed(self, obj: SpendingRecord) -> bool:
        return any(getattr(entry, "reversed_by", None) is not None for entry in obj.ledger_entries.all())

    def validate(self, attrs):
        # Field validation (two decimals, > 0) is DRF's; the rules across rows are the service's.
        return attrs

    def create(self, validated_data):
        with transaction.atomic():
            return services.spending_record_create(actor=self.context["request"].user, **validated_data)

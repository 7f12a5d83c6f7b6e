"""The funding API's serializers: input serializers parse a write (related fields narrowed
through the checkpoint) for a service; the others show rows."""

from rest_framework import serializers

from alliance.rest import ScopedInputSerializer, ScopedModelSerializer

from .models import Account, FundingQuota, FundingYear, LedgerEntry, LedgerLine, PlanLine, SpendingPlan, SpendingRecord

# --- input -------------------------------------------------------------------------------


class FundingYearInputSerializer(ScopedInputSerializer):
    class Meta:
        model = FundingYear
        fields = ["county", "school_year", "base_quota", "lead_share", "pool_share"]
        county_scoped = ("county", "school_year")


class FundingQuotaInputSerializer(ScopedInputSerializer):
    class Meta:
        model = FundingQuota
        fields = ["funding_year", "school", "alliance", "quota"]
        county_scoped = ("funding_year", "school", "alliance")


class SpendingPlanInputSerializer(ScopedInputSerializer):
    class Meta:
        model = SpendingPlan
        fields = ["funding_year", "alliance", "notes"]


class PlanLineInputSerializer(ScopedInputSerializer):
    class Meta:
        model = PlanLine
        fields = ["plan", "school", "category", "amount", "notes"]
        write_scoped = ("plan",)


class SpendingRecordInputSerializer(ScopedInputSerializer):
    class Meta:
        model = SpendingRecord
        fields = ["plan_line", "date", "amount", "payee", "description", "receipt"]


# --- output ------------------------------------------------------------------------------


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
        read_only_fields = fields


class SpendingRecordSerializer(ScopedModelSerializer):
    # An annotation of the API's queryset: one of the record's ledger entries was reversed.
    reversed = serializers.BooleanField(read_only=True)

    class Meta:
        model = SpendingRecord
        fields = [
            "id", "plan_line", "date", "amount", "payee", "description", "receipt", "recorded_by",
            "recorded_at", "reversed",
        ]  # fmt: skip
        read_only_fields = fields

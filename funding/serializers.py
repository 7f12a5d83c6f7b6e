"""The funding API's serializers: input serializers parse a write (related fields narrowed
through the checkpoint) for a service; the others show rows."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alliance.models import School
from alliance.rest import ScopedInputSerializer, ScopedModelSerializer

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
        fields = ["id", "funding_year", "kind", "alliance", "school", "programme_fund", "balance"]


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


class SpendingPlanSummarySerializer(ScopedModelSerializer):
    """A plan in the plans' list: its lines (each with what was spent on it) are on its own page."""

    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = SpendingPlan
        fields = [
            "id", "funding_year", "alliance", "lead_school", "revision", "previous", "status", "notes",
            "return_reason", "total", "created_at", "submitted_at", "decided_at",
        ]  # fmt: skip
        read_only_fields = fields


class SpendingPlanSerializer(SpendingPlanSummarySerializer):
    lines = PlanLineSerializer(many=True, read_only=True)

    class Meta(SpendingPlanSummarySerializer.Meta):
        fields = [*SpendingPlanSummarySerializer.Meta.fields, "lines"]
        read_only_fields = fields


# The schema's words for both spending flags (the 70/30 records' and the programme funds').
REVERSED_HELP = _("Whether the spending's ledger entry was reversed; a reversed one no longer counts against its line.")


class SpendingRecordSerializer(ScopedModelSerializer):
    # An annotation of the API's queryset: one of the record's ledger entries was reversed.
    reversed = serializers.BooleanField(read_only=True, help_text=REVERSED_HELP)

    class Meta:
        model = SpendingRecord
        fields = [
            "id", "plan_line", "date", "amount", "payee", "description", "receipt", "recorded_by",
            "recorded_at", "reversed",
        ]  # fmt: skip
        read_only_fields = fields


# --- programme funds (cross-county programmes) ----------------------------------------------


class ProgrammeFundInputSerializer(ScopedInputSerializer):
    class Meta:
        model = ProgrammeFund
        fields = ["funding_year", "programme", "helper_school", "amount", "spend_share"]
        county_scoped = ("funding_year", "helper_school")


class ProgrammeFundSerializer(ScopedModelSerializer):
    helper_school_name = serializers.CharField(source="helper_school.name", read_only=True)
    programme_name = serializers.CharField(source="programme.name", read_only=True)

    class Meta:
        model = ProgrammeFund
        fields = [
            "id", "funding_year", "programme", "programme_name", "helper_school", "helper_school_name",
            "amount", "spend_share",
        ]  # fmt: skip
        read_only_fields = fields


class ProgrammeFundLineInputSerializer(ScopedInputSerializer):
    class Meta:
        model = ProgrammeFundLine
        fields = ["fund", "helped_school", "category", "amount", "notes"]

    def get_fields(self) -> dict:
        fields = super().get_fields()
        request = self.context.get("request")
        field = fields.get("helped_school")
        if request is not None and field is not None and not field.read_only:
            # The schools helped, in a programme, by the helper school of a fund the user sees
            # (the other county's: not among the schools it reads); which fund's is the service's.
            funds = ProgrammeFund.objects.visible_to(request.user)
            helped = School.objects.filter(
                pairings_helped__programme__funds__in=funds.values("pk"),
                pairings_helped__helper_school__programme_funds__in=funds.values("pk"),
            )
            field.queryset = School.objects.filter(pk__in=helped.values("pk"))  # type: ignore[attr-defined]
        return fields


class ProgrammeFundLineSerializer(ScopedModelSerializer):
    helped_school_name = serializers.CharField(source="helped_school.name", read_only=True, default="")
    spent = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = ProgrammeFundLine
        fields = ["id", "fund", "helped_school", "helped_school_name", "category", "amount", "notes", "spent"]
        read_only_fields = fields


class ProgrammeSpendingInputSerializer(ScopedInputSerializer):
    class Meta:
        model = ProgrammeSpending
        fields = ["line", "date", "amount", "payee", "description", "receipt"]


class ProgrammeSpendingSerializer(ScopedModelSerializer):
    # An annotation of the API's queryset: the spending's ledger entry was reversed (it no longer
    # counts against its line), as the spending records' ``reversed``.
    reversed = serializers.BooleanField(read_only=True, help_text=REVERSED_HELP)

    class Meta:
        model = ProgrammeSpending
        fields = [
            "id", "line", "date", "amount", "payee", "description", "receipt", "recorded_by", "recorded_at",
            "reversed",
        ]  # fmt: skip
        read_only_fields = fields

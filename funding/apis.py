"""Funding under /api/v1/: thin views over the services; rows come through the checkpoint."""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Sum
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.viewsets import GenericViewSet

from alliance import access
from alliance.rest import ScopedModelViewSet, ScopedReadOnlyViewSet, ScopedViewSetMixin, ServiceWritesMixin

from . import metrics, services
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
from .querysets import programme_line_spent
from .serializers import (
    AccountSerializer,
    FundingQuotaInputSerializer,
    FundingQuotaSerializer,
    FundingYearInputSerializer,
    FundingYearSerializer,
    LedgerEntrySerializer,
    PlanLineInputSerializer,
    PlanLineSerializer,
    ProgrammeFundInputSerializer,
    ProgrammeFundLineInputSerializer,
    ProgrammeFundLineSerializer,
    ProgrammeFundSerializer,
    ProgrammeSpendingInputSerializer,
    ProgrammeSpendingSerializer,
    ReasonSerializer,
    SpendingPlanInputSerializer,
    SpendingPlanSerializer,
    SpendingPlanSummarySerializer,
    SpendingRecordInputSerializer,
    SpendingRecordSerializer,
)

BUREAU = access.BUREAU_ONLY
LEAD = access.LEAD_ONLY


class FundingYearApi(ServiceWritesMixin, ScopedModelViewSet):
    queryset = FundingYear.objects.select_related("school_year")
    serializer_class = FundingYearSerializer
    input_serializer_class = FundingYearInputSerializer
    filterset_fields = ["status", "school_year"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]
    action_roles = {"open": BUREAU, "close": BUREAU, "default_quotas": BUREAU}

    def service_create(self, *, actor, data):
        return services.funding_year_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        return services.funding_year_update(actor=actor, funding_year=instance, **data)

    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        year = services.funding_year_open(actor=request.user, funding_year=self.get_object())
        return Response(FundingYearSerializer(year, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        year = services.funding_year_close(actor=request.user, funding_year=self.get_object())
        return Response(FundingYearSerializer(year, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"], url_path="default-quotas")
    def default_quotas(self, request, pk=None):
        added = services.funding_quotas_default(actor=request.user, funding_year=self.get_object())
        return Response({"added": added})

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def execution(self, request, pk=None):
        """Plan vs spent per alliance, school and category (rows of readable schools only)."""
        year = self.get_object()
        readable = set(access.readable_schools(request.user).values_list("pk", flat=True))
        rows = [row for row in metrics.execution_report(year) if row["school"] in readable]
        for row in rows:
            row["planned"], row["spent"], row["rate"] = str(row["planned"]), str(row["spent"]), str(row["rate"])
        return Response({"funding_year": year.pk, "rows": rows})


class FundingQuotaApi(ServiceWritesMixin, ScopedModelViewSet):
    queryset = FundingQuota.objects.select_related("school")
    serializer_class = FundingQuotaSerializer
    input_serializer_class = FundingQuotaInputSerializer
    filterset_fields = ["funding_year", "school", "alliance"]

    def service_create(self, *, actor, data):
        return services.funding_quota_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        return services.funding_quota_update(actor=actor, funding_quota=instance, **data)

    def service_delete(self, *, actor, instance):
        services.funding_quota_delete(actor=actor, funding_quota=instance)


class AccountApi(ScopedReadOnlyViewSet):
    queryset = Account.objects.with_balance().order_by("funding_year", "kind", "pk")
    serializer_class = AccountSerializer
    filterset_fields = ["funding_year", "kind", "alliance", "school"]


class LedgerEntryApi(ScopedReadOnlyViewSet):
    queryset = LedgerEntry.objects.prefetch_related(
        Prefetch("lines", queryset=LedgerLine.objects.select_related("account").order_by("pk"))
    )
    serializer_class = LedgerEntrySerializer
    filterset_fields = ["funding_year", "kind", "school"]
    action_roles = {"reverse": BUREAU}

    @action(detail=True, methods=["post"], serializer_class=ReasonSerializer)
    def reverse(self, request, pk=None):
        entry = self.get_object()
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        reversal = services.entry_reverse(entry=entry, actor=request.user, reason=reason.validated_data["reason"])
        return Response(LedgerEntrySerializer(reversal, context=self.get_serializer_context()).data, status=201)


class SpendingPlanApi(ServiceWritesMixin, ScopedModelViewSet):
    queryset = (
        SpendingPlan.objects.annotate(total=Sum("lines__amount"))
        .prefetch_related(Prefetch("lines", queryset=PlanLine.objects.with_spent().order_by("pk")))
        .order_by("funding_year", "alliance", "-revision")
    )
    serializer_class = SpendingPlanSerializer
    list_serializer_class = SpendingPlanSummarySerializer
    input_serializer_class = SpendingPlanInputSerializer
    filterset_fields = ["funding_year", "alliance", "status"]
    http_method_names = ["get", "post", "head", "options"]
    # A plan is the lead principal's (the service's role check, refused before the body is read).
    action_roles = {"create": LEAD, "submit": LEAD, "revise": LEAD, "approve": BUREAU, "send_back": BUREAU}

    def service_create(self, *, actor, data):
        return services.spending_plan_create(actor=actor, **data)

    def _respond(self, plan, status=200):
        return self.respond(plan, status)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._respond(services.spending_plan_submit(actor=request.user, plan=self.get_object()))

    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        return self._respond(services.spending_plan_revise(actor=request.user, plan=self.get_object()), 201)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._respond(services.spending_plan_approve(actor=request.user, plan=self.get_object()))

    @action(detail=True, methods=["post"], url_path="return", serializer_class=ReasonSerializer)
    def send_back(self, request, pk=None):
        plan = self.get_object()
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        return self._respond(
            services.spending_plan_return(actor=request.user, plan=plan, reason=reason.validated_data["reason"])
        )


class PlanLineApi(ServiceWritesMixin, ScopedModelViewSet):
    """Lines change only while their plan is editable, through the plan line services (which
    lock the plan and its lines in the submission's order)."""

    queryset = PlanLine.objects.with_spent().select_related("plan")
    serializer_class = PlanLineSerializer
    input_serializer_class = PlanLineInputSerializer
    filterset_fields = ["plan", "school", "category"]

    def service_create(self, *, actor, data):
        return services.plan_line_add(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        data = dict(data)
        if data.get("plan", instance.plan) != instance.plan:
            # A line stays in its plan (a copy goes with a revision).
            return services.plan_line_update(actor=actor, line=instance, plan=data["plan"])
        data.pop("plan", None)
        return services.plan_line_update(actor=actor, line=instance, **data)

    def service_delete(self, *, actor, instance):
        services.plan_line_delete(actor=actor, line=instance)


class SpendingRecordApi(
    ServiceWritesMixin,
    ScopedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    GenericViewSet,
):
    """Records are booked on creation; a wrong one is corrected by reversing its entry."""

    # Whether one of the record's entries was reversed, in the rows' query (alliance.listing).
    queryset = SpendingRecord.objects.annotate(
        reversed=Exists(LedgerEntry.objects.filter(spending_record=OuterRef("pk"), reversed_by__isnull=False))
    )
    serializer_class = SpendingRecordSerializer
    input_serializer_class = SpendingRecordInputSerializer
    filterset_fields = ["plan_line", "plan_line__school", "plan_line__plan"]
    # Spending is recorded by the schools (the service checks which lines); bureau staff record
    # none anywhere, refused before the body is read.
    action_roles = {"create": access.PRINCIPALS}

    def service_create(self, *, actor, data):
        return services.spending_record_create(actor=actor, **data)


class ProgrammeFundApi(ServiceWritesMixin, ScopedModelViewSet):
    """A cross-county programme's working funds in the helper county's books: its bureau's;
    booked when the year opens (or at once in an open year), fixed once booked."""

    queryset = ProgrammeFund.objects.select_related("programme", "helper_school")
    serializer_class = ProgrammeFundSerializer
    input_serializer_class = ProgrammeFundInputSerializer
    filterset_fields = ["funding_year", "programme", "helper_school"]

    def service_create(self, *, actor, data):
        return services.programme_fund_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        data = {k: v for k, v in data.items() if getattr(instance, k) != v}
        return services.programme_fund_update(actor=actor, fund=instance, **data)

    def service_delete(self, *, actor, instance):
        services.programme_fund_delete(actor=actor, fund=instance)


class ProgrammeFundLineApi(ServiceWritesMixin, ScopedModelViewSet):
    """The plan of a programme fund: the helper school's (or its bureau's), within the fund's
    working part."""

    queryset = (
        ProgrammeFundLine.objects.select_related("helped_school")
        .annotate(spent=programme_line_spent())
        .order_by("fund", "pk")
    )
    serializer_class = ProgrammeFundLineSerializer
    input_serializer_class = ProgrammeFundLineInputSerializer
    filterset_fields = ["fund", "category"]

    def service_create(self, *, actor, data):
        return services.programme_line_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        data = dict(data)
        if data.pop("fund", instance.fund) != instance.fund:
            raise ValidationError({"fund": [_("A line stays in its fund.")]})
        return services.programme_line_update(actor=actor, line=instance, **data)

    def service_delete(self, *, actor, instance):
        services.programme_line_delete(actor=actor, line=instance)


class ProgrammeSpendingApi(
    ServiceWritesMixin,
    ScopedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    GenericViewSet,
):
    """Spending of a programme fund, booked on creation."""

    # Whether the spending's entry was reversed, in the rows' query (alliance.listing), as for
    # the 70/30 spending records.
    queryset = ProgrammeSpending.objects.select_related("line").annotate(
        reversed=Exists(LedgerEntry.objects.filter(programme_spending=OuterRef("pk"), reversed_by__isnull=False))
    )
    serializer_class = ProgrammeSpendingSerializer
    input_serializer_class = ProgrammeSpendingInputSerializer
    filterset_fields = ["line", "line__fund"]

    def service_create(self, *, actor, data):
        return services.programme_spending_create(actor=actor, **data)


def register(router: BaseRouter) -> None:
    router.register("funding-years", FundingYearApi)
    router.register("funding-quotas", FundingQuotaApi)
    router.register("funding-accounts", AccountApi)
    router.register("ledger-entries", LedgerEntryApi)
    router.register("spending-plans", SpendingPlanApi)
    router.register("plan-lines", PlanLineApi)
    router.register("spending-records", SpendingRecordApi)
    router.register("programme-funds", ProgrammeFundApi)
    router.register("programme-fund-lines", ProgrammeFundLineApi)
    router.register("programme-spending", ProgrammeSpendingApi)

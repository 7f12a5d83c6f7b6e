"""The evaluation API: reads through the access checkpoint; every write is one style: an input
serializer checks the shape of the request (bad input is a 400 with a message, never a 500),
a service does the write and its checks, an output serializer answers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from alliance import access
from alliance.models import AnyUser, School, SchoolYear, Term
from alliance.rest import ScopedModelViewSet, ScopedReadOnlyViewSet, ScopedViewSetMixin
from staffing.models import Teacher

from . import services
from .models import (
    AllianceResult,
    Appeal,
    AwardPolicy,
    DeclineWarning,
    EvaluationPeriod,
    EvaluationRun,
    Indicator,
    IndicatorValue,
    PersonResult,
    Publication,
    Rubric,
    SchoolResult,
)
from .serializers import (
    AllianceResultSerializer,
    AppealAcceptSerializer,
    AppealInputSerializer,
    AppealRejectSerializer,
    AppealSerializer,
    AwardPolicySerializer,
    CorrectionProposeSerializer,
    CorrectionSerializer,
    DecisionSerializer,
    DeclineWarningSerializer,
    EvaluationRunSerializer,
    IndicatorSerializer,
    IndicatorValueInputSerializer,
    IndicatorValueSerializer,
    PeriodCreateSerializer,
    PeriodSerializer,
    PersonResultDetailSerializer,
    PersonResultSerializer,
    PreviewResultSerializer,
    PreviewSerializer,
    ProposeSerializer,
    PublicationSerializer,
    RubricCreateSerializer,
    RubricSerializer,
    RubricSummarySerializer,
    RubricWriteSerializer,
    RunStartSerializer,
    SchoolResultDetailSerializer,
    SchoolResultSerializer,
    SchoolYearRefSerializer,
)

BUREAU = access.BUREAU_ONLY
PRINCIPALS = access.PRINCIPALS

# What queueing an evaluation answers: 202 once queued, 503 when the broker is unreachable.
_QUEUED = inline_serializer(
    "EvaluationQueued", {"queued": serializers.BooleanField(), "detail": serializers.CharField(required=False)}
)
_QUEUE_RESPONSES = {202: _QUEUED, 503: _QUEUED}


def _valid(serializer_class: type, request: Request, **kwargs: Any) -> dict[str, Any]:
    s = serializer_class(data=request.data, context={"request": request}, **kwargs)
    s.is_valid(raise_exception=True)
    return s.validated_data


def _named(model: Any, user: AnyUser, pk: Any, field: str):
    """A row the request's body names: one the user may read, else a 400 on ``field`` that says
    which rule refused it, the same for a row that does not exist (never a 404: the URL was found)."""
    row = model.objects.visible_to(user).filter(pk=pk).first()
    if row is None:
        message = _("Name a %(model)s you may see; this one is not among them.") % {"model": model._meta.verbose_name}
        raise ValidationError({field: [message]})
    return row


def _structure(data: dict) -> list[dict] | None:
    return (
        [dict(d, indicators=[dict(i) for i in d["indicators"]]) for d in data["dimensions"]]
        if "dimensions" in data
        else None
    )


class RubricApi(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Rubrics: the list as summaries, a rubric's own page with its dimensions and indicators.
    Bureau: create (POST with ``dimensions``), change while unlocked (PATCH), ``revise`` (new
    version), ``copy`` last year's, ``default``."""

    queryset = Rubric.objects.select_related("county", "school_year").prefetch_related("dimensions__indicators")
    serializer_class = RubricSerializer
    list_serializer_class = RubricSummarySerializer
    filterset_fields = ["school_year", "subject", "version", "locked"]
    action_roles = dict.fromkeys(("create", "partial_update", "revise", "copy", "default"), BUREAU)

    def create(self, request: Request) -> Response:
        data = _valid(RubricCreateSerializer, request)
        year = _named(SchoolYear, request.user, data.pop("school_year"), "school_year")
        structure = _structure(data)
        settings = {k: v for k, v in data.items() if k != "dimensions"}
        rubric = services.rubric_create(
            actor=request.user, county=year.county, school_year=year, structure=structure or [], **settings
        )
        return Response(RubricSerializer(rubric).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: Any = None) -> Response:
        rubric = self.get_object()
        data = _valid(RubricWriteSerializer, request)
        settings = {k: v for k, v in data.items() if k != "dimensions"}
        rubric = services.rubric_update(actor=request.user, rubric=rubric, structure=_structure(data), **settings)
        return Response(RubricSerializer(rubric).data)

    @action(detail=True, methods=["post"])
    def revise(self, request: Request, pk: Any = None) -> Response:
        rubric = services.rubric_revise(actor=request.user, rubric=self.get_object())
        return Response(RubricSerializer(rubric).data, status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"])
    def copy(self, request: Request) -> Response:
        data = _valid(SchoolYearRefSerializer, request)
        year = _named(SchoolYear, request.user, data["school_year"], "school_year")
        rubric = services.rubric_copy(actor=request.user, county=year.county, school_year=year, subject=data["subject"])
        return Response(RubricSerializer(rubric).data, status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"])
    def default(self, request: Request) -> Response:
        data = _valid(SchoolYearRefSerializer, request)
        year = _named(SchoolYear, request.user, data["school_year"], "school_year")
        rubric = services.rubric_create_default(
            actor=request.user, county=year.county, school_year=year, subject=data["subject"]
        )
        return Response(RubricSerializer(rubric).data, status=status.HTTP_201_CREATED)


class IndicatorApi(ScopedReadOnlyViewSet):
    queryset = Indicator.objects.select_related("dimension")
    serializer_class = IndicatorSerializer
    filterset_fields = ["dimension", "dimension__rubric", "method", "code"]


class PeriodApi(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Periods; bureau actions: create, ``propose`` (public notice), ``approve`` (a different user,
    after the notice), ``correct`` (propose a correction of a published period), ``approve-correction``
    (a different user: a new published revision), ``reject-correction``, ``preview`` (what-if),
    ``evaluate``."""

    queryset = EvaluationPeriod.objects.select_related("school_year", "term")
    serializer_class = PeriodSerializer
    filterset_fields = ["school_year", "subject", "kind", "status"]
    action_roles = dict.fromkeys(
        ("create", "propose", "approve", "correct", "approve_correction", "reject_correction", "preview", "evaluate"),
        BUREAU,
    )

    def create(self, request: Request) -> Response:
        data = _valid(PeriodCreateSerializer, request)
        year = _named(SchoolYear, request.user, data["school_year"], "school_year")
        term = _named(Term, request.user, data["term"], "term") if data.get("term") else None
        period = services.period_create(
            actor=request.user, school_year=year, term=term, notice_days=data["notice_days"], subject=data["subject"]
        )
        return Response(PeriodSerializer(period).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProposeSerializer, responses=PeriodSerializer)
    @action(detail=True, methods=["post"])
    def propose(self, request: Request, pk: Any = None) -> Response:
        data = _valid(ProposeSerializer, request)
        period = services.publication_propose(
            actor=request.user, period=self.get_object(), notice_days=data.get("notice_days")
        )
        return Response(PeriodSerializer(period).data)

    @extend_schema(request=None, responses=PublicationSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: Any = None) -> Response:
        publication = services.publication_approve(actor=request.user, period=self.get_object())
        return Response(PublicationSerializer(publication).data)

    @extend_schema(request=CorrectionProposeSerializer, responses={201: CorrectionSerializer})
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: Any = None) -> Response:
        data = _valid(CorrectionProposeSerializer, request)
        corrections = [
            (
                _named(Indicator, request.user, c["indicator"], "corrections"),
                _named(School, request.user, c["school"], "corrections") if c["school"] is not None else None,
                c["value"],
                _named(Teacher, request.user, c["teacher"], "corrections") if c["teacher"] is not None else None,
            )
            for c in data["corrections"]
        ]
        correction = services.correction_propose(
            actor=request.user, period=self.get_object(), reason=data["reason"], corrections=corrections
        )
        return Response(CorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=PublicationSerializer)
    @action(detail=True, methods=["post"], url_path="approve-correction")
    def approve_correction(self, request: Request, pk: Any = None) -> Response:
        publication = services.correction_approve(actor=request.user, period=self.get_object())
        return Response(PublicationSerializer(publication).data)

    @extend_schema(request=DecisionSerializer, responses=CorrectionSerializer)
    @action(detail=True, methods=["post"], url_path="reject-correction")
    def reject_correction(self, request: Request, pk: Any = None) -> Response:
        data = _valid(DecisionSerializer, request)
        correction = services.correction_reject(actor=request.user, period=self.get_object(), decision=data["decision"])
        return Response(CorrectionSerializer(correction).data)

    @extend_schema(request=PreviewSerializer, responses=PreviewResultSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, pk: Any = None) -> Response:
        data = _valid(PreviewSerializer, request)
        preview = services.awards_preview(actor=request.user, period=self.get_object(), **data)
        return Response(PreviewResultSerializer(preview).data)

    @extend_schema(request=None, responses=_QUEUE_RESPONSES)
    @action(detail=True, methods=["post"])
    def evaluate(self, request: Request, pk: Any = None) -> Response:
        period = self.get_object()
        try:
            services.evaluation_queue(
                actor=request.user, county=period.county, start_year=period.school_year.start_year
            )
        except services.QueueUnavailable as exc:
            return Response({"detail": str(exc), "queued": False}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)


class IndicatorValueApi(ScopedModelViewSet):
    """Manual and survey values: assessors for their assigned schools (and their principals and
    teachers), bureau for the county. A teachers' period's value names the teacher."""

    queryset = IndicatorValue.objects.select_related("indicator", "school", "period")
    serializer_class = IndicatorValueSerializer
    filterset_fields = ["period", "school", "teacher", "indicator"]
    http_method_names = ["get", "post", "head", "options"]

    def create(self, request: Request) -> Response:
        d = _valid(IndicatorValueInputSerializer, request)
        row = services.indicator_value_set(
            actor=request.user,
            period=d["period"],
            indicator=d["indicator"],
            school=d.get("school"),
            teacher=d.get("teacher"),
            value=d["value"],
            comment=d.get("comment", ""),
            evidence=d.get("evidence"),
        )
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


class SchoolResultApi(ScopedReadOnlyViewSet):
    """Results: the bureau's working figures; schools see theirs once proposed. The list gives
    summaries, a result's own page its trace too."""

    queryset = SchoolResult.objects.select_related("school")
    serializer_class = SchoolResultSerializer
    filterset_fields = ["period", "school", "alliance", "grade"]
    ordering_fields = ["final_score", "own_total"]

    def get_serializer_class(self):
        return SchoolResultDetailSerializer if self.action == "retrieve" else SchoolResultSerializer


class PersonResultApi(ScopedReadOnlyViewSet):
    """Principals' and teachers' results: each person its own (a principal its principal result
    and its school's teachers'; a lead principal also its alliances' teachers'), the bureau and
    auditors the county's; schools see them once proposed. A result's own page gives its trace."""

    queryset = PersonResult.objects.select_related("school", "teacher")
    serializer_class = PersonResultSerializer
    filterset_fields = ["period", "subject", "school", "teacher", "grade"]
    ordering_fields = ["score"]

    def get_serializer_class(self):
        return PersonResultDetailSerializer if self.action == "retrieve" else PersonResultSerializer


class AllianceResultApi(ScopedReadOnlyViewSet):
    queryset = AllianceResult.objects.all()
    serializer_class = AllianceResultSerializer
    filterset_fields = ["period", "alliance", "grade"]


class DeclineWarningApi(ScopedReadOnlyViewSet):
    queryset = DeclineWarning.objects.all()
    serializer_class = DeclineWarningSerializer
    filterset_fields = ["period", "school"]


class EvaluationRunApi(ScopedReadOnlyViewSet):
    """Runs of the overnight job; ``start`` queues one for the user's county now."""

    queryset = EvaluationRun.objects.all()
    serializer_class = EvaluationRunSerializer
    filterset_fields = ["status", "county", "start_year"]
    action_roles = {"start": BUREAU}

    @extend_schema(request=RunStartSerializer, responses=_QUEUE_RESPONSES)
    @action(detail=False, methods=["post"])
    def start(self, request: Request) -> Response:
        data = _valid(RunStartSerializer, request)
        try:
            services.evaluation_queue(actor=request.user, county=request.user.county, start_year=data.get("start_year"))  # type: ignore[union-attr]
        except services.QueueUnavailable as exc:
            return Response({"detail": str(exc), "queued": False}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)


class AppealApi(ScopedModelViewSet):
    """申诉: principals file (for their own school, during the notice); bureau accepts or rejects."""

    queryset = Appeal.objects.select_related("school", "indicator")
    serializer_class = AppealSerializer
    filterset_fields = ["period", "school", "status"]
    http_method_names = ["get", "post", "head", "options"]
    action_roles = {"create": PRINCIPALS, "accept": BUREAU, "reject": BUREAU}

    def create(self, request: Request) -> Response:
        d = _valid(AppealInputSerializer, request)
        appeal = services.appeal_file(
            actor=request.user,
            period=d["period"],
            indicator=d["indicator"],
            reason=d["reason"],
            evidence=d.get("evidence"),
        )
        return Response(self.get_serializer(appeal).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: Any = None) -> Response:
        data = _valid(AppealAcceptSerializer, request)
        appeal = services.appeal_accept(actor=request.user, appeal=self.get_object(), **data)
        return Response(self.get_serializer(appeal).data)

    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: Any = None) -> Response:
        data = _valid(AppealRejectSerializer, request)
        appeal = services.appeal_reject(actor=request.user, appeal=self.get_object(), decision=data["decision"])
        return Response(self.get_serializer(appeal).data)


class AwardPolicyApi(ScopedModelViewSet):
    """Award policies: the bureau writes them through the policy services."""

    queryset = AwardPolicy.objects.select_related("school_year").order_by("county", "-school_year__start_year", "pk")
    serializer_class = AwardPolicySerializer
    filterset_fields = ["school_year", "kind"]

    def create(self, request: Request) -> Response:
        data = _valid(AwardPolicySerializer, request)
        policy = services.award_policy_create(actor=request.user, **data)
        return Response(self.get_serializer(policy).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: Any = None, partial: bool = False) -> Response:
        policy = self.get_object()
        data = _valid(AwardPolicySerializer, request, instance=policy, partial=partial)
        policy = services.award_policy_update(actor=request.user, policy=policy, **data)
        return Response(self.get_serializer(policy).data)

    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: Any = None) -> Response:
        services.award_policy_delete(actor=request.user, policy=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublicationApi(ScopedReadOnlyViewSet):
    queryset = Publication.objects.all()
    serializer_class = PublicationSerializer
    filterset_fields = ["period"]


def register(router: BaseRouter) -> None:
    router.register("evaluation/rubrics", RubricApi)
    router.register("evaluation/indicators", IndicatorApi)
    router.register("evaluation/periods", PeriodApi)
    router.register("evaluation/values", IndicatorValueApi)
    router.register("evaluation/results", SchoolResultApi)
    router.register("evaluation/person-results", PersonResultApi)
    router.register("evaluation/alliance-results", AllianceResultApi)
    router.register("evaluation/warnings", DeclineWarningApi)
    router.register("evaluation/runs", EvaluationRunApi)
    router.register("evaluation/appeals", AppealApi)
    router.register("evaluation/award-policies", AwardPolicyApi)
    router.register("evaluation/publications", PublicationApi)

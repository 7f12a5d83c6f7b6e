from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from . import access, services
from .models import Alliance, County, Membership, Pairing, PairingTask, Programme, School, SchoolYear, Term
from .rest import ScopedModelViewSet, ScopedReadOnlyViewSet, ServiceWritesMixin
from .serializers import (
    AllianceSerializer,
    CountySerializer,
    MembershipSerializer,
    PairingSerializer,
    PairingTaskInputSerializer,
    PairingTaskSerializer,
    ProgrammeInputSerializer,
    ProgrammeMissingMeetingQuerySerializer,
    ProgrammePairingInputSerializer,
    ProgrammeSerializer,
    SchoolSerializer,
    SchoolYearSerializer,
    TermSerializer,
)


class CountyApi(ScopedReadOnlyViewSet):
    queryset = County.objects.all()
    serializer_class = CountySerializer


class SchoolApi(ScopedModelViewSet):
    queryset = School.objects.select_related("county")
    serializer_class = SchoolSerializer
    filterset_fields = ["stage", "location", "strength", "active"]
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "students"]


class SchoolYearApi(ScopedModelViewSet):
    queryset = SchoolYear.objects.prefetch_related("terms")
    serializer_class = SchoolYearSerializer
    filterset_fields = ["start_year"]


class TermApi(ScopedModelViewSet):
    queryset = Term.objects.select_related("school_year")
    serializer_class = TermSerializer
    filterset_fields = ["school_year"]


class AllianceApi(ScopedModelViewSet):
    queryset = Alliance.objects.select_related("school_year").prefetch_related("memberships__school")
    serializer_class = AllianceSerializer
    filterset_fields = ["school_year", "kind"]
    search_fields = ["name"]


class MembershipApi(ScopedModelViewSet):
    queryset = Membership.objects.select_related("school", "alliance")
    serializer_class = MembershipSerializer
    filterset_fields = ["alliance", "school", "role"]


class PairingApi(ScopedModelViewSet):
    queryset = Pairing.objects.select_related("alliance", "helper_school", "helped_school")
    serializer_class = PairingSerializer
    filterset_fields = ["alliance", "programme", "helper_school", "helped_school"]


class PairingTaskApi(ServiceWritesMixin, ScopedModelViewSet):
    """The bureau's task lists; a pairing's schools (and its alliance's lead school) report the
    status, completion date and progress (``services.pairing_task_update``)."""

    queryset = PairingTask.objects.select_related("pairing")
    serializer_class = PairingTaskSerializer
    input_serializer_class = PairingTaskInputSerializer
    filterset_fields = ["pairing", "status"]

    def service_create(self, *, actor, data):
        return services.pairing_task_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        return services.pairing_task_update(actor=actor, task=instance, **data)

    def service_delete(self, *, actor, instance):
        services.pairing_task_delete(actor=actor, task=instance)


class ProgrammeApi(ServiceWritesMixin, ScopedModelViewSet):
    """Cross-county programmes: both counties' bureaus manage them; a participating school's
    principal reads its programme. ``pairings`` pairs a school of each county in it;
    ``missing-term-meetings`` lists the programmes that held no term meeting in a term."""

    queryset = Programme.objects.select_related("helper_county", "helped_county").prefetch_related(
        "pairings__helper_school", "pairings__helped_school"
    )
    serializer_class = ProgrammeSerializer
    input_serializer_class = ProgrammeInputSerializer
    filterset_fields = ["helper_county", "helped_county"]
    search_fields = ["name"]
    action_roles = {"missing_term_meetings": access.COUNTY_READERS}

    def service_create(self, *, actor, data):
        return services.programme_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        return services.programme_update(actor=actor, programme=instance, **data)

    def service_delete(self, *, actor, instance):
        services.programme_delete(actor=actor, programme=instance)

    @extend_schema(request=ProgrammePairingInputSerializer, responses=PairingSerializer)
    @action(detail=True, methods=["post"], serializer_class=ProgrammePairingInputSerializer)
    def pairings(self, request: Request, pk: str | None = None) -> Response:
        programme = self.get_object()
        form = ProgrammePairingInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        schools = services.programme_schools(programme)
        for name in ("helper_school", "helped_school"):
            school = schools.filter(pk=data[name]).first()
            if school is None:
                raise serializers.ValidationError(
                    {name: [_("Name a school of the programme's two counties; this one is not among them.")]}
                )
            data[name] = school
        pairing = services.programme_pairing_create(actor=request.user, programme=programme, **data)
        output = PairingSerializer(pairing, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[ProgrammeMissingMeetingQuerySerializer], responses=ProgrammeSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="missing-term-meetings", pagination_class=None)
    def missing_term_meetings(self, request: Request) -> Response:
        """The programmes of a term's county that held no term meeting (帮扶例会) in it."""
        query = ProgrammeMissingMeetingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        terms = Term.objects.visible_to(request.user).select_related("school_year")
        term = terms.filter(pk=query.validated_data["term"]).first()
        if term is None:
            raise NotFound
        missing = services.programmes_missing_term_meeting(actor=request.user, term=term)
        ids = [p.pk for p in missing]
        rows = self.get_queryset().filter(pk__in=ids).order_by("name", "pk")
        return Response(ProgrammeSerializer(rows, many=True, context=self.get_serializer_context()).data)


def register(router: BaseRouter) -> None:
    router.register("counties", CountyApi)
    router.register("schools", SchoolApi)
    router.register("school-years", SchoolYearApi)
    router.register("terms", TermApi)
    router.register("alliances", AllianceApi)
    router.register("memberships", MembershipApi)
    router.register("pairings", PairingApi)
    router.register("pairing-tasks", PairingTaskApi)
    router.register("programmes", ProgrammeApi)

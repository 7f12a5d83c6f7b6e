from __future__ import annotations

from django.db.models import Case, CharField, F, Prefetch, When
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from alliance import access
from alliance.models import School, SchoolYear
from alliance.rest import ScopedModelViewSet, ServiceWritesMixin

from . import services
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
from .serializers import (
    ActivityAttachmentInputSerializer,
    ActivityAttachmentSerializer,
    ActivityInputSerializer,
    ActivitySerializer,
    ExchangeCancelSerializer,
    ExchangeInputSerializer,
    ExchangeSerializer,
    MentorMeetingInputSerializer,
    MentorMeetingSerializer,
    MentorPairInputSerializer,
    MentorPairSerializer,
    RectificationAnswerSerializer,
    RectificationInputSerializer,
    RectificationSerializer,
    SupervisionVisitInputSerializer,
    SupervisionVisitSerializer,
    TeacherInputSerializer,
    TeacherSerializer,
    VisitGridQuerySerializer,
    VisitGridRowSerializer,
    split_m2m,
)
from .supervision import school_year_months, visit_grid


class TeacherFilter(filters.FilterSet):
    class Meta:
        model = Teacher
        fields = ["school", "subject", "title", "is_key_teacher", "active"]


class ExchangeFilter(filters.FilterSet):
    school = filters.NumberFilter(method="filter_school", label="school (origin or host)")
    host_school = filters.NumberFilter(field_name="hosts__school", distinct=True)
    start_from = filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_to = filters.DateFilter(field_name="start_date", lookup_expr="lte")
    end_from = filters.DateFilter(field_name="end_date", lookup_expr="gte")
    end_to = filters.DateFilter(field_name="end_date", lookup_expr="lte")

    class Meta:
        model = Exchange
        fields = ["kind", "status", "teacher", "origin_school", "cross_alliance", "subject"]

    def filter_school(self, qs, name, value):
        hosted = Exchange.objects.filter(hosts__school_id=value).values("pk")
        return qs.filter(origin_school_id=value) | qs.filter(pk__in=hosted)


class MentorPairFilter(filters.FilterSet):
    school = filters.NumberFilter(method="filter_school", label="school (mentor's or mentee's)")
    start_from = filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_to = filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = MentorPair
        fields = ["mentor", "mentee"]

    def filter_school(self, qs, name, value):
        return qs.filter(mentor__school_id=value) | qs.filter(mentee__school_id=value)


class MentorMeetingFilter(filters.FilterSet):
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = MentorMeeting
        fields = ["pair", "kind"]


class ActivityFilter(filters.FilterSet):
    school = filters.NumberFilter(method="filter_school", label="school (organiser or involved)")
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Activity
        fields = ["kind", "host_school"]

    def filter_school(self, qs, name, value):
        involved = Activity.objects.filter(schools=value).values("pk")
        return qs.filter(host_school_id=value) | qs.filter(pk__in=involved)


class TeacherApi(ServiceWritesMixin, ScopedModelViewSet):
    queryset = Teacher.objects.select_related("school")
    serializer_class = TeacherSerializer
    input_serializer_class = TeacherInputSerializer
    filterset_class = TeacherFilter
    search_fields = ["name", "school__name"]
    ordering_fields = ["name", "years_of_service", "school__code"]

    def service_create(self, *, actor, data):
        return services.teacher_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        return services.teacher_update(actor=actor, teacher=instance, **data)

    def service_delete(self, *, actor, instance):
        services.teacher_delete(actor=actor, teacher=instance)


class ExchangeApi(ServiceWritesMixin, ScopedModelViewSet):
    """Writes go through ``services.exchange_create`` / ``exchange_update``; the status moves
    only through the actions."""

    # The hosts' ids in id order, read from the exchange's host rows (alliance.listing._link_ids).
    queryset = Exchange.objects.select_related("teacher", "origin_school").prefetch_related(
        Prefetch("host_schools", queryset=School.objects.order_by("pk"))
    )
    serializer_class = ExchangeSerializer
    input_serializer_class = ExchangeInputSerializer
    filterset_class = ExchangeFilter
    search_fields = ["teacher__name", "origin_school__name", "classes"]
    ordering_fields = ["start_date", "end_date", "status"]
    action_roles = {"approve": access.BUREAU_ONLY}

    def service_create(self, *, actor, data):
        return services.exchange_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        return services.exchange_update(actor=actor, exchange=instance, **data)

    def service_delete(self, *, actor, instance):
        services.exchange_delete(actor=actor, exchange=instance)

    def _respond(self, exchange: Exchange) -> Response:
        return self.respond(exchange)

    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._respond(services.exchange_approve(actor=request.user, exchange=self.get_object()))

    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._respond(services.exchange_start(actor=request.user, exchange=self.get_object()))

    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        return self._respond(services.exchange_complete(actor=request.user, exchange=self.get_object()))

    @action(detail=True, methods=["post"], serializer_class=ExchangeCancelSerializer)
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        exchange = self.get_object()
        form = ExchangeCancelSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.exchange_cancel(actor=request.user, exchange=exchange, reason=form.validated_data["reason"])
        return self.respond(exchange, status.HTTP_200_OK)


class MentorPairApi(ServiceWritesMixin, ScopedModelViewSet):
    queryset = MentorPair.objects.prefetch_related("meetings")
    serializer_class = MentorPairSerializer
    input_serializer_class = MentorPairInputSerializer
    filterset_class = MentorPairFilter
    search_fields = ["mentor__name", "mentee__name", "goals"]
    ordering_fields = ["start_date"]

    def get_queryset(self):
        # A pair spans two schools: the name of a teacher the caller may not read is not shown.
        # Read in the rows' query (the caller's readable schools once, as a subquery), so a list
        # needs no model instance per row (alliance.listing).
        readable = access.readable_schools(self.request.user).values("pk")

        def shown(side: str) -> Case:
            return Case(
                When(**{f"{side}__school__in": readable}, then=F(f"{side}__name")),
                default=None,
                output_field=CharField(),
            )

        return super().get_queryset().annotate(mentor_name=shown("mentor"), mentee_name=shown("mentee"))

    def service_create(self, *, actor, data):
        return services.mentor_pair_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        return services.mentor_pair_update(actor=actor, pair=instance, **data)

    def service_delete(self, *, actor, instance):
        services.mentor_pair_delete(actor=actor, pair=instance)


class MentorMeetingApi(ServiceWritesMixin, ScopedModelViewSet):
    queryset = MentorMeeting.objects.all()
    serializer_class = MentorMeetingSerializer
    input_serializer_class = MentorMeetingInputSerializer
    filterset_class = MentorMeetingFilter
    search_fields = ["notes"]
    ordering_fields = ["date"]

    def service_create(self, *, actor, data):
        return services.mentor_meeting_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        return services.mentor_meeting_update(actor=actor, meeting=instance, **data)

    def service_delete(self, *, actor, instance):
        services.mentor_meeting_delete(actor=actor, meeting=instance)


class ActivityApi(ServiceWritesMixin, ScopedModelViewSet):
    # The schools' ids in id order, read from the activity's school rows (alliance.listing._link_ids).
    queryset = Activity.objects.select_related("host_school").prefetch_related(
        Prefetch("schools", queryset=School.objects.order_by("pk")), "attachments"
    )
    serializer_class = ActivitySerializer
    input_serializer_class = ActivityInputSerializer
    filterset_class = ActivityFilter
    search_fields = ["title", "description", "participants"]
    ordering_fields = ["date", "person_times"]

    def service_create(self, *, actor, data):
        fields, schools = split_m2m(data, "schools")
        return services.activity_create(actor=actor, schools=schools or (), **fields)

    def service_update(self, *, actor, instance, data):
        fields, schools = split_m2m(data, "schools")
        return services.activity_update(actor=actor, activity=instance, schools=schools, **fields)

    def service_delete(self, *, actor, instance):
        services.activity_delete(actor=actor, activity=instance)


class ActivityAttachmentApi(ServiceWritesMixin, ScopedModelViewSet):
    queryset = ActivityAttachment.objects.all()
    serializer_class = ActivityAttachmentSerializer
    input_serializer_class = ActivityAttachmentInputSerializer
    filterset_fields = ["activity"]
    search_fields = ["caption"]

    def service_create(self, *, actor, data):
        return services.attachment_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        return services.attachment_update(actor=actor, attachment=instance, **data)

    def service_delete(self, *, actor, instance):
        services.attachment_delete(actor=actor, attachment=instance)


class SupervisionVisitFilter(filters.FilterSet):
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = SupervisionVisit
        fields = ["school", "supervisor"]


class SupervisionVisitApi(ServiceWritesMixin, ScopedModelViewSet):
    """Supervision visits (seed 004): logged by the school's assigned supervisor or the bureau;
    a visit is a record, corrected but not deleted."""

    queryset = SupervisionVisit.objects.select_related("school").prefetch_related("rectifications")
    serializer_class = SupervisionVisitSerializer
    input_serializer_class = SupervisionVisitInputSerializer
    filterset_class = SupervisionVisitFilter
    search_fields = ["findings", "school__name"]
    ordering_fields = ["date"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def service_create(self, *, actor, data):
        return services.supervision_visit_create(actor=actor, **data)

    def service_update(self, *, actor, instance, data):
        return services.supervision_visit_update(actor=actor, visit=instance, **data)

    @extend_schema(parameters=[VisitGridQuerySerializer], responses=VisitGridRowSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def grid(self, request: Request) -> Response:
        """School × month visit counts of a school year, the months below the rule marked:
        county readers see their county's schools, an assessor its assigned ones."""
        query = VisitGridQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data["school_year"]
        user = request.user
        if not SchoolYear.objects.visible_to(user).filter(pk=year.pk).exists():
            raise NotFound
        # county readers, and the supervisors (assessors: the other writers of visits)
        if not (access.is_county_reader(user, year.county_id) or access.can_write_model(user, SupervisionVisit)):
            raise PermissionDenied(_("Only bureau staff, auditors and supervisors see the visit grid."))
        schools = access.readable_schools(user).filter(county_id=year.county_id, active=True)
        rows = visit_grid(schools=schools, months=school_year_months(year))
        return Response(VisitGridRowSerializer(rows, many=True).data)


class RectificationApi(ServiceWritesMixin, ScopedModelViewSet):
    """Rectification items (整改): the supervisor sets them, the school's principal answers
    (``answer``), the supervisor or the bureau closes (``close``)."""

    queryset = Rectification.objects.select_related("visit__school")
    serializer_class = RectificationSerializer
    input_serializer_class = RectificationInputSerializer
    filterset_fields = ["visit", "status", "visit__school"]
    ordering_fields = ["due_date"]
    http_method_names = ["get", "post", "head", "options"]
    # closing: the writers of supervision rows (bureau, assessors), by the model-level gate
    action_roles = {"answer": access.PRINCIPALS}

    def service_create(self, *, actor, data):
        return services.rectification_create(actor=actor, **data)

    @action(detail=True, methods=["post"], serializer_class=RectificationAnswerSerializer)
    def answer(self, request: Request, pk: str | None = None) -> Response:
        # The principal reads the row but does not change it (the answer is the service's
        # own rule): looked up among the rows it sees, without the change check.
        rectification = get_object_or_404(self.get_queryset(), pk=pk)
        form = RectificationAnswerSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.rectification_answer(
            actor=request.user, rectification=rectification, answer=form.validated_data["answer"]
        )
        return self.respond(rectification)

    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        return self.respond(services.rectification_close(actor=request.user, rectification=self.get_object()))


def register(router: BaseRouter) -> None:
    router.register("teachers", TeacherApi)
    router.register("exchanges", ExchangeApi)
    router.register("mentor-pairs", MentorPairApi)
    router.register("mentor-meetings", MentorMeetingApi)
    router.register("activities", ActivityApi)
    router.register("activity-attachments", ActivityAttachmentApi)
    router.register("supervision-visits", SupervisionVisitApi)
    router.register("rectifications", RectificationApi)

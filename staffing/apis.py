from __future__ import annotations

from django_filters import rest_framework as filters
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from alliance import access
from alliance.rest import ScopedModelViewSet

from . import services
from .models import Activity, ActivityAttachment, Exchange, MentorMeeting, MentorPair, Teacher
from .serializers import (
    ActivityAttachmentSerializer,
    ActivitySerializer,
    ExchangeCancelSerializer,
    ExchangeSerializer,
    MentorMeetingSerializer,
    MentorPairSerializer,
    TeacherSerializer,
)


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


class TeacherApi(ScopedModelViewSet):
    queryset = Teacher.objects.select_related("school")
    serializer_class = TeacherSerializer
    filterset_class = TeacherFilter
    search_fields = ["name", "school__name"]
    ordering_fields = ["name", "years_of_service", "school__code"]


class ExchangeApi(ScopedModelViewSet):
    queryset = Exchange.objects.select_related("teacher", "origin_school").prefetch_related("host_schools")
    serializer_class = ExchangeSerializer
    filterset_class = ExchangeFilter
    search_fields = ["teacher__name", "origin_school__name", "classes"]
    ordering_fields = ["start_date", "end_date", "status"]
    action_roles = {"approve": access.BUREAU_ONLY}

    def _respond(self, exchange: Exchange) -> Response:
        exchange = self.get_queryset().get(pk=exchange.pk)
        return Response(self.get_serializer(exchange).data)

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
        exchange = self.get_queryset().get(pk=exchange.pk)
        return Response(ExchangeSerializer(exchange, context=self.get_serializer_context()).data, status.HTTP_200_OK)


class MentorPairApi(ScopedModelViewSet):
    queryset = MentorPair.objects.select_related("mentor", "mentee").prefetch_related("meetings")
    serializer_class = MentorPairSerializer
    filterset_class = MentorPairFilter
    search_fields = ["mentor__name", "mentee__name", "goals"]
    ordering_fields = ["start_date"]


class MentorMeetingApi(ScopedModelViewSet):
    queryset = MentorMeeting.objects.all()
    serializer_class = MentorMeetingSerializer
    filterset_class = MentorMeetingFilter
    search_fields = ["notes"]
    ordering_fields = ["date"]


class ActivityApi(ScopedModelViewSet):
    queryset = Activity.objects.select_related("host_school").prefetch_related("schools", "attachments")
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    search_fields = ["title", "description", "participants"]
    ordering_fields = ["date", "person_times"]


class ActivityAttachmentApi(ScopedModelViewSet):
    queryset = ActivityAttachment.objects.all()
    serializer_class = ActivityAttachmentSerializer
    filterset_fields = ["activity"]
    search_fields = ["caption"]


def register(router: BaseRouter) -> None:
    router.register("teachers", TeacherApi)
    router.register("exchanges", ExchangeApi)
    router.register("mentor-pairs", MentorPairApi)
    router.register("mentor-meetings", MentorMeetingApi)
    router.register("activities", ActivityApi)
    router.register("activity-attachments", ActivityAttachmentApi)

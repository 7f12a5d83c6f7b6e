from rest_framework.routers import BaseRouter

from . import services
from .models import Alliance, County, Membership, Pairing, PairingTask, School, SchoolYear, Term
from .rest import ScopedModelViewSet, ScopedReadOnlyViewSet, ServiceWritesMixin
from .serializers import (
    AllianceSerializer,
    CountySerializer,
    MembershipSerializer,
    PairingSerializer,
    PairingTaskInputSerializer,
    PairingTaskSerializer,
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
    filterset_fields = ["alliance", "helper_school", "helped_school"]


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


def register(router: BaseRouter) -> None:
    router.register("counties", CountyApi)
    router.register("schools", SchoolApi)
    router.register("school-years", SchoolYearApi)
    router.register("terms", TermApi)
    router.register("alliances", AllianceApi)
    router.register("memberships", MembershipApi)
    router.register("pairings", PairingApi)
    router.register("pairing-tasks", PairingTaskApi)

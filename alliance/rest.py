"""The API's shared pieces: the role permission, the scoped viewset and serializer, the
exception handler that turns model validation into a 400 with field errors, the strict
decimal field, and the versioned update (``ETag``/``If-Match``,
row lock, only the submitted fields saved).
The permission class lives in ``alliance.permissions`` (DRF's settings import it while
``rest_framework.views`` loads, so it must not import views itself)."""

from __future__ import annotations

import decimal
import logging
import re
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_serializer_context
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.utils import model_meta
from rest_framework.views import exception_handler as drf_exception_handler

from . import access, listing
from .access import Role
from .versions import etag, if_match_versions, row_version

if TYPE_CHECKING:
    from rest_framework.generics import GenericAPIView
    from rest_framework.schemas.inspectors import ViewInspector

    # What ServiceWritesMixin expects of the view it is mixed into.
    _ServiceWritesBase = GenericAPIView
else:
    _ServiceWritesBase = object

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict) -> Any:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = exceptions.ValidationError(
            {"non_field_errors": [_("This record is still referred to by other records and cannot be deleted.")]}
        )
    elif isinstance(exc, IntegrityError):
        # Validation runs first; this is the database catching a race between two requests.
        logger.warning("integrity error in %s: %s", context.get("view"), exc)
        exc = exceptions.ValidationError({"non_field_errors": [_("This conflicts with an existing record.")]})
    return drf_exception_handler(exc, context)


# Plain decimal notation: digits, at most one point, an optional leading minus. No exponent, no
# grouping commas, no NaN or Infinity.
_PLAIN_DECIMAL = re.compile(r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


class PlainDecimalField(serializers.DecimalField):
    """A decimal in plain notation with at most the model field's decimal places: "1e3",
    "NaN", "1,000" and "1.001" (for money) are refused, never rounded or reinterpreted."""

    default_error_messages = {
        "plain": _("Enter a number in plain decimal notation, such as 1234.50."),
        "max_decimal_places": _("Enter at most {max_decimal_places} decimal places."),
    }

    def to_internal_value(self, data: Any) -> decimal.Decimal:
        if isinstance(data, bool):
            self.fail("plain")
        text = str(data).strip() if isinstance(data, str | int | float | decimal.Decimal) else None
        if text is None or len(text) > self.MAX_STRING_LENGTH or not _PLAIN_DECIMAL.match(text):
            self.fail("plain")
        places = len(text.split(".", 1)[1]) if "." in text else 0
        if self.decimal_places is not None and places > self.decimal_places:
            self.fail("max_decimal_places", max_decimal_places=self.decimal_places)
        return super().to_internal_value(text)


class ScopedViewSetMixin:
    """Rows come through the access checkpoint; ``action_roles`` restricts custom actions."""

    action_roles: dict[str, frozenset[Role]] = {}
    # Every row is named by its integer id: anything else in the id's place is no route (a JSON
    # 404 from the /api/ catch-all), never a query with a NUL byte or text for an integer.
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.visible_to(self.request.user)

    def filter_queryset(self, queryset):
        # A list asked for without any parameter but its page has nothing to filter: django-filter
        # would still build its filter set and form for every request.
        params = set(self.request.query_params) - _PAGE_PARAMS
        if getattr(self, "action", None) == "list":
            # Related rows by their ids (``listing.flat_ordering``); ``?ordering=`` still chooses.
            queryset = queryset.order_by(*listing.flat_ordering(queryset))
        for backend in self.filter_backends:
            if not params and issubclass(backend, DjangoFilterBackend):
                continue
            queryset = backend().filter_queryset(self.request, queryset, self)
        return queryset

    # A list's rows as summaries where a row's whole form is heavy (a plan's lines with what was
    # spent on each, a rubric's dimensions and indicators): the row's own page has the rest.
    list_serializer_class: type[serializers.BaseSerializer] | None = None

    def get_serializer_class(self):
        if self.action == "list" and self.list_serializer_class is not None:
            return self.list_serializer_class
        return super().get_serializer_class()

    # False: every list through DRF's serializer (tests/test_query_counts.py compares the two).
    list_as_values = True

    def list(self, request, *args, **kwargs):
        """A page of rows read as values where the list's serializer allows it (``alliance.listing``):
        the same JSON as DRF's path, without a model instance per row."""
        if not self.list_as_values:
            return super().list(request, *args, **kwargs)
        with listing.prepared_reads():
            queryset = self.filter_queryset(self.get_queryset())
            plan = self._list_plan(queryset)
            if plan is None:
                return super().list(request, *args, **kwargs)
            page = self.paginate_queryset(listing.values_queryset(plan, queryset))
            if page is None:
                return Response(listing.represent_page(plan, list(listing.values_queryset(plan, queryset)), request))
            return self.get_paginated_response(listing.represent_page(plan, page, request))

    def _list_plan(self, queryset):
        serializer_class = self.get_serializer_class()
        key = (type(self), serializer_class)
        if key not in _LIST_PLANS:
            try:
                plan = listing.build_plan(serializer_class(context={}), queryset)
            except listing.Unsupported:
                plan = None
            _LIST_PLANS[key] = plan
        plan = _LIST_PLANS[key]
        if plan is not None and not {c.key for c in plan.columns if "__" not in c.key} <= _columns_of(queryset):
            return None
        return plan


_PAGE_PARAMS = frozenset({"page", "format"})
# (view class, serializer class) -> the list's values plan, or None for DRF's path
_LIST_PLANS: dict[tuple[type, type], listing._Plan | None] = {}


def _columns_of(queryset) -> set[str]:
    opts = queryset.model._meta
    return {"pk", *queryset.query.annotations, *(f.attname for f in opts.concrete_fields)}


class VersionedRetrieveMixin:
    """A detail response carries the row's version as its ``ETag`` (``alliance.versions``)."""

    def _with_version(self, response: Response, instance: models.Model) -> Response:
        version = row_version(type(instance), instance.pk)
        if version is not None:
            response["ETag"] = etag(version)
        return response

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        return self._with_version(Response(self.get_serializer(instance).data), instance)


class VersionedUpdateMixin(VersionedRetrieveMixin):
    """No lost update: an update locks its row, refuses a stale ``If-Match`` (412, with the
    current values and version), reads the row again under the lock and saves only the fields
    the request names (``ScopedModelSerializer.update``), so two edits of different fields both
    survive and an edit made from a stale read never overwrites a newer one."""

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        model = type(instance)
        with transaction.atomic():
            list(model._base_manager.select_for_update().filter(pk=instance.pk).values_list("pk"))
            version = row_version(model, instance.pk)
            wanted = if_match_versions(request.headers.get("If-Match", ""))
            if wanted is not None and version not in wanted:
                current = self.get_serializer(self.get_object()).data
                return Response(
                    {"detail": _("This record was changed by someone else since you read it."), "current": current},
                    status=status.HTTP_412_PRECONDITION_FAILED,
                    headers={"ETag": etag(version)} if version else None,
                )
            # Read again under the lock: what another request saved meanwhile is the base.
            instance = self.get_object()
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.perform_update(serializer)
        if getattr(instance, "_prefetched_objects_cache", None):
            instance._prefetched_objects_cache = {}
        return self._with_version(Response(serializer.data), serializer.instance)


class ScopedModelViewSet(ScopedViewSetMixin, VersionedUpdateMixin, viewsets.ModelViewSet):
    pass


class ScopedReadOnlyViewSet(ScopedViewSetMixin, VersionedRetrieveMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ServiceWritesSchema(AutoSchema):
    """The OpenAPI request body of a create or update is the view's input serializer."""

    def get_request_serializer(self) -> Any:
        view: Any = self.view
        if getattr(view, "action", None) in ("create", "update", "partial_update"):
            return view.input_serializer_class(context=build_serializer_context(view))
        return super().get_request_serializer()


class ServiceWritesMixin(_ServiceWritesBase):
    """Every write is input serializer → service → output serializer (HackSoft's
    ``UserCreateApi``): ``input_serializer_class`` parses (a ``ScopedInputSerializer``), the
    view's ``service_create`` / ``service_update`` / ``service_delete`` call the service with
    the acting user, and ``serializer_class`` shows the row as read back through the checkpoint.
    A service's ``ValidationError`` becomes a 400 with field errors (``exception_handler``)."""

    input_serializer_class: type[serializers.Serializer] | None = None
    schema: ViewInspector | None = ServiceWritesSchema()

    def get_input_serializer(self, *args: Any, **kwargs: Any) -> serializers.Serializer:
        kwargs.setdefault("context", self.get_serializer_context())
        assert self.input_serializer_class is not None
        return self.input_serializer_class(*args, **kwargs)

    def respond(self, obj: models.Model, status: int = 200) -> Response:
        obj = self.get_queryset().get(pk=obj.pk)
        # The view's output serializer, also from an action that parses its own input.
        output_class = type(self).serializer_class
        assert output_class is not None
        output = output_class(obj, context=self.get_serializer_context())
        return Response(output.data, status=status)

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        data = self.get_input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.respond(self.service_create(actor=request.user, data=data.validated_data), 201)

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        data = self.get_input_serializer(instance, data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        return self.respond(self.service_update(actor=request.user, instance=instance, data=data.validated_data))

    def perform_destroy(self, instance: models.Model) -> None:
        self.service_delete(actor=self.request.user, instance=instance)

    def service_create(self, *, actor: Any, data: dict) -> models.Model:
        raise NotImplementedError

    def service_update(self, *, actor: Any, instance: models.Model, data: dict) -> models.Model:
        raise NotImplementedError

    def service_delete(self, *, actor: Any, instance: models.Model) -> None:
        raise NotImplementedError


class ScopedInputSerializer(serializers.ModelSerializer):
    """The input side of a write (input serializer → service → output serializer): it parses
    the request and

    - reads decimals in plain notation only, with at most the model field's places
      (``PlainDecimalField``);
    - on update saves only the fields the request names (and the derived, non-editable ones the
      model computes), never a stale copy of the others;

    - narrows every related field's choices through the access checkpoint: ``Meta.write_scoped``
      names fields whose rows the user must be able to change (a principal may only name its
      own school), ``Meta.county_scoped`` fields whose rows must be in the user's county,
      every other related field lists what the user may read; a row outside that is refused
      with the same message whether it exists or not;
    - refuses input for fields the user may not set, instead of silently ignoring it.

    The rules (the model's ``clean()``, the service's checks) are the service's to run."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: PlainDecimalField,
    }

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:
            return fields
        meta = self.Meta
        for name, field in fields.items():
            target: Any = getattr(field, "child_relation", field)
            qs = getattr(target, "queryset", None)
            if qs is None or field.read_only:
                continue
            if name in getattr(meta, "write_scoped", ()):
                kind = "write"
            elif name in getattr(meta, "county_scoped", ()):
                kind = "county"
            else:
                kind = "read"
            target.queryset = access.narrow_related(qs, user, kind=kind)
            # Which rule refused it, the same for a row that does not exist and one the user
            # may not reach (never "exists but is not yours").
            message = access.out_of_reach_message(user, qs.model, kind)
            target.error_messages = {**target.error_messages, "does_not_exist": message}
        return fields

    def get_validators(self) -> list:
        # Uniqueness and constraints are checked by the model's full_clean() (the service's, or
        # validate() below), with the model's own messages; DRF's generated validators would
        # repeat them less clearly.
        return list(getattr(self.Meta, "validators", []))

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            writable = {n for n, f in self.fields.items() if not f.read_only}
            # A field of the row the client may not set here (the status, the approval, the id)
            # is refused, whether or not this serializer lists it.
            opts = cast("type[models.Model]", self.Meta.model)._meta
            known = set(self.fields) | {f.name for f in (*opts.concrete_fields, *opts.many_to_many)}
            refused = sorted(k for k in data if k in known and k not in writable)
            if refused:
                raise serializers.ValidationError({k: [_("This field cannot be set here.")] for k in refused})
        return super().to_internal_value(data)


class ScopedModelSerializer(ScopedInputSerializer):
    """A scoped serializer for rows with no rule beyond the model's, written by the
    ModelSerializer's own ``save()``: it also runs the model's validation (``full_clean``:
    clean(), constraints, uniqueness), so the API and the admin give the same message."""

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        model: type[models.Model] = self.Meta.model
        many = {f.name for f in model._meta.many_to_many}
        # Like a ModelForm: fields the client never edits are derived, not validated here.
        derived = {f.name for f in model._meta.concrete_fields if not f.editable}
        instance = self.instance or model()
        if self.instance is not None:
            # Validate a copy, so a refused update leaves the instance as it was.
            instance = model._default_manager.get(pk=self.instance.pk)
        names = {f.name for f in model._meta.concrete_fields}
        for key, value in attrs.items():
            if key in names:
                setattr(instance, key, value)
        self.prepare_instance(instance, attrs)
        try:
            instance.full_clean(exclude=list(many | derived | set(self.clean_exclude())))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(as_serializer_error(exc)) from exc
        return attrs

    def update(self, instance: models.Model, validated_data: dict) -> models.Model:
        info = model_meta.get_field_info(type(instance))
        many = []
        for attr, value in validated_data.items():
            if attr in info.relations and info.relations[attr].to_many:
                many.append((attr, value))
            else:
                setattr(instance, attr, value)
        fields = [
            f.name
            for f in instance._meta.concrete_fields
            if not f.primary_key and (f.name in validated_data or f.attname in validated_data or not f.editable)
        ]
        if fields:
            instance.save(update_fields=fields)
        for attr, value in many:
            getattr(instance, attr).set(value)
        return instance

    def prepare_instance(self, instance: models.Model, attrs: dict) -> None:
        """Set fields the client does not send (e.g. ``logged_by``) before validation."""

    def clean_exclude(self) -> tuple[str, ...]:
        return ()

"""The admin's side of the access checkpoint: every ModelAdmin of the portal derives from
``ScopedAdmin`` (or uses ``ScopedInlineMixin``), so the admin shows and changes exactly the
rows the API would."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import Http404

from audit.history import HistoryMixin  # the object's history from the audit trail

from . import access


def _restrict(db_field: Any, qs: Any, user: Any, write_scoped: tuple[str, ...], county_scoped: tuple[str, ...]):
    if not hasattr(qs.model, "scope"):
        return qs
    if user.is_superuser:
        return qs
    if db_field.name in write_scoped:
        if qs.model._meta.label == "alliance.School":
            return qs.filter(pk__in=access.writable_schools(user).values("pk"))
        return qs.changeable_by(user)
    if db_field.name in county_scoped:
        return qs.filter(**{qs.model.scope.county: user.county_id})
    return qs.visible_to(user)


class ScopedFieldsMixin:
    """Narrows foreign-key and many-to-many choices like the API's serializers do."""

    write_scoped: tuple[str, ...] = ()
    county_scoped: tuple[str, ...] = ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = _restrict(db_field, field.queryset, request.user, self.write_scoped, self.county_scoped)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = _restrict(db_field, field.queryset, request.user, self.write_scoped, self.county_scoped)
        return field


class ScopedAdmin(HistoryMixin, ScopedFieldsMixin, admin.ModelAdmin):
    # Fields only the bureau may set (status, approval): read-only for everyone else.
    bureau_fields: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and access.can_write_model(request.user, self.model)

    def has_change_permission(self, request, obj=None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or access.can_change(request.user, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or access.can_change(request.user, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser or access.role_of(request.user) == access.Role.BUREAU:
            return fields
        return fields + tuple(f for f in self.bureau_fields if f not in fields)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Another school's row is "not found", never "exists but is not yours".
        raise Http404


class ScopedInlineMixin(ScopedFieldsMixin):
    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def _parent_changeable(self, request, obj) -> bool:
        return obj is None or access.can_change(request.user, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return super().has_add_permission(request, obj) and self._parent_changeable(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._parent_changeable(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._parent_changeable(request, obj)


class ScopedTabularInline(ScopedInlineMixin, admin.TabularInline):
    extra = 0


class ScopedStackedInline(ScopedInlineMixin, admin.StackedInline):
    extra = 0

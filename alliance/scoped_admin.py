"""The admin's side of the access checkpoint: every ModelAdmin of the portal derives from
``ScopedAdmin`` (or uses ``ScopedInlineMixin``), so the admin shows and changes exactly the
rows the API would."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import csrf_protect_m
from django.contrib.admin.utils import unquote
from django.db import router, transaction
from django.http import Http404, HttpResponseRedirect
from django.utils.translation import gettext as _

from . import access
from .versions import row_version

# The hidden field of the change form that carries the version the row was read at.
VERSION_FIELD = "_row_version"


def _restrict(db_field: Any, qs: Any, user: Any, write_scoped: tuple[str, ...], county_scoped: tuple[str, ...]):
    kind = "write" if db_field.name in write_scoped else "county" if db_field.name in county_scoped else "read"
    return access.narrow_related(qs, user, kind=kind)


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


class VersionedChangeFormMixin:
    """No lost update in the admin: the change form carries the version of the row it was read
    at (``VERSION_FIELD``); a save is checked against the stored version under a lock of the
    row, and one made over a newer version is refused with a message and the fresh values
    (the form again, as stored now) instead of overwriting what another user saved."""

    change_form_template = "admin/scoped_change_form.html"

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        if request.method != "POST":
            obj = self.get_object(request, unquote(object_id))
            version = row_version(self.model, obj.pk) if obj is not None else None
            extra_context = {**(extra_context or {}), "row_version": version}
            return super().changeform_view(request, object_id, form_url, extra_context)
        read_at = request.POST.get(VERSION_FIELD)
        with transaction.atomic(using=router.db_for_write(self.model)):
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and read_at is not None:
                list(self.model._base_manager.select_for_update().filter(pk=obj.pk).values_list("pk"))
                if row_version(self.model, obj.pk) != read_at:
                    self.message_user(
                        request,
                        _(
                            "Someone else saved this record after you opened it; your changes were not saved. "
                            "The form now shows the stored values."
                        ),
                        messages.WARNING,
                    )
                    return HttpResponseRedirect(request.get_full_path())
            extra_context = {**(extra_context or {}), "row_version": read_at}
            return super().changeform_view(request, object_id, form_url, extra_context)


class ScopedAdmin(VersionedChangeFormMixin, ScopedFieldsMixin, admin.ModelAdmin):
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

    def has_bureau_permission(self, request) -> bool:
        """For admin actions only the bureau may run: ``@admin.action(permissions=["bureau"])``
        hides them from every other role."""
        return access.is_bureau(request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if access.is_bureau(request.user):
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

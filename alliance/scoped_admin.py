"""The admin's side of the access checkpoint: every ModelAdmin of the portal derives from
``ScopedAdmin`` (or uses ``ScopedInlineMixin``), so the admin shows and changes exactly the
rows the API would."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.options import csrf_protect_m
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.http import Http404, HttpResponseRedirect
from django.utils.translation import gettext as _

from . import access
from .versions import row_version

# The hidden field of the change form that carries the version the row was read at.
VERSION_FIELD = "_row_version"

if TYPE_CHECKING:
    from django.template.response import _TemplateForResponseT

    from .models import User


def _restrict(
    field: Any,
    db_field: Any,
    user: User,
    write_scoped: tuple[str, ...],
    county_scoped: tuple[str, ...],
    partner_scoped: tuple[str, ...] = (),
):
    kind = (
        "write"
        if db_field.name in write_scoped
        else "partners"
        if db_field.name in partner_scoped
        else "county"
        if db_field.name in county_scoped
        else "read"
    )
    field.queryset = access.narrow_related(field.queryset, user, kind=kind)
    if kind == "read" and hasattr(field.queryset.model, "scope"):
        # The API's message (``ScopedInputSerializer``): which rule refused it, the same whether
        # the row exists or not.
        message = _("Name a %(model)s you may see; this one is not among them.") % {
            "model": field.queryset.model._meta.verbose_name
        }
        field.error_messages = {**field.error_messages, "invalid_choice": message, "invalid_pk_value": message}


def add_service_error(form: Any, exc: ValidationError) -> None:
    """Show a service's ValidationError beside the fields it names (others at the form's top),
    as a page shows it (``form.add_error``)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.error_list)


def _checked_form(form_class: type, check: Any) -> type:
    """The form class with ``check(form)`` run after its own validation (the service's
    checks, which write nothing): a refusal lands beside the field instead of a 500 at save."""

    def _post_clean(self) -> None:
        super(checked, self)._post_clean()
        if self._errors:
            return
        try:
            check(self)
        except ValidationError as exc:
            add_service_error(self, exc)

    checked: type[Any] = type(form_class.__name__, (form_class,), {"_post_clean": _post_clean})
    return checked


class ScopedFieldsMixin:
    """Narrows foreign-key and many-to-many choices like the API's serializers do."""

    write_scoped: tuple[str, ...] = ()
    county_scoped: tuple[str, ...] = ()
    # Schools of the user's county and the programme partners of its schools (an exchange's
    # hosts, a programme meeting's schools: ``access.narrow_related(kind="partners")``).
    partner_scoped: tuple[str, ...] = ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            _restrict(field, db_field, request.user, self.write_scoped, self.county_scoped, self.partner_scoped)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            _restrict(field, db_field, request.user, self.write_scoped, self.county_scoped, self.partner_scoped)
        return field


class VersionedChangeFormMixin:
    """No lost update in the admin: the change form carries the version of the row it was read
    at (``VERSION_FIELD``); a save is checked against the stored version under a lock of the
    row, and one made over a newer version is refused with a message and the fresh values
    (the form again, as stored now) instead of overwriting what another user saved."""

    change_form_template: ClassVar[_TemplateForResponseT | None] = "admin/scoped_change_form.html"

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
    """The portal's base admin. Its history view comes from the audit trail: the audit app,
    which sits above this one, installs it on this class when it is ready
    (``audit.history.install``), so imports keep going one way."""

    # Fields only the bureau may set (status, approval): read-only for everyone else.
    bureau_fields: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return _checked_form(form, lambda f: self.service_check(request, f))

    def service_check(self, request, form) -> None:
        """The service's checks of the row in ``form`` (``form.instance`` holds the cleaned
        values), raising its ValidationError; the write itself is ``save_model``'s."""

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

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = _checked_form(formset.form, lambda f: self.service_check(request, f))
        return formset

    def service_check(self, request, form) -> None:
        """The service's checks of one inline row (``form.instance``); the parent admin's
        ``save_formset`` calls the service."""

    def _parent_changeable(self, request, obj) -> bool:
        return obj is None or access.can_change(request.user, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return super().has_add_permission(request, obj) and self._parent_changeable(request, obj)  # type: ignore[misc]

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._parent_changeable(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._parent_changeable(request, obj)  # type: ignore[misc]


class ScopedTabularInline(ScopedInlineMixin, admin.TabularInline):
    extra = 0


class ScopedStackedInline(ScopedInlineMixin, admin.StackedInline):
    extra = 0


def adopt(obj: Any, saved: Any) -> None:
    """Give the admin's ``obj`` the state of the row a service saved (the admin goes on with
    ``obj``: the redirect, the log entry, the inlines' parent)."""
    for field in type(saved)._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def form_values(form: Any, *, changed_only: bool) -> dict[str, Any]:
    """The model fields a form edits, as keyword arguments for a service."""
    names = form.changed_data if changed_only else list(form.cleaned_data)
    model_fields = {f.name for f in form._meta.model._meta.get_fields()}
    return {n: form.cleaned_data[n] for n in names if n in model_fields and n in form.cleaned_data and n != "id"}


def save_formset_via(formset: Any, *, create: Any, update: Any, delete: Any) -> None:
    """Save an inline formset through services: ``create(values)``, ``update(instance,
    values)``, ``delete(instance)``, and tell the admin's change message what was done."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    fk_name = formset.fk.name
    for form in formset.initial_forms:
        if form in formset.deleted_forms and form.instance.pk is not None:
            delete(form.instance)
            formset.deleted_objects.append(form.instance)
    for form in formset.forms:
        if form in formset.deleted_forms or not form.has_changed():
            continue
        if form.instance.pk is None:
            values = form_values(form, changed_only=False)
            values.pop(fk_name, None)
            formset.new_objects.append(create(values))
        else:
            values = form_values(form, changed_only=True)
            values.pop(fk_name, None)
            formset.changed_objects.append((update(form.instance, values), form.changed_data))

"""An object's history in the admin, from the audit trail: who, when, and each field before
→ after. ``HistoryMixin`` replaces ModelAdmin's ``history_view`` (Django's LogEntry list,
which knows nothing of bulk actions, the API or raw SQL); the portal's base admin
(``alliance.scoped_admin.ScopedAdmin``) includes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .models import AuditRecord

if TYPE_CHECKING:
    from django.template.response import _TemplateForResponseT


def records_of(obj: Any):
    """The object's own records and those of its many-to-many links (a user's roles)."""
    opts = obj._meta
    condition = Q(model=opts.label_lower, object_id=str(obj.pk))
    for m2m in opts.many_to_many:
        through = m2m.remote_field.through
        if through._meta.auto_created:
            column = m2m.m2m_column_name()
            condition |= Q(model=through._meta.label_lower) & (
                Q(**{f"before__{column}": obj.pk}) | Q(**{f"after__{column}": obj.pk})
            )
    return AuditRecord.objects.filter(condition).order_by("-at", "-id")


def field_labels(model: Any) -> dict[str, str]:
    labels = {}
    for f in model._meta.concrete_fields:
        labels[f.column] = capfirst(str(f.verbose_name))
    return labels


class HistoryMixin:
    # As ModelAdmin declares it (the stubs' ClassVar), so the two bases agree.
    object_history_template: ClassVar[_TemplateForResponseT | None] = "admin/audit/object_history.html"

    def history_view(self, request, object_id, extra_context=None):
        model = self.model
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404  # another school's row is "not found", as everywhere (ADR 0001)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        labels = field_labels(model)
        entries = []
        for record in records_of(obj)[:500]:
            entries.append(
                {
                    "record": record,
                    "changes": [(labels.get(k, k), b, a) for k, b, a in record.changes()],
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change history: %s") % obj,
            "subtitle": None,
            "entries": entries,
            "module_name": str(capfirst(model._meta.verbose_name_plural)),
            "object": obj,
            "opts": model._meta,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)


def install() -> None:
    """Gives the portal's base admin (``alliance.scoped_admin.ScopedAdmin``) this history view.
    Called by the audit app when it is ready: the admin base class lives in a lower app, which
    may not import this one."""
    from alliance.scoped_admin import ScopedAdmin

    for name in ("history_view", "object_history_template"):
        setattr(ScopedAdmin, name, HistoryMixin.__dict__[name])

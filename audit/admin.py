"""The trail in the admin: read-only, for superusers and for the bureau staff and auditors of
a county (their county's records); filtered by user, school, model, action and date."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from alliance import access
from alliance.models import School

from .models import AuditRecord


def _reads_trail(user) -> bool:
    return access.is_county_reader(user)


class UserFilter(admin.SimpleListFilter):
    title = _("user")
    parameter_name = "user"

    def lookups(self, request, model_admin):
        rows = (
            model_admin.get_queryset(request)
            .exclude(user_id=None)
            .values_list("user_id", "username")
            .distinct()
            .order_by("username")[:200]
        )
        return [(str(pk), name) for pk, name in rows]

    def queryset(self, request, queryset):
        return queryset.filter(user_id=self.value()) if self.value() else queryset


class SchoolFilter(admin.SimpleListFilter):
    title = _("school")
    parameter_name = "school"

    def lookups(self, request, model_admin):
        return [(str(s.pk), str(s)) for s in access.readable_schools(request.user).order_by("name")[:500]]

    def queryset(self, request, queryset):
        return queryset.filter(school_id=self.value()) if self.value() else queryset


class ModelFilter(admin.SimpleListFilter):
    title = _("model")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        labels = model_admin.get_queryset(request).order_by("model").values_list("model", flat=True).distinct()
        return [(label, label) for label in labels if label]

    def queryset(self, request, queryset):
        return queryset.filter(model=self.value()) if self.value() else queryset


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ("id", "at", "action", "model", "object_id", "username", "role", "school_name", "client_addr")
    list_filter = ("action", ModelFilter, UserFilter, SchoolFilter, ("at", admin.DateFieldListFilter))
    search_fields = ("username", "object_id", "source")
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "at",
        "action",
        "model",
        "object_id",
        "username",
        "user_id",
        "role",
        "county_id",
        "school_id",
        "client_addr",
        "source",
        "db_user",
        "txid",
        "changes_table",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        school = School.objects.filter(pk=OuterRef("school_id")).values("name")[:1]
        return super().get_queryset(request).visible_to(request.user).annotate(school_name=Subquery(school))

    def has_module_permission(self, request) -> bool:
        return _reads_trail(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return _reads_trail(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("school"))
    def school_name(self, obj):
        return obj.school_name or obj.school_id or "—"

    @admin.display(description=_("before → after"))
    def changes_table(self, obj):
        rows = obj.changes()
        if not rows:
            return "—"

        def show(value):
            return "—" if value is None else json.dumps(value, ensure_ascii=False)

        body = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", ((k, show(b), show(a)) for k, b, a in rows)
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("field"),
            _("before"),
            _("after"),
            body,
        )

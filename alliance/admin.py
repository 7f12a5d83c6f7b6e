import datetime as dt

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import access, services
from .models import Alliance, County, Membership, Pairing, PairingTask, Programme, School, SchoolYear, Term, User
from .scoped_admin import ScopedAdmin, ScopedTabularInline, adopt, form_values, save_formset_via

admin.site.site_header = _("County school-alliance portal")
admin.site.site_title = _("School-alliance portal")
admin.site.index_title = _("Administration")


@admin.register(County)
class CountyAdmin(ScopedAdmin):
    """Counties are set up once by a superuser; bureau staff read their own."""

    list_display = ["code", "name", "province"]
    search_fields = ["code", "name"]

    def has_add_permission(self, request) -> bool:
        return access.is_superuser(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return access.is_superuser(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return access.is_superuser(request.user)


@admin.register(School)
class SchoolAdmin(ScopedAdmin):
    list_display = ["code", "name", "stage", "location", "strength", "students", "teachers", "classes", "active"]
    list_filter = ["stage", "location", "strength", "active"]
    search_fields = ["code", "name"]
    list_select_related = ["county"]
    county_scoped = ("county",)


class TermInline(ScopedTabularInline):
    model = Term


@admin.register(SchoolYear)
class SchoolYearAdmin(ScopedAdmin):
    list_display = ["__str__", "county", "start_date", "end_date"]
    list_select_related = ["county"]
    inlines = [TermInline]


class MembershipFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        services.alliance_members_check(roles=[f.cleaned_data.get("role") or "" for f in kept])


class MembershipInline(ScopedTabularInline):
    model = Membership
    formset = MembershipFormSet
    autocomplete_fields = ["school"]
    county_scoped = ("school",)


class PairingInline(ScopedTabularInline):
    model = Pairing
    fields = ["helper_school", "helped_school", "agreement_date", "start_date", "end_date"]
    autocomplete_fields = ["helper_school", "helped_school"]
    show_change_link = True


@admin.register(Alliance)
class AllianceAdmin(ScopedAdmin):
    list_display = ["name", "kind", "school_year", "lead_school", "member_count"]
    list_filter = ["kind", "school_year__start_year"]
    search_fields = ["name", "memberships__school__name"]
    list_select_related = ["school_year"]
    inlines = [MembershipInline, PairingInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__school")

    @admin.display(description=_("lead school"))
    def lead_school(self, obj: Alliance) -> str:
        lead = obj.lead_membership
        return str(lead.school) if lead else "—"

    @admin.display(description=_("members"))
    def member_count(self, obj: Alliance) -> int:
        return len(obj.memberships.all())


class PairingTaskInline(ScopedTabularInline):
    model = PairingTask
    fields = ["title", "milestone", "due_date", "responsible_person", "status", "completed_on", "progress_notes"]


class ProgrammePairingInline(ScopedTabularInline):
    """The programme's pairings: the helper school of its helper county, the helped school of its
    helped county (``services.programme_pairing_check`` in the pairing's clean)."""

    model = Pairing
    fk_name = "programme"
    fields = ["helper_school", "helped_school", "agreement_date", "start_date", "end_date"]
    show_change_link = True

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            # The two sides' schools, not narrowed to the user's county (the other side is the
            # other bureau's); the programme's rule is the pairing's clean.
            form = formset.form
            form.base_fields["helper_school"].queryset = School.objects.filter(county_id=obj.helper_county_id)
            form.base_fields["helped_school"].queryset = School.objects.filter(county_id=obj.helped_county_id)
        return formset

    def has_add_permission(self, request, obj=None) -> bool:
        return obj is not None and super().has_add_permission(request, obj)


@admin.register(Programme)
class ProgrammeAdmin(ScopedAdmin):
    """Cross-county programmes: both counties' bureaus manage them and see the terms in which no
    programme term meeting was held."""

    list_display = ["name", "helper_county", "helped_county", "start_date", "end_date"]
    search_fields = ["name"]
    list_select_related = ["helper_county", "helped_county"]
    readonly_fields = ["terms_missing_meeting"]
    inlines = [ProgrammePairingInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in ("helper_county", "helped_county"):
            field.queryset = County.objects.all()  # the other side is another bureau's county
        return field

    def service_check(self, request, form):
        obj = form.instance
        if not access.is_bureau_of_any(request.user, (obj.helper_county_id, obj.helped_county_id)):
            raise ValidationError(_("The bureau staff of one of the programme's two counties record it."))

    def save_model(self, request, obj, form, change):
        values = form_values(form, changed_only=change)
        if change:
            saved = services.programme_update(actor=request.user, programme=obj, **values)
        else:
            saved = services.programme_create(actor=request.user, **values)
        adopt(obj, saved)

    def delete_model(self, request, obj):
        services.programme_delete(actor=request.user, programme=obj)

    @admin.display(description=_("terms without a term meeting"))
    def terms_missing_meeting(self, obj: Programme) -> str:
        if not obj.pk:
            return "—"
        today: dt.date = timezone.localdate()
        missing = services.programme_terms_missing_meeting(programme=obj, today=today)
        return ", ".join(str(term) for term in missing) or "—"


@admin.register(Pairing)
class PairingAdmin(ScopedAdmin):
    list_display = ["__str__", "alliance", "agreement_date", "start_date", "end_date"]
    list_filter = ["alliance__kind", "alliance__school_year__start_year"]
    search_fields = ["helper_school__name", "helped_school__name", "alliance__name"]
    list_select_related = ["alliance", "helper_school", "helped_school"]
    autocomplete_fields = ["helper_school", "helped_school", "alliance"]
    inlines = [PairingTaskInline]

    def save_formset(self, request, form, formset, change):
        pairing = form.instance
        save_formset_via(
            formset,
            create=lambda values: services.pairing_task_create(actor=request.user, pairing=pairing, **values),
            update=lambda task, values: services.pairing_task_update(actor=request.user, task=task, **values),
            delete=lambda task: services.pairing_task_delete(actor=request.user, task=task),
        )


@admin.register(PairingTask)
class PairingTaskAdmin(ScopedAdmin):
    list_display = ["title", "pairing", "due_date", "responsible_person", "status", "completed_on"]
    list_filter = ["status"]
    search_fields = ["title", "responsible_person"]
    list_select_related = ["pairing__helper_school", "pairing__helped_school"]
    raw_id_fields = ["pairing"]
    write_scoped = ("pairing",)
    # The task list is the bureau's: a school sees its pairing, and the service refuses a change
    # to anything but the task's progress beside the field.
    bureau_fields = ("pairing",)

    def service_check(self, request, form):
        if form.instance.pk:
            stored = PairingTask.objects.select_related("pairing__alliance__school_year").get(pk=form.instance.pk)
            services.pairing_task_check(actor=request.user, task=stored, fields=form_values(form, changed_only=True))

    def save_model(self, request, obj, form, change):
        if change:
            saved = services.pairing_task_update(actor=request.user, task=obj, **form_values(form, changed_only=True))
        else:
            saved = services.pairing_task_create(actor=request.user, **form_values(form, changed_only=False))
        adopt(obj, saved)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or access.can_delete_pairing_task(request.user, obj)
        )

    def delete_model(self, request, obj):
        services.pairing_task_delete(actor=request.user, task=obj)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Bureau staff manage the accounts of their own county; only a superuser grants superuser."""

    list_display = ["username", "first_name", "county", "school", "is_active", "role_name"]
    list_filter = ["is_active", "groups", "county"]
    list_select_related = ["county", "school"]
    autocomplete_fields = ["school", "assessed_schools"]
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Portal"), {"fields": ("county", "school", "assessed_schools")}))  # type: ignore[misc]

    def get_queryset(self, request):
        return access.visible_users(super().get_queryset(request).prefetch_related("groups"), request.user)

    def get_readonly_fields(self, request, obj=None):
        if access.is_superuser(request.user):
            return super().get_readonly_fields(request, obj)
        return ("is_superuser", "user_permissions", "last_login", "date_joined")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in ("county", "school"):
            field.queryset = access.narrow_related(field.queryset, request.user, kind="county")
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "assessed_schools":
            field.queryset = access.narrow_related(field.queryset, request.user, kind="county")
        elif db_field.name == "groups":
            # Bureau staff give the roles they manage; only a superuser makes bureau staff.
            field.queryset = access.assignable_groups(field.queryset, request.user)
        return field

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "assessed_schools" not in form.base_fields:
            return form

        class Form(form):
            def clean(self):
                cleaned = super().clean()
                county = cleaned.get("county", getattr(self.instance, "county", None))
                schools = cleaned.get("assessed_schools") or []
                if any(county is None or s.county_id != county.pk for s in schools):
                    self.add_error("assessed_schools", _("Every assessed school must be of the user's county."))
                return cleaned

        return Form

    def save_model(self, request, obj, form, change):
        # An account bureau staff create belongs to their county (they could not see it otherwise).
        if not change and obj.county_id is None and not access.is_superuser(request.user):
            obj.county_id = request.user.county_id
        super().save_model(request, obj, form, change)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    @admin.display(description=_("role"))
    def role_name(self, obj: User) -> str:
        names = {g.name for g in obj.groups.all()}
        return ", ".join(str(r.label) for r in access.Role if r.value in names)

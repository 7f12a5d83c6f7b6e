from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from alliance import access
from alliance.scoped_admin import ScopedAdmin, ScopedTabularInline, adopt, form_values, save_formset_via

from . import services
from .models import (
    Activity,
    ActivityAttachment,
    Exchange,
    ExchangeHost,
    MentorMeeting,
    MentorPair,
    Rectification,
    SupervisionVisit,
    Teacher,
)


class ReadableSchoolFilter(admin.RelatedFieldListFilter):
    """A school filter that lists only the schools the user may read, not every school."""

    def field_choices(self, field, request, model_admin):
        schools = access.readable_schools(request.user)
        return field.get_choices(include_blank=False, limit_choices_to={"pk__in": schools.values("pk")})


class ReadableTeacherFilter(admin.RelatedFieldListFilter):
    def field_choices(self, field, request, model_admin):
        teachers = Teacher.objects.visible_to(request.user)
        return field.get_choices(include_blank=False, limit_choices_to={"pk__in": teachers.values("pk")})


@admin.register(Teacher)
class TeacherAdmin(ScopedAdmin):
    list_display = ["name", "school", "subject", "title", "years_of_service", "is_key_teacher", "active"]
    list_filter = ["subject", "title", "is_key_teacher", "active", ("school", ReadableSchoolFilter)]
    search_fields = ["name", "school__name"]
    list_select_related = ["school"]
    write_scoped = ("school",)

    def save_model(self, request, obj, form, change):
        if change:
            saved = services.teacher_update(actor=request.user, teacher=obj, **form_values(form, changed_only=True))
        else:
            saved = services.teacher_create(actor=request.user, **form_values(form, changed_only=False))
        adopt(obj, saved)

    def delete_model(self, request, obj):
        services.teacher_delete(actor=request.user, teacher=obj)


class ExchangeHostFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        schools = [
            f.cleaned_data["school"]
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("school")
        ]
        exchange = self.instance
        try:
            services.exchange_hosts_check(
                kind=exchange.kind,
                origin_school=exchange.origin_school if exchange.origin_school_id else None,
                host_schools=schools,
            )
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        # The admin saves the exchange and its hosts together through the service (save_model).
        exchange._admin_host_schools = schools


class ExchangeHostInline(ScopedTabularInline):
    model = ExchangeHost
    formset = ExchangeHostFormSet
    # A programme partner of the user's county may host (the service checks the pairing).
    partner_scoped = ("school",)
    extra = 1


class ExchangeAdminForm(forms.ModelForm):
    class Meta:
        model = Exchange
        fields = [*services.EDITABLE_FIELDS, "status", "cancel_reason"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        # The workflow's rules are the service's; shown beside the fields they concern.
        stored = Exchange.objects.get(pk=self.instance.pk)
        if self.has_changed():
            services.exchange_open_check(exchange=stored)
        new_status = cleaned.get("status", stored.status)
        if new_status != stored.status:
            try:
                services.exchange_transition_check(
                    exchange=stored, to=new_status, reason=cleaned.get("cancel_reason") or ""
                )
            except ValidationError as exc:
                for name, errors in exc.error_dict.items():
                    self.add_error({"reason": "cancel_reason"}.get(name, name), errors)
        return cleaned


@admin.register(Exchange)
class ExchangeAdmin(ScopedAdmin):
    form = ExchangeAdminForm
    list_display = [
        "teacher", "kind", "origin_school", "host_list", "start_date", "end_date", "status", "cross_alliance",
    ]  # fmt: skip
    list_filter = ["kind", "status", "cross_alliance", ("origin_school", ReadableSchoolFilter), "start_date"]
    search_fields = ["teacher__name", "origin_school__name", "hosts__school__name", "classes"]
    list_select_related = ["teacher", "origin_school"]
    autocomplete_fields = ["teacher"]
    date_hierarchy = "start_date"
    inlines = [ExchangeHostInline]
    readonly_fields = ["cross_alliance", "logged_by", "approved_by", "approved_at"]
    bureau_fields = ("status", "cancel_reason")
    write_scoped = ("teacher", "origin_school")
    actions = ["approve_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("host_schools")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            # A new exchange is always planned; the status moves by approval afterwards.
            fields += tuple(f for f in self.bureau_fields if f not in fields)
        return fields

    def service_check(self, request, form):
        terms = set(form.changed_data) - {"status", "cancel_reason"}
        if form.instance.pk and terms:
            services.exchange_terms_check(actor=request.user, exchange=Exchange.objects.get(pk=form.instance.pk))

    @admin.display(description=_("host schools"))
    def host_list(self, obj: Exchange) -> str:
        return "、".join(s.name for s in obj.host_schools.all())

    def save_model(self, request, obj, form, change):
        hosts = getattr(obj, "_admin_host_schools", None)
        fields = {name: getattr(obj, name) for name in services.EDITABLE_FIELDS}
        if not change:
            saved = services.exchange_create(actor=request.user, host_schools=hosts or [], **fields)
        else:
            previous = Exchange.objects.get(pk=obj.pk)
            # The terms (the form refused any change to a closed exchange: exchange_open_check).
            hosts_changed = hosts is not None and {h.pk for h in hosts} != set(
                previous.hosts.values_list("school_id", flat=True)
            )
            if set(form.changed_data) - {"status", "cancel_reason"} or hosts_changed:
                saved = services.exchange_update(actor=request.user, exchange=obj, host_schools=hosts, **fields)
            else:
                saved = previous
            if obj.status != previous.status:
                saved = services.exchange_set_status(
                    actor=request.user, exchange=saved, status=obj.status, reason=obj.cancel_reason
                )
        # The admin goes on with ``obj`` (redirects, log entry): give it the saved row's state.
        adopt(obj, saved)

    def has_delete_permission(self, request, obj=None):
        # Only a planned exchange may be deleted (the service's rule); an approved one is cancelled.
        return super().has_delete_permission(request, obj) and (obj is None or services.exchange_deletable(obj))

    def delete_model(self, request, obj):
        services.exchange_delete(actor=request.user, exchange=obj)

    def save_related(self, request, form, formsets, change):
        # Hosts were saved with the exchange by the service; only the form's own m2m remain.
        form.save_m2m()
        for formset in formsets:
            # What the admin's change message reads from a saved formset.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description=_("Approve selected exchanges"), permissions=["bureau"])
    def approve_selected(self, request, queryset):
        approved, selected = 0, 0
        for exchange in queryset.select_related("teacher"):
            selected += 1
            try:
                services.exchange_approve(actor=request.user, exchange=exchange)
            except (ValidationError, PermissionDenied) as exc:
                reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{exchange}: {reason}", messages.ERROR)
            else:
                approved += 1
        level = messages.SUCCESS if approved == selected else messages.WARNING
        self.message_user(
            request,
            ngettext(
                "Approved %(done)d of %(count)d selected exchange.",
                "Approved %(done)d of %(count)d selected exchanges.",
                selected,
            )
            % {"done": approved, "count": selected},
            level,
        )


class MentorMeetingInline(ScopedTabularInline):
    model = MentorMeeting
    fields = ["date", "kind", "notes"]


class MentorPairAdminForm(forms.ModelForm):
    class Meta:
        model = MentorPair
        fields = ["mentor", "mentee", "start_date", "end_date", "goals"]


@admin.register(MentorPair)
class MentorPairAdmin(ScopedAdmin):
    form = MentorPairAdminForm
    list_display = ["mentor", "mentor_school", "mentee", "mentee_school", "start_date", "end_date"]
    list_filter = [("mentor", ReadableTeacherFilter), "start_date"]
    search_fields = ["mentor__name", "mentee__name", "goals"]
    list_select_related = ["mentor__school", "mentee__school"]
    # Only teachers the user may read may be named: another one is "not a valid choice", the
    # same as one that does not exist.
    autocomplete_fields = ["mentor", "mentee"]
    inlines = [MentorMeetingInline]

    def service_check(self, request, form):
        pair = form.instance
        naming = [n for n in ("mentor", "mentee") if n in form.changed_data]
        services.mentor_pair_check(
            actor=request.user,
            mentor=form.cleaned_data.get("mentor"),
            mentee=form.cleaned_data.get("mentee"),
            naming=naming if pair.pk else ("mentor", "mentee"),
        )

    def save_model(self, request, obj, form, change):
        if change:
            saved = services.mentor_pair_update(actor=request.user, pair=obj, **form_values(form, changed_only=True))
        else:
            saved = services.mentor_pair_create(actor=request.user, **form_values(form, changed_only=False))
        adopt(obj, saved)

    def delete_model(self, request, obj):
        services.mentor_pair_delete(actor=request.user, pair=obj)

    def save_formset(self, request, form, formset, change):
        pair = form.instance
        save_formset_via(
            formset,
            create=lambda values: services.mentor_meeting_create(actor=request.user, pair=pair, **values),
            update=lambda meeting, values: services.mentor_meeting_update(
                actor=request.user, meeting=meeting, **values
            ),
            delete=lambda meeting: services.mentor_meeting_delete(actor=request.user, meeting=meeting),
        )

    @admin.display(description=_("mentor's school"))
    def mentor_school(self, obj: MentorPair) -> str:
        return str(obj.mentor.school)

    @admin.display(description=_("mentee's school"))
    def mentee_school(self, obj: MentorPair) -> str:
        return str(obj.mentee.school)


class ActivityAttachmentInline(ScopedTabularInline):
    model = ActivityAttachment
    fields = ["file", "caption"]


@admin.register(Activity)
class ActivityAdmin(ScopedAdmin):
    list_display = ["date", "title", "kind", "host_school", "person_times", "school_count"]
    list_filter = ["kind", ("host_school", ReadableSchoolFilter), "date"]
    search_fields = ["title", "description", "participants", "host_school__name"]
    list_select_related = ["host_school"]
    date_hierarchy = "date"
    filter_horizontal = ["schools"]
    write_scoped = ("host_school",)
    # A programme meeting may involve the partner county's programme schools (the service checks).
    partner_scoped = ("schools",)
    inlines = [ActivityAttachmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("schools")

    def service_check(self, request, form):
        services.activity_schools_check(
            host_school=form.cleaned_data.get("host_school", form.instance.host_school if form.instance.pk else None),
            schools=form.cleaned_data.get("schools", ()),
            programme=form.cleaned_data.get("programme", form.instance.programme if form.instance.pk else None),
        )

    def save_model(self, request, obj, form, change):
        values = form_values(form, changed_only=change)
        schools = values.pop("schools", None)
        if change:
            saved = services.activity_update(actor=request.user, activity=obj, schools=schools, **values)
        else:
            saved = services.activity_create(actor=request.user, schools=schools or (), **values)
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # The schools involved were saved with the activity by the service.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        activity = form.instance
        save_formset_via(
            formset,
            create=lambda values: services.attachment_create(actor=request.user, activity=activity, **values),
            update=lambda attachment, values: services.attachment_update(
                actor=request.user, attachment=attachment, **values
            ),
            delete=lambda attachment: services.attachment_delete(actor=request.user, attachment=attachment),
        )

    def delete_model(self, request, obj):
        services.activity_delete(actor=request.user, activity=obj)

    @admin.display(description=_("schools involved"))
    def school_count(self, obj: Activity) -> int:
        return len(obj.schools.all())


class RectificationInline(ScopedTabularInline):
    model = Rectification
    fields = ("item", "due_date", "status", "answer", "answered_by", "closed_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SupervisionVisit)
class SupervisionVisitAdmin(ScopedAdmin):
    list_display = ["date", "school", "supervisor", "rectification_count"]
    list_filter = [("school", ReadableSchoolFilter), "date"]
    search_fields = ["findings", "school__name"]
    list_select_related = ["school", "supervisor"]
    date_hierarchy = "date"
    fields = ["school", "supervisor", "date", "forms", "findings"]
    county_scoped = ("school",)
    inlines = [RectificationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("rectifications")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        # Which school and whose visit it was stay as logged.
        return (*fields, "school", "supervisor") if obj is not None else fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "supervisor" and field is not None:
            field.required = False
            # the county's supervisors: users with schools assigned (the service checks the school's)
            field.queryset = field.queryset.filter(assessed_schools__county_id=request.user.county_id).distinct()
        return field

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a visit is a record, as in the API

    def service_check(self, request, form):
        if form.instance.pk is None and form.cleaned_data.get("school") is not None:
            services.supervision_visit_check(
                actor=request.user, school=form.cleaned_data["school"], supervisor=form.cleaned_data.get("supervisor")
            )

    def save_model(self, request, obj, form, change):
        if change:
            saved = services.supervision_visit_update(
                actor=request.user, visit=obj, **form_values(form, changed_only=True)
            )
        else:
            saved = services.supervision_visit_create(actor=request.user, **form_values(form, changed_only=False))
        adopt(obj, saved)

    @admin.display(description=_("rectification items"))
    def rectification_count(self, obj: SupervisionVisit) -> int:
        return len(obj.rectifications.all())


@admin.register(Rectification)
class RectificationAdmin(ScopedAdmin):
    """Items are set here; the answer and the closing are the API's actions (services)."""

    list_display = ["item_short", "visit", "due_date", "status"]
    list_filter = ["status", "due_date"]
    search_fields = ["item", "answer", "visit__school__name"]
    list_select_related = ["visit__school"]
    fields = ["visit", "item", "due_date", "status", "answer", "answered_at", "answered_by", "closed_at", "closed_by"]
    readonly_fields = ["status", "answer", "answered_at", "answered_by", "closed_at", "closed_by"]
    write_scoped = ("visit",)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def service_check(self, request, form):
        visit, due_date = form.cleaned_data.get("visit"), form.cleaned_data.get("due_date")
        if visit is not None and due_date is not None:
            services.rectification_check(visit=visit, due_date=due_date)

    def save_model(self, request, obj, form, change):
        values = form_values(form, changed_only=False)
        adopt(obj, services.rectification_create(actor=request.user, **values))

    @admin.display(description=_("rectification item"))
    def item_short(self, obj: Rectification) -> str:
        return str(obj)

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from alliance import access
from alliance.scoped_admin import ScopedAdmin, ScopedTabularInline

from . import services
from .models import Activity, ActivityAttachment, Exchange, ExchangeHost, MentorMeeting, MentorPair, Teacher


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
    county_scoped = ("school",)
    extra = 1


class ExchangeAdminForm(forms.ModelForm):
    class Meta:
        model = Exchange
        fields = [*services.EDITABLE_FIELDS, "status", "cancel_reason"]

    def clean(self):
        cleaned = super().clean()
        current = self.instance
        if current.pk is None:
            return cleaned
        if current.status in (Exchange.Status.COMPLETED, Exchange.Status.CANCELLED) and self.has_changed():
            raise ValidationError(_("A completed or cancelled exchange can no longer be changed."))
        new_status = cleaned.get("status", current.status)
        if new_status != current.status:
            if new_status not in services.TRANSITIONS[current.status]:
                self.add_error(
                    "status",
                    _("An exchange that is %(current)s cannot become %(target)s.")
                    % {"current": current.get_status_display(), "target": Exchange.Status(new_status).label},
                )
            elif new_status == Exchange.Status.CANCELLED and not (cleaned.get("cancel_reason") or "").strip():
                self.add_error("cancel_reason", _("Give a reason for cancelling."))
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
            if form.has_changed() and previous.status not in (Exchange.Status.COMPLETED, Exchange.Status.CANCELLED):
                saved = services.exchange_update(actor=request.user, exchange=obj, host_schools=hosts, **fields)
            else:
                saved = previous
            if obj.status != previous.status:
                saved = services.exchange_set_status(
                    actor=request.user, exchange=saved, status=obj.status, reason=obj.cancel_reason
                )
        # The admin goes on with ``obj`` (redirects, log entry): give it the saved row's state.
        for field in Exchange._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))

    def save_related(self, request, form, formsets, change):
        # Hosts were saved with the exchange by the service; only the form's own m2m remain.
        form.save_m2m()
        for formset in formsets:
            # What the admin's change message reads from a saved formset.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description=_("Approve selected exchanges"))
    def approve_selected(self, request, queryset):
        approved = 0
        for exchange in queryset.select_related("teacher"):
            try:
                services.exchange_approve(actor=request.user, exchange=exchange)
            except (ValidationError, PermissionDenied) as exc:
                reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{exchange}: {reason}", messages.ERROR)
            else:
                approved += 1
        if approved:
            self.message_user(
                request,
                ngettext("%(count)d exchange approved.", "%(count)d exchanges approved.", approved)
                % {"count": approved},
                messages.SUCCESS,
            )


class MentorMeetingInline(ScopedTabularInline):
    model = MentorMeeting
    fields = ["date", "kind", "notes"]


class MentorPairAdminForm(forms.ModelForm):
    request = None

    class Meta:
        model = MentorPair
        fields = ["mentor", "mentee", "start_date", "end_date", "goals"]

    def clean(self):
        cleaned = super().clean()
        user = self.request.user
        ids = [t.pk for t in (cleaned.get("mentor"), cleaned.get("mentee")) if t is not None]
        if ids and not Teacher.objects.filter(pk__in=ids).changeable_by(user).exists():
            self.add_error("mentee", _("The mentor or the mentee must be a teacher of your school."))
        return cleaned


@admin.register(MentorPair)
class MentorPairAdmin(ScopedAdmin):
    form = MentorPairAdminForm
    list_display = ["mentor", "mentor_school", "mentee", "mentee_school", "start_date", "end_date"]
    list_filter = [("mentor", ReadableTeacherFilter), "start_date"]
    search_fields = ["mentor__name", "mentee__name", "goals"]
    list_select_related = ["mentor__school", "mentee__school"]
    autocomplete_fields = ["mentor", "mentee"]
    county_scoped = ("mentor", "mentee")
    inlines = [MentorMeetingInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

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
    county_scoped = ("schools",)
    inlines = [ActivityAttachmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("schools")

    @admin.display(description=_("schools involved"))
    def school_count(self, obj: Activity) -> int:
        return len(obj.schools.all())

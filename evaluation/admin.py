"""The bureau's evaluation screens. Every action calls a service; messages are the services'."""

from __future__ import annotations

import io
import json
import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from alliance import access
from alliance.models import School
from alliance.scoped_admin import ScopedAdmin, ScopedTabularInline
from audit.services import record_event

from . import services
from .export import write_award_csv
from .models import (
    AllianceResult,
    Appeal,
    AwardPolicy,
    Correction,
    DeclineWarning,
    Dimension,
    EvaluationPeriod,
    EvaluationRun,
    Indicator,
    IndicatorValue,
    Publication,
    Rubric,
    SchoolResult,
)


def _run(modeladmin, request, fn, ok_message) -> None:
    try:
        fn()
    except (ValidationError, PermissionDenied, services.RunRefused) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        modeladmin.message_user(request, text, messages.ERROR)
    else:
        modeladmin.message_user(request, ok_message, messages.SUCCESS)


class KeptForTheRecord:
    """Rows that document the evaluation (values, periods, appeals, publications, runs): never
    deleted; a wrong value is re-entered, a decision is recorded, a publication is corrected."""

    def has_delete_permission(self, request, obj=None):
        return False


class LockedUnlessDraft:
    """A locked rubric (and its parts) is read-only here: revise it to make a new version."""

    def _rubric_of(self, obj):
        return obj if isinstance(obj, Rubric) else getattr(obj, "rubric", None)

    def has_change_permission(self, request, obj=None):
        rubric = self._rubric_of(obj) if obj is not None else None
        return super().has_change_permission(request, obj) and not (rubric and rubric.locked)

    def has_delete_permission(self, request, obj=None):
        rubric = self._rubric_of(obj) if obj is not None else None
        return super().has_delete_permission(request, obj) and not (rubric and rubric.locked)


class DimensionInline(LockedUnlessDraft, ScopedTabularInline):
    model = Dimension
    fields = ["order", "code", "name", "indicator_points"]
    readonly_fields = ["indicator_points"]
    show_change_link = True

    @admin.display(description=_("points"))
    def indicator_points(self, obj):
        return sum(i.max_points for i in obj.indicators.all()) if obj.pk else ""


@admin.register(Rubric)
class RubricAdmin(LockedUnlessDraft, ScopedAdmin):
    list_display = ["name", "school_year", "version", "locked", "beta", "bundling_basis", "content_hash_short"]
    list_filter = ["locked", "bundling_basis", "alliance_averaging"]
    list_select_related = ["school_year"]
    search_fields = ["name"]
    readonly_fields = ["version", "locked", "content_hash"]
    inlines = [DimensionInline]
    actions = ["revise"]
    county_scoped = ("county", "school_year")

    @admin.display(description=_("content hash"))
    def content_hash_short(self, obj):
        return obj.content_hash[:12]

    @admin.action(description=_("Make a new version of the selected rubrics"))
    def revise(self, request, queryset):
        for rubric in queryset:
            _run(
                self,
                request,
                lambda r=rubric: services.rubric_revise(actor=request.user, rubric=r),
                _("New version made."),
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services._rehash(form.instance)


class IndicatorInline(ScopedTabularInline):
    model = Indicator
    fields = ["order", "code", "name", "max_points", "method", "metric_key", "rule", "rule_params", "direction",
              "value_min", "value_max"]  # fmt: skip

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.rubric.locked)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(Dimension)
class DimensionAdmin(LockedUnlessDraft, ScopedAdmin):
    list_display = ["name", "rubric", "order"]
    list_select_related = ["rubric"]
    inlines = [IndicatorInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services._rehash(form.instance.rubric)


@admin.register(IndicatorValue)
class IndicatorValueAdmin(KeptForTheRecord, ScopedAdmin):
    list_display = ["school", "indicator", "period", "value", "entered_by", "entered_at"]
    list_filter = ["period", "indicator__method"]
    list_select_related = ["school", "indicator", "period__term", "period__school_year", "entered_by"]
    search_fields = ["school__name", "school__code", "indicator__name"]
    fields = ["period", "indicator", "school", "value", "comment", "evidence"]
    county_scoped = ("period", "indicator")

    def save_model(self, request, obj, form, change):
        row = services.indicator_value_set(
            actor=request.user,
            period=obj.period,
            indicator=obj.indicator,
            school=obj.school,
            value=obj.value,
            comment=obj.comment,
            evidence=obj.evidence or None,
        )
        obj.pk = row.pk

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        admin_self = self

        class ServiceCheckedForm(form):
            def clean(self):
                data = super().clean()
                try:
                    from django.db import transaction

                    with transaction.atomic():
                        admin_self.save_model(
                            request, self.instance.__class__(**{**data, "entered_by": request.user}), self, False
                        )
                        transaction.set_rollback(True)
                except ValidationError as exc:
                    raise ValidationError(exc.messages) from exc
                except PermissionDenied as exc:
                    raise ValidationError(str(exc)) from exc
                return data

        return ServiceCheckedForm


@admin.register(EvaluationPeriod)
class EvaluationPeriodAdmin(KeptForTheRecord, ScopedAdmin):
    list_display = ["__str__", "county", "kind", "status", "notice_ends_at", "proposed_by", "approved_by", "links"]
    list_filter = ["status", "kind", "school_year"]
    list_select_related = ["county", "school_year", "term", "proposed_by", "approved_by"]
    readonly_fields = ["start_date", "end_date", "status", "proposed_by", "proposed_at", "notice_ends_at",
                       "approved_by", "approved_at"]  # fmt: skip
    actions = ["propose", "approve", "evaluate_now", "export_awards"]
    county_scoped = ("county", "school_year", "term")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.period_create(
            actor=request.user, school_year=obj.school_year, term=obj.term, notice_days=obj.notice_days
        )
        obj.pk = created.pk

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class DatesFromYear(form):
            def _post_clean(self):
                inst = self.instance
                source = self.cleaned_data.get("term") or self.cleaned_data.get("school_year")
                if source is not None and not inst.pk:
                    inst.start_date, inst.end_date = source.start_date, source.end_date
                    inst.kind = (
                        EvaluationPeriod.Kind.TERM if self.cleaned_data.get("term") else EvaluationPeriod.Kind.YEAR
                    )
                super()._post_clean()

        return DatesFromYear

    @admin.display(description=_("what-if"))
    def links(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:evaluation_preview", args=[obj.pk]), _("preview"))

    @admin.action(description=_("Propose the results (start the public notice)"))
    def propose(self, request, queryset):
        for period in queryset:
            _run(
                self,
                request,
                lambda p=period: services.publication_propose(actor=request.user, period=p),
                _("Proposed."),
            )

    @admin.action(description=_("Approve and publish (a different bureau user, after the notice)"))
    def approve(self, request, queryset):
        for period in queryset:
            _run(
                self,
                request,
                lambda p=period: services.publication_approve(actor=request.user, period=p),
                _("Published."),
            )

    @admin.action(description=_("Recompute now (queue the nightly job)"))
    def evaluate_now(self, request, queryset):
        for period in queryset:
            _run(
                self,
                request,
                lambda p=period: services.evaluation_queue(
                    actor=request.user, county=p.county, start_year=p.school_year.start_year
                ),
                _("Queued."),
            )

    def has_award_sheet_permission(self, request) -> bool:
        # Every school's score and award: the bureau's and the auditors', never a school's.
        user = request.user
        return user.is_superuser or access.role_of(user) in access.COUNTY_READERS

    @admin.action(description=_("Download the award sheet (CSV)"), permissions=["award_sheet"])
    def export_awards(self, request, queryset):
        period = queryset.first()
        buffer = io.StringIO()
        try:
            write_award_csv(period, buffer)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return None
        record_event("export", request=request, model="evaluation.evaluationperiod", object_id=period.pk)
        response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="awards-{period.school_year.start_year}.csv"'
        return response

    def get_urls(self):
        return [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="evaluation_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk):
        period = self.get_object(request, str(pk))
        if period is None:
            from django.http import Http404

            raise Http404
        params = {}
        error = None
        for key in ("beta", "pass_threshold"):
            if request.GET.get(key):
                from decimal import Decimal, InvalidOperation

                try:
                    params[key] = Decimal(request.GET[key])
                except InvalidOperation:
                    error = _("Enter numbers.")
        if request.GET.get("kind"):
            params["kind"] = request.GET["kind"]
        if request.GET.get("coefficients"):
            try:
                params["coefficients"] = json.loads(request.GET["coefficients"])
            except ValueError:
                error = _('Coefficients are JSON, e.g. {"excellent": "1.2"}.')
        preview = None
        if error is None:
            try:
                preview = services.awards_preview(actor=request.user, period=period, **params)
            except (ValidationError, PermissionDenied) as exc:
                error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": _("What-if preview: %(period)s") % {"period": period},
            "period": period,
            "preview": preview,
            "error": error,
            "params": request.GET,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/evaluation/preview.html", context)


class ResultAdminMixin:
    readonly_fields = ["trace_display"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("trace"))
    def trace_display(self, obj):
        trace = getattr(obj, "explained_trace", obj.trace)  # a school result's, with the rubric's words
        return format_html("<pre>{}</pre>", json.dumps(trace, ensure_ascii=False, indent=2))


@admin.register(SchoolResult)
class SchoolResultAdmin(ResultAdminMixin, ScopedAdmin):
    list_display = ["school", "period", "own_total", "final_score", "grade", "award_preview", "award", "rubric_version"]
    list_filter = ["period", "grade"]
    list_select_related = ["school", "period__term", "period__school_year"]
    search_fields = ["school__name", "school__code"]
    fields = ["period", "school", "alliance", "own_total", "final_score", "grade", "award_preview", "award",
              "rubric_version", "rubric_hash", "trace_display"]  # fmt: skip


@admin.register(AllianceResult)
class AllianceResultAdmin(ResultAdminMixin, ScopedAdmin):
    list_display = ["alliance", "period", "score", "grade", "rubric_version"]
    list_filter = ["period", "grade"]
    list_select_related = ["alliance", "period__term", "period__school_year"]
    fields = ["period", "alliance", "score", "grade", "rubric_version", "rubric_hash", "trace_display"]


@admin.register(DeclineWarning)
class DeclineWarningAdmin(ResultAdminMixin, ScopedAdmin):
    list_display = ["school", "period", "falls", "scores"]
    list_filter = ["period"]
    list_select_related = ["school", "period__term", "period__school_year"]
    readonly_fields = []


@admin.register(EvaluationRun)
class EvaluationRunAdmin(KeptForTheRecord, ScopedAdmin):
    list_display = ["started_at", "finished_at", "status", "progress", "periods_count", "schools_count",
                    "warnings_count", "trigger"]  # fmt: skip
    list_filter = ["status"]
    readonly_fields = [f.name for f in EvaluationRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Appeal)
class AppealAdmin(KeptForTheRecord, ScopedAdmin):
    list_display = ["school", "indicator", "period", "status", "filed_at", "decided_by"]
    list_filter = ["status", "period"]
    list_select_related = ["school", "indicator", "period__term", "period__school_year", "decided_by"]
    readonly_fields = ["period", "school", "indicator", "reason", "evidence", "status", "filed_by", "filed_at",
                       "decided_by", "decided_at"]  # fmt: skip
    fields = [*readonly_fields, "corrected_value", "decision"]
    actions = ["accept", "reject"]

    def has_add_permission(self, request):
        return False  # principals file appeals through the API and their page

    def save_model(self, request, obj, form, change):
        # Only the proposed value and decision text are edited here; the actions decide.
        Appeal.objects.filter(pk=obj.pk, status=Appeal.Status.OPEN).update(
            corrected_value=obj.corrected_value, decision=obj.decision
        )

    @admin.action(description=_("Accept with the corrected value entered (recomputes the period)"))
    def accept(self, request, queryset):
        for appeal in queryset:
            _run(
                self,
                request,
                lambda a=appeal: services.appeal_accept(
                    actor=request.user, appeal=a, value=a.corrected_value, decision=a.decision
                ),
                _("Appeal accepted."),
            )

    @admin.action(description=_("Reject with the decision entered"))
    def reject(self, request, queryset):
        for appeal in queryset:
            _run(
                self,
                request,
                lambda a=appeal: services.appeal_reject(actor=request.user, appeal=a, decision=a.decision),
                _("Appeal rejected."),
            )


@admin.register(AwardPolicy)
class AwardPolicyAdmin(ScopedAdmin):
    list_display = ["school_year", "county", "kind", "pass_threshold", "fill_pool"]
    list_select_related = ["school_year", "county"]
    county_scoped = ("county", "school_year")
    actions = None  # no bulk delete: it would bypass the check below (one policy per county and year)

    # Once the year's awards are proposed or published the policy is shown, not edited.
    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj is not None and obj.is_settled)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_settled)


@admin.register(Publication)
class PublicationAdmin(KeptForTheRecord, ScopedAdmin):
    list_display = ["period", "revision", "proposed_by", "approved_by", "approved_at", "ledger_entry_id"]
    list_select_related = ["period__term", "period__school_year", "proposed_by", "approved_by"]
    readonly_fields = [f.name for f in Publication._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CorrectionForm(forms.ModelForm):
    """A correction proposed in the admin: the period, the reason and the corrected values,
    one per line as ``indicator code, school code, value`` (checked as the API checks them)."""

    lines = forms.CharField(
        label=_("corrected values"),
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "academic_quality, S00012, 85"}),
        required=False,
        help_text=_("One per line: indicator code, school code, value."),
    )

    class Meta:
        model = Correction
        fields = ["period", "reason"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.corrections: list = []
        self.fields["period"].queryset = self.fields["period"].queryset.filter(status=EvaluationPeriod.Status.PUBLISHED)

    def clean(self):
        cleaned = super().clean()
        period = cleaned.get("period")
        if period is None:
            return cleaned
        rubric = services.current_rubric(period.county_id, period.school_year_id)
        for n, line in enumerate((cleaned.get("lines") or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in re.split(r"[,，\t]", line)]
            if len(parts) != 3:
                raise forms.ValidationError(
                    _("Line %(n)s: write the indicator code, the school code and the value.") % {"n": n}
                )
            indicator = Indicator.objects.filter(dimension__rubric=rubric, code=parts[0]).first()
            school = School.objects.filter(county_id=period.county_id, code=parts[1]).first()
            if indicator is None:
                raise forms.ValidationError(
                    _("Line %(n)s: the rubric has no indicator “%(code)s”.") % {"n": n, "code": parts[0]}
                )
            if school is None:
                raise forms.ValidationError(
                    _("Line %(n)s: the county has no school “%(code)s”.") % {"n": n, "code": parts[1]}
                )
            self.corrections.append((indicator, school, parts[2]))
        # Everything else the service checks: tried here in a savepoint that is rolled back.
        try:
            with transaction.atomic():
                services.correction_propose(
                    actor=self.actor, period=period, reason=cleaned.get("reason", ""), corrections=self.corrections
                )
                transaction.set_rollback(True)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        except PermissionDenied as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned


@admin.register(Correction)
class CorrectionAdmin(KeptForTheRecord, ScopedAdmin):
    """Corrections of published periods: one bureau user proposes (here or through the API),
    another approves; until then the published figures stand."""

    list_display = ["period", "status", "proposed_by", "proposed_at", "decided_by", "decided_at", "publication"]
    list_filter = ["status"]
    list_select_related = ["period__term", "period__school_year", "proposed_by", "decided_by", "publication"]
    readonly_fields = ["period", "reason", "corrected_values", "status", "proposed_by", "proposed_at", "decided_by",
                       "decided_at", "publication"]  # fmt: skip
    actions = ["approve", "reject"]
    county_scoped = ("period",)

    @admin.display(description=_("corrected values"))
    def corrected_values(self, obj):
        indicators = dict(
            Indicator.objects.filter(pk__in=[v["indicator"] for v in obj.values]).values_list("pk", "code")
        )
        schools = {s.pk: s for s in School.objects.filter(pk__in=[v["school"] for v in obj.values])}
        return (
            format_html_join(
                "\n",
                "<div>{} · {} {}: {}</div>",
                (
                    (
                        indicators.get(v["indicator"], "?"),
                        schools[v["school"]].code,
                        schools[v["school"]].name,
                        v["value"],
                    )
                    for v in obj.values
                    if v["school"] in schools
                ),
            )
            or "—"
        )

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, **kwargs)
        # Through the admin's factory, so that the period's choices are the user's county's.
        form = super().get_form(request, obj, form=CorrectionForm, **kwargs)

        class WithActor(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=request.user, **kw)

        return WithActor

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["period", "reason", "lines"]
        return [*self.readonly_fields, "decision"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = list(super().get_readonly_fields(request, obj))
        return fields if obj.status == Correction.Status.PENDING else [*fields, "decision"]

    def save_model(self, request, obj, form, change):
        if change:
            # Only a waiting correction's decision text is edited here; the actions decide.
            Correction.objects.filter(pk=obj.pk, status=Correction.Status.PENDING).update(decision=obj.decision)
            return
        created = services.correction_propose(
            actor=request.user, period=obj.period, reason=obj.reason, corrections=form.corrections
        )
        obj.pk = created.pk

    @admin.action(description=_("Approve (a different bureau user): publish the corrected revision"))
    def approve(self, request, queryset):
        for correction in queryset:
            _run(
                self,
                request,
                lambda c=correction: services.correction_approve(actor=request.user, period=c.period),
                _("Corrected and published as a new revision."),
            )

    @admin.action(description=_("Reject with the decision entered"))
    def reject(self, request, queryset):
        for correction in queryset:
            _run(
                self,
                request,
                lambda c=correction: services.correction_reject(
                    actor=request.user, period=c.period, decision=c.decision
                ),
                _("Correction rejected."),
            )

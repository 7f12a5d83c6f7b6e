"""The bureau's evaluation screens. Every action calls a service; messages are the services'."""

from __future__ import annotations

import io
import json
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from alliance import access
from alliance.formatting import plain_number
from alliance.models import School
from alliance.scoped_admin import ScopedAdmin, ScopedTabularInline
from alliance.signals import export_done
from staffing.models import Teacher

from . import services
from .export import award_csv_name, award_sheets_zip, write_award_csv
from .models import (
    AllianceResult,
    Appeal,
    AwardPolicy,
    Correction,
    DeclineWarning,
    Dimension,
    EvaluationPeriod,
    EvaluationRun,
    Grade,
    Indicator,
    IndicatorValue,
    NightlySchedule,
    PersonResult,
    Publication,
    Rubric,
    SchoolResult,
    Subject,
)
from .trace_table import grade_words, trace_table


def _refusal(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def _run_each(modeladmin, request, queryset, fn, done_message) -> None:
    """Run a service on each selected row and say exactly what happened: how many of how many
    were done, and why each of the others was not."""
    rows = list(queryset)
    refused = []
    for row in rows:
        try:
            fn(row)
        except (ValidationError, PermissionDenied, services.RunRefused, services.QueueUnavailable) as exc:
            refused.append((row, _refusal(exc)))
    done = len(rows) - len(refused)
    level = messages.SUCCESS if not refused else messages.WARNING if done else messages.ERROR
    modeladmin.message_user(request, done_message % {"done": done, "total": len(rows)}, level)
    for row, why in refused:
        modeladmin.message_user(request, _("Not done for %(row)s: %(why)s") % {"row": row, "why": why}, messages.ERROR)


def _run(modeladmin, request, fn, ok_message) -> None:
    try:
        fn()
    except (ValidationError, PermissionDenied, services.RunRefused, services.QueueUnavailable) as exc:
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


class RubricPartsFormSet(BaseInlineFormSet):
    """An inline of a rubric's dimensions, or of a dimension's indicators. Each row is checked by
    its model (the form); the rows together with the rest of the rubric by the rubric services
    (unique codes, 100 points, the lock), tried here in a savepoint that is rolled back, their
    messages put beside the field they are about. The services write them (``save_related``),
    never the formset itself."""

    actor = None  # set by the inline's get_formset

    def kept_forms(self) -> list:
        return [
            f
            for f in self.forms
            if not (self.can_delete and self._should_delete_form(f))  # type: ignore[attr-defined]  # private Django API, not in the stubs and (f.instance.pk or f.has_changed())
        ]

    def proposed(self) -> tuple[list[dict], dict]:
        """The rubric's structure with this formset's rows, and which form each position is."""
        raise NotImplementedError

    def try_services(self, structure: list[dict]) -> None:
        raise NotImplementedError

    def validate_unique(self):
        pass  # codes are the rubric services' to check, across the whole rubric

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        structure, forms_at = self.proposed()
        if structure is None:
            return
        try:
            with transaction.atomic():
                self.try_services(structure)
                transaction.set_rollback(True)
        except services.StructureError as exc:
            rest = []
            for problem in exc.problems:
                form = forms_at.get((problem.dimension, problem.indicator))
                if form is None:
                    rest.append(str(problem))
                else:
                    form.add_error(problem.field if problem.field in form.fields else None, problem.message)
            if rest:
                raise ValidationError(rest) from exc
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        except PermissionDenied as exc:
            raise ValidationError(str(exc)) from exc

    def mark_saved(self) -> None:
        # What the admin's change message reads after a formset's own save.
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []


def _with_actor(formset_class, request):
    return type(formset_class.__name__, (formset_class,), {"actor": request.user})


DIMENSION_FIELDS = ["order", "code", "name"]
INDICATOR_FIELDS = ("order", "code", "name", "max_points", "method", "metric_key", "rule", "rule_params", "direction",
                    "value_min", "value_max")  # fmt: skip


class DimensionsFormSet(RubricPartsFormSet):
    def proposed(self):
        rubric = self.instance
        saved = {d["id"]: d for d in services.rubric_structure(rubric)} if rubric.pk else {}
        structure, forms_at = [], {}
        for form in self.kept_forms():
            pk = form.instance.pk
            spec = {f: form.cleaned_data.get(f) for f in DIMENSION_FIELDS}
            spec["indicators"] = saved[pk]["indicators"] if pk in saved else []
            if pk:
                spec["id"] = pk
            forms_at[(len(structure), None)] = form
            structure.append(spec)
        return structure, forms_at

    def try_services(self, structure):
        rubric = self.instance
        if rubric.pk:
            services.rubric_update(actor=self.actor, rubric=rubric, structure=structure)
        elif rubric.county_id and rubric.school_year_id:
            services.rubric_create(
                actor=self.actor,
                county=rubric.county,
                school_year=rubric.school_year,
                structure=structure or services.default_rubric_structure(),
            )


class IndicatorsFormSet(RubricPartsFormSet):
    def proposed(self):
        dimension = self.instance
        if not dimension.rubric_id:
            return None, {}
        structure = services.rubric_structure(dimension.rubric)
        mine = {f: getattr(dimension, f) for f in DIMENSION_FIELDS}
        indicators, forms_at = [], {}
        position = next((n for n, d in enumerate(structure) if d["id"] == dimension.pk), len(structure))
        for form in self.kept_forms():
            spec = {f: form.cleaned_data.get(f) for f in INDICATOR_FIELDS}
            if form.instance.pk:
                spec["id"] = form.instance.pk
            forms_at[(position, len(indicators))] = form
            indicators.append(spec)
        spec = {**mine, "indicators": indicators, **({"id": dimension.pk} if dimension.pk else {})}
        structure[position : position + 1] = [spec]
        return structure, forms_at

    def try_services(self, structure):
        services.rubric_update(actor=self.actor, rubric=self.instance.rubric, structure=structure)


class DimensionInline(LockedUnlessDraft, ScopedTabularInline):
    model = Dimension
    formset = DimensionsFormSet
    fields = [*DIMENSION_FIELDS, "indicator_points"]
    readonly_fields = ["indicator_points"]
    show_change_link = True

    def get_formset(self, request, obj=None, **kwargs):
        return _with_actor(super().get_formset(request, obj, **kwargs), request)

    @admin.display(description=_("points"))
    def indicator_points(self, obj):
        return sum(i.max_points for i in obj.indicators.all()) if obj.pk else ""


def _formset_of(formsets, cls):
    return next((f for f in formsets if isinstance(f, cls)), None)


@admin.register(Rubric)
class RubricAdmin(LockedUnlessDraft, ScopedAdmin):
    """A rubric and its dimensions (each dimension's indicators on its own page). Written only by
    the rubric services: a new rubric without dimensions starts from the default one (seed
    003); a locked rubric is read-only (make a new version with the action)."""

    list_display = [
        "name", "school_year", "subject", "version", "locked", "beta", "bundling_basis", "content_hash_short",
    ]  # fmt: skip
    list_filter = ["subject", "locked", "bundling_basis", "alliance_averaging"]
    list_select_related = ["school_year"]
    search_fields = ["name"]
    readonly_fields = ["version", "locked", "content_hash"]
    inlines = [DimensionInline]
    actions = ["revise"]
    county_scoped = ("county", "school_year")

    @admin.display(description=_("content hash"))
    def content_hash_short(self, obj):
        return obj.content_hash[:12]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "county", "school_year", "subject"] if obj is not None else fields

    @admin.action(description=_("Make a new version of the selected rubrics"), permissions=["bureau"])
    def revise(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda r: services.rubric_revise(actor=request.user, rubric=r),
            _("%(done)d of %(total)d rubrics got a new version."),
        )

    def save_model(self, request, obj, form, change):
        pass  # written with its dimensions in save_related, by the services

    def save_related(self, request, form, formsets, change):
        formset = _formset_of(formsets, DimensionsFormSet)
        structure = formset.proposed()[0] if formset is not None else None
        settings = {k: form.cleaned_data[k] for k in services.RUBRIC_SETTINGS if k in form.cleaned_data}
        obj = form.instance
        if change:
            services.rubric_update(actor=request.user, rubric=obj, structure=structure, **settings)
        else:
            created = services.rubric_create(
                actor=request.user,
                county=obj.county,
                school_year=obj.school_year,
                structure=structure or services.default_structure(obj.subject),
                subject=obj.subject,
                **settings,
            )
            obj.pk, obj.version, obj.name = created.pk, created.version, created.name
        for fs in formsets:
            fs.mark_saved()


class IndicatorInline(ScopedTabularInline):
    model = Indicator
    formset = IndicatorsFormSet
    fields = INDICATOR_FIELDS

    def get_formset(self, request, obj=None, **kwargs):
        return _with_actor(super().get_formset(request, obj, **kwargs), request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.rubric.locked)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(Dimension)
class DimensionAdmin(LockedUnlessDraft, ScopedAdmin):
    """A dimension and its indicators, written by the rubric services with the rest of its
    rubric (see ``RubricPartsFormSet``)."""

    list_display = ["name", "rubric", "order"]
    list_select_related = ["rubric"]
    fields = ["rubric", *DIMENSION_FIELDS]
    inlines = [IndicatorInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "rubric"] if obj is not None else fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # see delete_view
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        # A dimension goes on its rubric's page, where the points left are checked (a rubric's
        # own deletion still takes its dimensions with it).
        dimension = self.get_object(request, unquote(object_id))
        if not self.has_delete_permission(request, dimension):
            raise PermissionDenied
        if dimension is None:
            raise Http404
        self.message_user(
            request, _("Delete a dimension on its rubric's page, where the points left are checked."), messages.ERROR
        )
        return HttpResponseRedirect(reverse("admin:evaluation_rubric_change", args=[dimension.rubric_id]))

    def save_model(self, request, obj, form, change):
        pass  # written with its indicators in save_related, by the services

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        formset = _formset_of(formsets, IndicatorsFormSet)
        if formset is not None:
            structure = formset.proposed()[0]
        else:
            structure = services.rubric_structure(obj.rubric)
            for spec in structure:
                if spec["id"] == obj.pk:
                    spec.update({f: getattr(obj, f) for f in DIMENSION_FIELDS})
        services.rubric_update(actor=request.user, rubric=obj.rubric, structure=structure)
        if not change:
            obj.pk = Dimension.objects.get(rubric=obj.rubric, code=obj.code).pk
        for fs in formsets:
            fs.mark_saved()


@admin.register(IndicatorValue)
class IndicatorValueAdmin(KeptForTheRecord, ScopedAdmin):
    list_display = ["school", "teacher", "indicator", "period", "value", "entered_by", "entered_at"]
    list_filter = ["period", "indicator__method"]
    list_select_related = ["school", "teacher", "indicator", "period__term", "period__school_year", "entered_by"]
    search_fields = ["school__name", "school__code", "teacher__name", "indicator__name"]
    fields = ["period", "indicator", "school", "teacher", "value", "comment", "evidence"]
    county_scoped = ("period", "indicator")

    def save_model(self, request, obj, form, change):
        row = services.indicator_value_set(
            actor=request.user,
            period=obj.period,
            indicator=obj.indicator,
            school=obj.school,
            teacher=obj.teacher,
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
    list_display = [
        "__str__", "county", "subject", "kind", "status", "notice_ends_at", "proposed_by", "approved_by", "links",
    ]  # fmt: skip
    list_filter = ["status", "subject", "kind", "school_year"]
    list_select_related = ["county", "school_year", "term", "proposed_by", "approved_by"]
    readonly_fields = ["start_date", "end_date", "status", "proposed_by", "proposed_at", "notice_ends_at",
                       "approved_by", "approved_at", "computed_at"]  # fmt: skip
    actions = ["propose", "approve", "evaluate_now", "export_awards"]
    county_scoped = ("county", "school_year", "term")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.period_create(
            actor=request.user,
            school_year=obj.school_year,
            term=obj.term,
            notice_days=obj.notice_days,
            subject=obj.subject,
        )
        obj.pk = created.pk

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "subject"] if obj is not None else fields

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

    @admin.action(description=_("Propose the results (start the public notice)"), permissions=["bureau"])
    def propose(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda p: services.publication_propose(actor=request.user, period=p),
            _("%(done)d of %(total)d periods proposed."),
        )

    @admin.action(
        description=_("Approve and publish (a different bureau user, after the notice)"), permissions=["bureau"]
    )
    def approve(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda p: services.publication_approve(actor=request.user, period=p),
            _("%(done)d of %(total)d periods published."),
        )

    @admin.action(description=_("Recompute now (queue the nightly job)"), permissions=["bureau"])
    def evaluate_now(self, request, queryset):
        _run_each(
            self,
            request,
            queryset.select_related("county", "school_year"),
            lambda p: services.evaluation_queue(
                actor=request.user, county=p.county, start_year=p.school_year.start_year
            ),
            _("%(done)d of %(total)d periods queued for recomputing."),
        )

    def has_award_sheet_permission(self, request) -> bool:
        # Every school's score and award: the bureau's and the auditors', never a school's.
        return access.can_export(request.user, "award_sheet")

    @admin.action(
        description=_("Download the award sheets (CSV; several periods: a ZIP of one sheet each)"),
        permissions=["award_sheet"],
    )
    def export_awards(self, request, queryset):
        periods = list(queryset.select_related("county", "school_year", "term").order_by("county__code", "start_date"))
        try:
            if len(periods) == 1:
                buffer = io.StringIO()
                write_award_csv(periods[0], buffer, user=request.user)
                body, kind, name = (
                    buffer.getvalue().encode("utf-8"),
                    "text/csv; charset=utf-8",
                    award_csv_name(periods[0]),
                )
            else:
                body, kind, name = award_sheets_zip(periods, user=request.user), "application/zip", "award-sheets.zip"
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(
                request,
                _("No award sheet was exported: %(why)s") % {"why": _refusal(exc)},
                messages.ERROR,
            )
            return None
        for period in periods:
            export_done(request=request, model="evaluation.evaluationperiod", object_id=period.pk)
        response = HttpResponse(body, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def get_urls(self):
        return [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="evaluation_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk):
        period = self.get_object(request, str(pk))
        if period is None:
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
                for row in preview["rows"]:  # grades in words
                    row["current_grade"], row["new_grade"] = map(grade_words, (row["current_grade"], row["new_grade"]))
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
        # A school result's with the rubric's words joined back; in tables, codes in words.
        return trace_table(getattr(obj, "explained_trace", obj.trace))


@admin.register(SchoolResult)
class SchoolResultAdmin(ResultAdminMixin, ScopedAdmin):  # type: ignore[misc]
    list_display = ["school", "period", "own_total", "final_score", "grade", "award_preview", "award", "rubric_version"]
    list_filter = ["period", "grade"]
    list_select_related = ["school", "period__term", "period__school_year"]
    search_fields = ["school__name", "school__code"]
    fields = ["period", "school", "alliance", "own_total", "final_score", "grade", "award_preview", "award",
              "rubric_version", "rubric_hash", "trace_display"]  # fmt: skip


@admin.register(PersonResult)
class PersonResultAdmin(ResultAdminMixin, ScopedAdmin):  # type: ignore[misc]
    """Principals' and teachers' results, each reader's own (``access.visible_person_results``)."""

    list_display = ["school", "teacher", "period", "subject", "score", "grade", "falls", "rubric_version"]
    list_filter = ["subject", "period", "grade"]
    list_select_related = ["school", "teacher", "period__term", "period__school_year"]
    search_fields = ["school__name", "school__code", "teacher__name"]
    fields = ["period", "subject", "school", "teacher", "score", "grade", "falls", "decline_scores",
              "rubric_version", "rubric_hash", "trace_display"]  # fmt: skip


@admin.register(AllianceResult)
class AllianceResultAdmin(ResultAdminMixin, ScopedAdmin):  # type: ignore[misc]
    list_display = ["alliance", "period", "score", "grade", "rubric_version"]
    list_filter = ["period", "grade"]
    list_select_related = ["alliance", "period__term", "period__school_year"]
    fields = ["period", "alliance", "score", "grade", "rubric_version", "rubric_hash", "trace_display"]


@admin.register(DeclineWarning)
class DeclineWarningAdmin(ResultAdminMixin, ScopedAdmin):
    list_display = ["school", "period", "falls", "scores"]
    list_filter = ["period"]
    list_select_related = ["school", "period__term", "period__school_year"]
    readonly_fields = []  # type: ignore[misc]


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

    @admin.action(
        description=_("Accept with the corrected value entered (recomputes the period)"), permissions=["bureau"]
    )
    def accept(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda a: services.appeal_accept(
                actor=request.user, appeal=a, value=a.corrected_value, decision=a.decision
            ),
            _("%(done)d of %(total)d appeals accepted."),
        )

    @admin.action(description=_("Reject with the decision entered"), permissions=["bureau"])
    def reject(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda a: services.appeal_reject(actor=request.user, appeal=a, decision=a.decision),
            _("%(done)d of %(total)d appeals rejected."),
        )


def _coefficient_field(grade: Grade) -> forms.DecimalField:
    return forms.DecimalField(
        label=format_lazy(_("coefficient: {grade}"), grade=grade.label), max_digits=6, decimal_places=2, required=False
    )


# The periods that may pay from a year's pool, in words (the stored mapping's keys).
PERIOD_SHARE_LABELS = {"term1": _("first term"), "term2": _("second term"), "year": _("school year")}


def _share_field(key: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=format_lazy(_("share of the pool: {period}"), period=PERIOD_SHARE_LABELS[key]),
        max_digits=5,
        decimal_places=4,
        required=False,
        help_text=_("0 to 1; all empty: the school-year period pays the whole pool, terms nothing."),
    )


class AwardPolicyForm(forms.ModelForm):
    """The coefficients per grade as one field per grade, and the pool's share per period as
    one field per period, named in words (the stored mappings' keys are codes); an empty
    coefficient leaves the grade's default."""

    coefficient_excellent = _coefficient_field(Grade.EXCELLENT)
    coefficient_good = _coefficient_field(Grade.GOOD)
    coefficient_pass = _coefficient_field(Grade.PASS)
    coefficient_fail = _coefficient_field(Grade.FAIL)
    share_term1 = _share_field("term1")
    share_term2 = _share_field("term2")
    share_year = _share_field("year")

    class Meta:
        model = AwardPolicy
        fields = ["county", "school_year", "kind", "pass_threshold", "fill_pool"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.tier_coefficients or {}
        for grade in Grade:
            self.fields[f"coefficient_{grade.value}"].initial = stored.get(grade.value)
        shares = self.instance.period_shares or {}
        for key in PERIOD_SHARE_LABELS:
            self.fields[f"share_{key}"].initial = shares.get(key)

    def clean(self):
        data = super().clean()
        self.instance.tier_coefficients = {
            grade.value: str(data[f"coefficient_{grade.value}"])
            for grade in Grade
            if data.get(f"coefficient_{grade.value}") is not None
        }
        self.instance.period_shares = {
            key: str(data[f"share_{key}"]) for key in PERIOD_SHARE_LABELS if data.get(f"share_{key}") is not None
        }
        return data

    def _update_errors(self, errors):
        # The model's check names the stored mapping; here it is the form's, above the fields.
        for stored in ("tier_coefficients", "period_shares"):
            if hasattr(errors, "error_dict") and stored in errors.error_dict:
                errors.error_dict.setdefault(NON_FIELD_ERRORS, []).extend(errors.error_dict.pop(stored))
        super()._update_errors(errors)


@admin.register(AwardPolicy)
class AwardPolicyAdmin(ScopedAdmin):
    form = AwardPolicyForm
    # a policy only shown (settled, or a reader's): its stored fields, the mappings in words
    shown_fields = ["county", "school_year", "kind", "coefficients", "shares", "pass_threshold", "fill_pool"]
    list_display = ["school_year", "county", "kind", "pass_threshold", "fill_pool"]
    list_select_related = ["school_year", "county"]
    county_scoped = ("county", "school_year")
    actions = None  # no bulk delete: it would bypass the check below (one policy per county and year)

    # Once the year's awards are proposed or published the policy is shown, not edited.
    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj is not None and obj.is_settled)

    def get_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return self.shown_fields
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return self.shown_fields
        return super().get_readonly_fields(request, obj)

    @admin.display(description=_("coefficients per grade"))
    def coefficients(self, obj):
        stored = obj.tier_coefficients or {}
        return "；".join(f"{g.label}：{plain_number(stored[g.value])}" for g in Grade if g.value in stored) or _(
            "the defaults"
        )

    @admin.display(description=_("share of the pool per period"))
    def shares(self, obj):
        stored = obj.period_shares or {}
        if not stored:
            return _("the school-year period pays the whole pool, terms nothing")
        parts = [f"{label}：{plain_number(stored[k])}" for k, label in PERIOD_SHARE_LABELS.items() if k in stored]
        return "；".join(parts)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_settled)


@admin.register(Publication)
class PublicationAdmin(KeptForTheRecord, ScopedAdmin):
    list_display = ["period", "revision", "proposed_by", "approved_by", "approved_at", "ledger_entry"]
    list_select_related = ["period__term", "period__school_year", "proposed_by", "approved_by", "ledger_entry"]
    readonly_fields = [f.name for f in Publication._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CorrectionForm(forms.ModelForm):
    """A correction proposed in the admin: the period, the reason and the corrected values,
    one per line as ``indicator code, school code, value`` (checked as the API checks them); a
    teachers' period's line names the teacher after the school, by name or by number
    (``indicator code, school code, teacher, value``)."""

    lines = forms.CharField(
        label=_("corrected values"),
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "academic_quality, S00012, 85"}),
        required=False,
        help_text=_(
            "One per line: indicator code, school code, value; for a teachers' period: indicator code, "
            "school code, the teacher's name (or number), value."
        ),
    )

    class Meta:
        model = Correction
        fields = ["period", "reason"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.corrections: list = []
        self.fields["period"].queryset = self.fields["period"].queryset.filter(status=EvaluationPeriod.Status.PUBLISHED)

    def _teacher(self, n: int, school: School, named: str) -> Teacher:
        """The teacher of the school the line names: by its name, or its number where two share one."""
        teachers = Teacher.objects.filter(school=school)
        found = list(teachers.filter(pk=int(named))) if named.isdigit() else list(teachers.filter(name=named)[:2])
        if len(found) == 1:
            return found[0]
        if found:
            raise forms.ValidationError(
                _("Line %(n)s: %(school)s has more than one teacher named “%(name)s”: write the teacher's number.")
                % {"n": n, "school": school.name, "name": named}
            )
        raise forms.ValidationError(
            _("Line %(n)s: %(school)s has no teacher “%(name)s”.") % {"n": n, "school": school.name, "name": named}
        )

    def clean(self):
        cleaned = super().clean()
        period = cleaned.get("period")
        if period is None:
            return cleaned
        rubric = services.current_rubric(period.county_id, period.school_year_id, period.subject)
        parts_wanted = 4 if period.subject == Subject.TEACHER else 3
        for n, line in enumerate((cleaned.get("lines") or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in re.split(r"[,，\t]", line)]
            if len(parts) != parts_wanted:
                if parts_wanted == 4:
                    raise forms.ValidationError(
                        _("Line %(n)s: write the indicator code, the school code, the teacher and the value.")
                        % {"n": n}
                    )
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
            if parts_wanted == 4:
                self.corrections.append((indicator, school, parts[3], self._teacher(n, school, parts[2])))
            else:
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
        teachers = dict(
            Teacher.objects.filter(pk__in=[v["teacher"] for v in obj.values if v.get("teacher")]).values_list(
                "pk", "name"
            )
        )
        return (
            format_html_join(
                "\n",
                "<div>{} · {} {}{}: {}</div>",
                (
                    (
                        indicators.get(v["indicator"], "?"),
                        schools[v["school"]].code,
                        schools[v["school"]].name,
                        f" · {teachers.get(v['teacher'], '?')}" if v.get("teacher") else "",
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

    @admin.action(
        description=_("Approve (a different bureau user): publish the corrected revision"), permissions=["bureau"]
    )
    def approve(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda c: services.correction_approve(actor=request.user, period=c.period),
            _("%(done)d of %(total)d corrections approved and published as new revisions."),
        )

    @admin.action(description=_("Reject with the decision entered"), permissions=["bureau"])
    def reject(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda c: services.correction_reject(actor=request.user, period=c.period, decision=c.decision),
            _("%(done)d of %(total)d corrections rejected."),
        )


@admin.register(NightlySchedule)
class NightlyScheduleAdmin(ScopedAdmin):
    """A county's night: its bureau staff change the time and switch it on or off, for their
    county only (the rows come through the access checkpoint). A row per county is made by the
    migration and, for a new county, by the next beat tick (``services.nightly_schedules_ensure``)."""

    list_display = ["county", "enabled", "run_at", "last_run_on", "last_run"]
    list_select_related = ["county", "last_run"]
    fields = ["county", "enabled", "run_at", "last_run_on", "last_run"]
    readonly_fields = ["county", "last_run_on", "last_run"]

    def has_add_permission(self, request):
        return False  # one per county, made by services.nightly_schedules_ensure

    def has_delete_permission(self, request, obj=None):
        return False

"""Funding in the admin for bureau staff: years with their quotas, the ledger (read-only),
plans to approve or send back, reversals with a reason. Every action calls a service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from alliance.formatting import yuan
from alliance.scoped_admin import ScopedAdmin, ScopedTabularInline, adopt, form_values, save_formset_via

from . import services
from .models import (
    Account,
    FundingQuota,
    FundingYear,
    LedgerEntry,
    LedgerLine,
    PlanLine,
    ProgrammeFund,
    ProgrammeFundLine,
    ProgrammeSpending,
    SpendingPlan,
    SpendingRecord,
)


def _run(modeladmin, request, queryset, service, *, arg="funding_year", outcome=None, **kwargs):
    """Call a service per selected row and report exactly what was done: each row's outcome
    (``outcome(obj, result)`` → (a sentence, whether it changed anything)), each refusal with
    its reason, and "N of M done"; never a 500, never a success that did nothing."""
    done, rows = 0, list(queryset)
    for obj in rows:
        try:
            result = service(actor=request.user, **{arg: obj}, **kwargs)
        except (ValidationError, PermissionDenied) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            modeladmin.message_user(request, f"{obj}: {text}", messages.ERROR)
            continue
        text, changed = outcome(obj, result) if outcome is not None else ("", True)
        if text:
            modeladmin.message_user(request, text, messages.INFO if changed else messages.WARNING)
        done += changed
    level = messages.SUCCESS if done == len(rows) else messages.WARNING
    modeladmin.message_user(
        request,
        ngettext(
            "Done for %(done)s of %(count)s selected row.", "Done for %(done)s of %(count)s selected rows.", len(rows)
        )
        % {"done": done, "count": len(rows)},
        level,
    )


class ReadOnlyMixin:
    """The ledger is append-only: no adding, changing or deleting through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))


def _with_reason(modeladmin, request, queryset, title, service, arg):
    """An intermediate page asking for the reason, then the service per selected row."""
    if "apply" in request.POST:
        form = ReasonForm(request.POST)
        if form.is_valid():
            _run(modeladmin, request, queryset, service, arg=arg, reason=form.cleaned_data["reason"])
            return None
    else:
        form = ReasonForm()
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "queryset": queryset,
        "action": request.POST.get("action"),
        "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/funding/reason.html", context)


class FundingQuotaInline(ScopedTabularInline):
    model = FundingQuota
    fields = ["school", "alliance", "quota"]
    autocomplete_fields = ["school"]
    county_scoped = ("school", "alliance")

    def _parent_changeable(self, request, obj) -> bool:
        return super()._parent_changeable(request, obj) and (obj is None or obj.is_draft)

    def service_check(self, request, form):
        if form.cleaned_data.get("quota") is not None:
            services.check_amount(form.cleaned_data["quota"], "quota")


@admin.register(FundingYear)
class FundingYearAdmin(ScopedAdmin):
    list_display = ["__str__", "county", "base_quota", "lead_share", "pool_share", "status", "opened_at", "closed_at"]
    list_filter = ["status", "school_year__start_year"]
    list_select_related = ["county", "school_year"]
    readonly_fields = ["status", "opened_at", "closed_at"]
    county_scoped = ("county", "school_year")
    inlines = [FundingQuotaInline]
    actions = ["default_quotas", "open_years", "close_years"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or not obj.is_closed)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_draft)

    def service_check(self, request, form):
        if form.cleaned_data.get("base_quota") is not None:
            services.check_amount(form.cleaned_data["base_quota"], "base_quota")

    def save_model(self, request, obj, form, change):
        if change:
            saved = services.funding_year_update(
                actor=request.user, funding_year=obj, **form_values(form, changed_only=True)
            )
        else:
            saved = services.funding_year_create(actor=request.user, **form_values(form, changed_only=False))
        adopt(obj, saved)

    def save_formset(self, request, form, formset, change):
        year = form.instance
        save_formset_via(
            formset,
            create=lambda values: services.funding_quota_create(actor=request.user, funding_year=year, **values),
            update=lambda quota, values: services.funding_quota_update(
                actor=request.user, funding_quota=quota, **values
            ),
            delete=lambda quota: services.funding_quota_delete(actor=request.user, funding_quota=quota),
        )

    @admin.action(description=_("Fund every school in an alliance (default quotas)"), permissions=["bureau"])
    def default_quotas(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            services.funding_quotas_default,
            outcome=lambda year, added: (services.quotas_default_outcome(year, added), added > 0),
        )

    @admin.action(description=_("Open: book the 70/30 allocation"), permissions=["bureau"])
    def open_years(self, request, queryset):
        was_open = {year.pk for year in queryset if year.is_open}
        _run(
            self,
            request,
            queryset,
            services.funding_year_open,
            outcome=lambda year, _r: (
                (_("%(year)s was already open: nothing was booked again.") % {"year": year}, False)
                if year.pk in was_open
                else (_("%(year)s opened: the allocation is booked.") % {"year": year}, True)
            ),
        )

    @admin.action(description=_("Close: return unspent alliance money"), permissions=["bureau"])
    def close_years(self, request, queryset):
        was_closed = {year.pk for year in queryset if year.is_closed}
        _run(
            self,
            request,
            queryset,
            services.funding_year_close,
            outcome=lambda year, _r: (
                (_("%(year)s was already closed: nothing was booked again.") % {"year": year}, False)
                if year.pk in was_closed
                else (_("%(year)s closed: unspent alliance money is returned.") % {"year": year}, True)
            ),
        )


@admin.register(Account)
class AccountAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ["__str__", "funding_year", "kind", "balance"]
    list_filter = ["kind", "funding_year__school_year__start_year"]
    search_fields = ["alliance__name", "school__name"]
    list_select_related = [
        "funding_year__school_year",
        "alliance",
        "school",
        "programme_fund__programme",
        "programme_fund__helper_school",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_balance()

    @admin.display(description=_("balance"), ordering="balance")
    def balance(self, obj: Account):
        return yuan(obj.balance)  # type: ignore[attr-defined]


class LedgerLineInline(ReadOnlyMixin, ScopedTabularInline):
    model = LedgerLine
    fields = ["account", "amount"]
    readonly_fields = fields  # type: ignore[assignment]

    def get_queryset(self, request):
        # Every line of a visible entry, so the entry is seen whole.
        return LedgerLine.objects.select_related("account__alliance", "account__school")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ["pk", "kind", "funding_year", "school", "memo", "created_by", "created_at", "reverses"]
    list_filter = ["kind", "funding_year__school_year__start_year"]
    search_fields = ["memo", "reason", "school__name"]
    list_select_related = ["funding_year__school_year", "school", "created_by", "reverses"]
    inlines = [LedgerLineInline]
    actions = ["reverse_entries"]

    @admin.action(description=_("Reverse (with a reason)"), permissions=["bureau"])
    def reverse_entries(self, request, queryset):
        return _with_reason(self, request, queryset, _("Reverse ledger entries"), services.entry_reverse, "entry")


class PlanLineInline(ScopedTabularInline):
    model = PlanLine
    fields = ["school", "category", "amount", "notes"]
    county_scoped = ("school",)

    def _parent_changeable(self, request, obj) -> bool:
        # Shown read-only once the plan is locked; the services refuse a change all the same.
        return super()._parent_changeable(request, obj) and (obj is None or obj.is_editable)

    def service_check(self, request, form):
        if form.instance.plan_id:
            services.plan_line_check(actor=request.user, plan=form.instance.plan)
        if form.cleaned_data.get("amount") is not None:
            services.check_amount(form.cleaned_data["amount"])


@admin.register(SpendingPlan)
class SpendingPlanAdmin(ScopedAdmin):
    list_display = ["__str__", "funding_year", "status", "revision", "submitted_at", "decided_at"]
    list_filter = ["status", "funding_year__school_year__start_year"]
    search_fields = ["alliance__name"]
    list_select_related = ["alliance", "funding_year__school_year"]
    readonly_fields = [
        "funding_year", "alliance", "lead_school", "revision", "previous_revision", "status", "return_reason",
    ]  # fmt: skip
    fields = [
        "funding_year", "alliance", "lead_school", "revision", "previous_revision", "status", "notes", "return_reason",
    ]  # fmt: skip
    inlines = [PlanLineInline]
    actions = ["approve_plans", "return_plans"]

    @admin.display(description=_("previous revision"))
    def previous_revision(self, obj: SpendingPlan):
        # The model field has no verbose name of its own (the admin would call it "Previous").
        return obj.previous or "—"

    def has_add_permission(self, request):
        # Plans start through the service (the API), which fixes the lead school and revision.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_formset(self, request, form, formset, change):
        plan = form.instance
        save_formset_via(
            formset,
            create=lambda values: services.plan_line_add(actor=request.user, plan=plan, **values),
            update=lambda line, values: services.plan_line_update(actor=request.user, line=line, **values),
            delete=lambda line: services.plan_line_delete(actor=request.user, line=line),
        )

    @admin.action(description=_("Approve the submitted plan"), permissions=["bureau"])
    def approve_plans(self, request, queryset):
        _run(self, request, queryset, services.spending_plan_approve, arg="plan")

    @admin.action(description=_("Send back to the lead school (with a reason)"), permissions=["bureau"])
    def return_plans(self, request, queryset):
        return _with_reason(self, request, queryset, _("Send plans back"), services.spending_plan_return, "plan")


@admin.register(SpendingRecord)
class SpendingRecordAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ["date", "plan_line", "amount", "payee", "recorded_by", "recorded_at"]
    list_filter = ["plan_line__category", "plan_line__plan__funding_year__school_year__start_year"]
    search_fields = ["payee", "description", "plan_line__school__name"]
    list_select_related = ["plan_line__school", "recorded_by"]
    fields = ["plan_line", "date", "amount", "payee", "description", "receipt", "recorded_by", "recorded_at"]


class ProgrammeFundLineInline(ReadOnlyMixin, ScopedTabularInline):
    """The fund's plan, as the helper school drew it up (through the API or the portal)."""

    model = ProgrammeFundLine
    fields = ("helped_school", "category", "amount", "notes")
    readonly_fields = fields


@admin.register(ProgrammeFund)
class ProgrammeFundAdmin(ScopedAdmin):
    """A cross-county programme's working funds in the helper county's funding year; booked
    when the year opens (or at once in an open year) and fixed from then on."""

    list_display = ["programme", "helper_school", "funding_year", "amount", "spend_share"]
    list_select_related = ["programme", "helper_school", "funding_year__school_year"]
    list_filter = ["funding_year__school_year__start_year"]
    search_fields = ["programme__name", "helper_school__name"]
    raw_id_fields = ["programme"]
    county_scoped = ("funding_year", "helper_school")
    inlines = [ProgrammeFundLineInline]

    def save_model(self, request, obj, form, change):
        values = form_values(form, changed_only=change)
        if change:
            saved = services.programme_fund_update(
                actor=request.user, fund=obj, **{k: v for k, v in values.items() if k in ("amount", "spend_share")}
            )
        else:
            saved = services.programme_fund_create(actor=request.user, **values)
        adopt(obj, saved)

    def delete_model(self, request, obj):
        services.programme_fund_delete(actor=request.user, fund=obj)


@admin.register(ProgrammeSpending)
class ProgrammeSpendingAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ["date", "payee", "amount", "line"]
    list_select_related = ["line__fund__programme", "line__fund__helper_school"]
    search_fields = ["payee", "description"]
    date_hierarchy = "date"
    fields = ["line", "date", "amount", "payee", "description", "receipt", "recorded_by", "recorded_at"]

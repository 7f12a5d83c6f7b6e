"""Funding in the admin for bureau staff: years with their quotas, the ledger (read-only),
plans to approve or send back, reversals with a reason. Every action calls a service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from alliance import access
from alliance.scoped_admin import ScopedAdmin, ScopedTabularInline

from . import services
from .models import Account, FundingQuota, FundingYear, LedgerEntry, LedgerLine, PlanLine, SpendingPlan, SpendingRecord


def _run(modeladmin, request, queryset, service, done_message, **kwargs):
    """Call a service per selected row; report each refusal as a message, never a 500."""
    done = 0
    arg = kwargs.pop("_arg", "funding_year")
    for obj in queryset:
        try:
            service(actor=request.user, **{arg: obj}, **kwargs)
            done += 1
        except (ValidationError, PermissionDenied) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            modeladmin.message_user(request, f"{obj}: {text}", messages.ERROR)
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)


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
            done = 0
            for obj in queryset:
                try:
                    service(actor=request.user, reason=form.cleaned_data["reason"], **{arg: obj})
                    done += 1
                except (ValidationError, PermissionDenied) as exc:
                    text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    modeladmin.message_user(request, f"{obj}: {text}", messages.ERROR)
            if done:
                modeladmin.message_user(request, _("%(count)s done.") % {"count": done}, messages.SUCCESS)
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

    @admin.action(description=_("Fund every school in an alliance (default quotas)"))
    def default_quotas(self, request, queryset):
        _run(self, request, queryset, services.funding_quotas_default, _("Quotas made for %(count)s year(s)."))

    @admin.action(description=_("Open: book the 70/30 allocation"))
    def open_years(self, request, queryset):
        _run(self, request, queryset, services.funding_year_open, _("%(count)s year(s) open."))

    @admin.action(description=_("Close: return unspent alliance money"))
    def close_years(self, request, queryset):
        _run(self, request, queryset, services.funding_year_close, _("%(count)s year(s) closed."))


@admin.register(Account)
class AccountAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ["__str__", "funding_year", "kind", "balance"]
    list_filter = ["kind", "funding_year__school_year__start_year"]
    search_fields = ["alliance__name", "school__name"]
    list_select_related = ["funding_year__school_year", "alliance", "school"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_balance()

    @admin.display(description=_("balance"), ordering="balance")
    def balance(self, obj: Account):
        return obj.balance  # type: ignore[attr-defined]


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

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not access.is_bureau(request.user):
            actions.pop("reverse_entries", None)
        return actions

    @admin.action(description=_("Reverse (with a reason)"))
    def reverse_entries(self, request, queryset):
        return _with_reason(self, request, queryset, _("Reverse ledger entries"), services.entry_reverse, "entry")


class PlanLineInline(ScopedTabularInline):
    model = PlanLine
    fields = ["school", "category", "amount", "notes"]
    county_scoped = ("school",)

    def _parent_changeable(self, request, obj) -> bool:
        return super()._parent_changeable(request, obj) and (obj is None or obj.is_editable)


@admin.register(SpendingPlan)
class SpendingPlanAdmin(ScopedAdmin):
    list_display = ["__str__", "funding_year", "status", "revision", "submitted_at", "decided_at"]
    list_filter = ["status", "funding_year__school_year__start_year"]
    search_fields = ["alliance__name"]
    list_select_related = ["alliance", "funding_year__school_year"]
    readonly_fields = ["funding_year", "alliance", "lead_school", "revision", "previous", "status", "return_reason"]
    fields = ["funding_year", "alliance", "lead_school", "revision", "previous", "status", "notes", "return_reason"]
    inlines = [PlanLineInline]
    actions = ["approve_plans", "return_plans"]

    def has_add_permission(self, request):
        # Plans start through the service (the API), which fixes the lead school and revision.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Approve the submitted plan"))
    def approve_plans(self, request, queryset):
        _run(self, request, queryset, services.spending_plan_approve, _("%(count)s plan(s) approved."), _arg="plan")

    @admin.action(description=_("Send back to the lead school (with a reason)"))
    def return_plans(self, request, queryset):
        return _with_reason(self, request, queryset, _("Send plans back"), services.spending_plan_return, "plan")


@admin.register(SpendingRecord)
class SpendingRecordAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ["date", "plan_line", "amount", "payee", "recorded_by", "recorded_at"]
    list_filter = ["plan_line__category", "plan_line__plan__funding_year__school_year__start_year"]
    search_fields = ["payee", "description", "plan_line__school__name"]
    list_select_related = ["plan_line__school", "recorded_by"]

"""The admin site of the bureau: its index grouped by the bureau's work rather than by app, with
the job schedules under one heading at the end."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers, utils
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.templatetags import admin_list
from django.db import models
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from alliance import formatting

# (key, heading, model labels in the order shown); a registered model named nowhere goes under
# "Other", just before the schedules.
GROUPS: list[tuple[str, Any, tuple[str, ...]]] = [
    (
        "schools",
        _("Schools and alliances"),
        ("alliance.County", "alliance.SchoolYear", "alliance.School", "alliance.Alliance", "alliance.Pairing",
         "alliance.PairingTask"),
    ),
    (
        "exchanges",
        _("Exchanges and activities"),
        ("staffing.Teacher", "staffing.Exchange", "staffing.MentorPair", "staffing.Activity"),
    ),
    (
        "funding",
        _("Funding"),
        ("funding.FundingYear", "funding.SpendingPlan", "funding.SpendingRecord", "funding.Account",
         "funding.LedgerEntry"),
    ),
    (
        "evaluation",
        _("Evaluation"),
        ("evaluation.Rubric", "evaluation.Dimension", "evaluation.EvaluationPeriod", "evaluation.IndicatorValue",
         "evaluation.SchoolResult", "evaluation.AllianceResult", "evaluation.Appeal", "evaluation.Correction",
         "evaluation.Publication", "evaluation.DeclineWarning", "evaluation.AwardPolicy", "evaluation.EvaluationRun"),
    ),
    ("supervision", _("Supervision"), ("staffing.SupervisionVisit", "staffing.Rectification")),
    (
        "users",
        _("Users and access"),
        ("alliance.User", "auth.Group", "authtoken.TokenProxy", "audit.AuditRecord", "axes.AccessAttempt",
         "axes.AccessFailureLog", "axes.AccessLog"),
    ),
]  # fmt: skip
OTHER = ("other", _("Other"))
SCHEDULES = ("schedules", _("Scheduled jobs"))
SCHEDULE_APPS = ("django_celery_beat",)
SCHEDULE_MODELS = ("evaluation.NightlySchedule",)


class PortalAdminSite(admin.AdminSite):
    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """The index and the sidebar by the bureau's work; an app's own page stays by app."""
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        models = {f"{app['app_label']}.{m['object_name']}": m for app in apps for m in app["models"]}
        order = {label: (i, j) for i, (_k, _n, labels) in enumerate(GROUPS) for j, label in enumerate(labels)}
        grouped: dict[str, list[dict[str, Any]]] = {}
        for label, model in models.items():
            if label in SCHEDULE_MODELS or label.split(".")[0] in SCHEDULE_APPS:
                key = SCHEDULES[0]
            elif label in order:
                key = GROUPS[order[label][0]][0]
            else:
                key = OTHER[0]
            grouped.setdefault(key, []).append(model)
        headings = [(k, n) for k, n, _l in GROUPS] + [OTHER, SCHEDULES]
        result = []
        for key, name in headings:
            rows = grouped.get(key)
            if not rows:
                continue
            rows.sort(key=lambda m: (order.get(_label_of(m), (99, 99)), str(m["name"])))
            result.append(
                {
                    "name": name,
                    "app_label": key,
                    "app_url": f"#{key}",
                    "has_module_perms": True,
                    "models": rows,
                }
            )
        return result


def _label_of(model_row: dict[str, Any]) -> str:
    model = model_row["model"]
    return model._meta.label


_display_for_field = utils.display_for_field
_display_for_value = utils.display_for_value


def boolean_icon(value: bool | None) -> str:
    """Django's yes/no/unknown icon, its alternative text in the reader's language (Django
    writes "True", "False", "None")."""
    name, text = {True: ("yes", _("Yes")), False: ("no", _("No"))}.get(value, ("unknown", _("Unknown")))  # type: ignore[arg-type]
    return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{name}.svg"), text)


def _grade_label(key: Any) -> Any:
    from evaluation.models import Grade

    return Grade(key).label if key in Grade.values else key


def json_in_words(value: Any) -> str:
    """A JSON mapping as "label: value" pairs, grade codes in words (the rubric's grade bands,
    the award policy's tier coefficients); anything else as Django shows it."""
    if isinstance(value, dict) and value and all(isinstance(v, str | int | float | Decimal) for v in value.values()):
        return "；".join(f"{_grade_label(k)}：{formatting.plain_number(v)}" for k, v in value.items())
    return ""


def display_for_field(value: Any, field: Any, empty_value_display: str, avoid_link: bool = False) -> Any:
    """The admin's display of a field's value (list columns, read-only fields), with amounts as
    ¥1,234.56, other decimals (values, shares, points) without trailing zeros, yes/no icons
    described in the reader's language and grade codes in words."""
    if getattr(field, "flatchoices", None):
        return _display_for_field(value, field, empty_value_display, avoid_link)
    if isinstance(field, models.BooleanField):
        return boolean_icon(value)
    if value is not None and isinstance(field, models.DecimalField):
        return formatting.yuan(value) if formatting.is_money_field(field) else formatting.plain_number(value)
    if isinstance(field, models.JSONField) and value in ({}, []):
        return empty_value_display
    if isinstance(field, models.JSONField) and (words := json_in_words(value)):
        return words
    return _display_for_field(value, field, empty_value_display, avoid_link)


def display_for_value(value: Any, empty_value_display: str, boolean: bool = False) -> Any:
    """A computed column's value: a Decimal without trailing zeros (a computed amount is
    written with ``formatting.yuan`` by its column), a yes/no icon described in words."""
    if boolean or isinstance(value, bool):
        return boolean_icon(value)
    if isinstance(value, Decimal):
        return formatting.plain_number(value)
    return _display_for_value(value, empty_value_display, boolean)


class PortalAdminConfig(AdminConfig):
    default_site = "config.admin.PortalAdminSite"

    def ready(self) -> None:
        super().ready()
        # Django's admin has no per-site hook for how a value is shown; its two display
        # functions are looked up by name in these modules, so they are replaced there (once).
        for module in (helpers, admin_list):
            module.display_for_field = display_for_field  # type: ignore[attr-defined]
        admin_list.display_for_value = display_for_value  # type: ignore[attr-defined]
        utils.display_for_value = display_for_value

"""The portal's forms: they take input in shape; the services decide (``ValidationError`` from a
service lands beside its field through ``add_service_error``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from alliance.models import PairingTask, School
from alliance.uploads import validate_upload
from funding.models import PlanLine
from staffing.models import Exchange, Subject, Teacher

from .uploads import check_receipt


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def add_service_error(form: forms.Form, error: ValidationError, fields: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError beside the fields it names (``error_dict``); a key that
    is no field of the form (or a message without a field) goes above the form. ``fields``
    maps a service's field name to the form's (e.g. ``hosts`` → ``host_schools``)."""
    fields = fields or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        target = fields.get(name, name)
        form.add_error(target if target in form.fields else None, errors)


class ExchangeForm(forms.Form):
    """An exchange of the principal's school: the origin is the school itself; hosts are
    schools of the county."""

    kind = forms.ChoiceField(label=_("kind"), choices=Exchange.Kind.choices)
    teacher = forms.ModelChoiceField(label=_("teacher"), queryset=Teacher.objects.none())
    host_schools = forms.ModelMultipleChoiceField(
        label=_("host schools"),
        queryset=School.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("One host school; itinerant teaching may name several."),
    )
    subject = forms.ChoiceField(label=_("subject"), choices=[("", "—"), *Subject.choices], required=False)
    class_count = forms.IntegerField(label=_("number of classes"), min_value=0, initial=0, required=False)
    classes = forms.CharField(label=_("classes"), max_length=200, required=False)
    weekly_periods = forms.IntegerField(label=_("weekly periods"), min_value=0, initial=0, required=False)
    start_date = forms.DateField(label=_("start date"), widget=DateInput())
    end_date = forms.DateField(label=_("end date"), widget=DateInput())

    def __init__(self, *args: Any, teachers, hosts, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Model choice fields (the stubs' Field has no queryset).
        fields: dict[str, Any] = self.fields
        fields["teacher"].queryset = teachers
        fields["host_schools"].queryset = hosts

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["host_schools"] = list(data.pop("host_schools"))
        data["class_count"] = data.get("class_count") or 0
        data["weekly_periods"] = data.get("weekly_periods") or 0
        return data


class SpendingForm(forms.Form):
    plan_line: forms.ModelChoiceField[PlanLine] = forms.ModelChoiceField(label=_("plan line"), queryset=None)
    date = forms.DateField(label=_("date"), widget=DateInput())
    amount = forms.DecimalField(label=_("amount (CNY)"), max_digits=14, decimal_places=2, min_value=0)
    payee = forms.CharField(label=_("payee"), max_length=200)
    description = forms.CharField(label=_("description"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    receipt = forms.FileField(
        label=_("receipt"),
        help_text=_("A photo (PNG or JPEG) or a PDF, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,application/pdf"}),
    )

    def __init__(self, *args: Any, lines, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plan_line: Any = self.fields["plan_line"]  # a model choice field (the stubs' Field has no queryset)
        plan_line.queryset = lines
        plan_line.label_from_instance = lambda line: (
            f"{line.plan.alliance} · {line.school} · {line.get_category_display()}"
        )

    def clean_receipt(self):
        return check_receipt(self.cleaned_data["receipt"])


class AppealForm(forms.Form):
    indicator = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ProgrammeTaskForm(forms.Form):
    """What a programme pairing's school reports on a task (``alliance.services.PROGRESS_FIELDS``):
    its status, completion date, progress and evidence."""

    status = forms.ChoiceField(
        label=_("status"),
        # Dropping a task is the bureau's decision (the service refuses it); not offered here.
        choices=[c for c in PairingTask.Status.choices if c[0] != PairingTask.Status.DROPPED],
    )
    completed_on = forms.DateField(label=_("completed on"), widget=DateInput(), required=False)
    progress_notes = forms.CharField(
        label=_("progress notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    evidence = forms.FileField(
        label=_("evidence"),
        required=False,
        validators=[validate_upload],
        help_text=_("A photo (PNG or JPEG) or a PDF, at most 10 MB; a new file replaces the one kept."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,application/pdf"}),
    )

    def service_fields(self) -> dict[str, Any]:
        """The fields for ``pairing_task_update``: the evidence only when a file was sent."""
        fields = dict(self.cleaned_data)
        if not fields.get("evidence"):
            fields.pop("evidence", None)
        return fields

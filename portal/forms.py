"""The portal's forms: they take input in shape; the services decide (``ValidationError`` from a
service lands beside its field through ``add_service_error``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from alliance.models import PairingTask, School
from alliance.uploads import validate_upload
from evaluation.models import EvaluationPeriod
from funding.models import PlanLine
from staffing.models import Activity, Exchange, MentorMeeting, Subject, Teacher

UPLOAD_HELP = _("A photo (PNG or JPEG) or a PDF, at most 10 MB.")
UPLOAD_ACCEPT = "image/png,image/jpeg,application/pdf,.png,.jpg,.jpeg,.pdf"


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
        help_text=UPLOAD_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_ACCEPT}),
        # The one upload rule (type by content and name, size) of the admin, the API and the models.
        validators=[validate_upload],
    )

    def __init__(self, *args: Any, lines, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plan_line: Any = self.fields["plan_line"]  # a model choice field (the stubs' Field has no queryset)
        plan_line.queryset = lines
        plan_line.label_from_instance = lambda line: (
            f"{line.plan.alliance} · {line.school} · {line.get_category_display()}"
        )


class AppealForm(forms.Form):
    indicator = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class TaskProgressForm(forms.Form):
    """What a pairing's schools report on a task (``alliance.services.PROGRESS_FIELDS``): its
    status, completion date, progress and evidence; for alliance and programme pairings alike."""

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


# A programme pairing's task is reported with the same form.
ProgrammeTaskForm = TaskProgressForm


class MeetingForm(forms.Form):
    pair = forms.ModelChoiceField(label=_("mentoring pair"), queryset=None)  # type: ignore[var-annotated]
    date = forms.DateField(label=_("date"), widget=DateInput())
    kind = forms.ChoiceField(label=_("kind"), choices=MentorMeeting.Kind.choices)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, pairs, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pair: Any = self.fields["pair"]
        pair.queryset = pairs
        pair.label_from_instance = lambda p: f"{p.mentor.name} → {p.mentee.name}"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each passes ``validate_upload``."""

    default_validators = [validate_upload]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": UPLOAD_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


# The fields only some kinds of activity have: the form shows them for those kinds, and the
# page drops them for any other kind (a training has no donated amount).
KIND_FIELDS = {
    "donation_amount": (Activity.Kind.DONATION,),
    "goods_description": (Activity.Kind.DONATION,),
    "goods_count": (Activity.Kind.DONATION,),
    "goods_value": (Activity.Kind.DONATION,),
    "resource_count": (Activity.Kind.RESOURCE_SHARING,),
}
# Kinds the bureau's supervisors record, not a school.
SCHOOL_ACTIVITY_KINDS = [
    c
    for c in Activity.Kind.choices
    if c[0] not in (Activity.Kind.SUPERVISION_VISIT, Activity.Kind.QUARTERLY_SUPERVISION_MEETING)
]


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=SCHOOL_ACTIVITY_KINDS)
    title = forms.CharField(label=_("title"), max_length=200)
    date = forms.DateField(label=_("date"), widget=DateInput())
    schools = forms.ModelMultipleChoiceField(
        label=_("schools involved"),
        queryset=School.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    participants = forms.CharField(label=_("participants"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    person_times = forms.IntegerField(label=_("person-times"), min_value=0, initial=0, required=False)
    description = forms.CharField(label=_("description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    donation_amount = forms.DecimalField(
        label=_("donated amount (CNY)"), max_digits=14, decimal_places=2, min_value=0, required=False
    )
    goods_description = forms.CharField(label=_("donated goods"), max_length=200, required=False)
    goods_count = forms.IntegerField(label=_("number of goods"), min_value=0, required=False)
    goods_value = forms.DecimalField(
        label=_("value of goods (CNY)"), max_digits=14, decimal_places=2, min_value=0, required=False
    )
    resource_count = forms.IntegerField(label=_("resources shared"), min_value=0, required=False)
    uploads = MultipleFileField(label=_("photos or PDFs"), help_text=UPLOAD_HELP, required=False)

    def __init__(self, *args: Any, schools, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["schools"]
        field.queryset = schools
        for name, kinds in KIND_FIELDS.items():
            self.fields[name].widget.attrs["data-kinds"] = " ".join(kinds)

    def kind_fields(self) -> list:
        """The bound fields only some kinds have, for the template's group."""
        return [self[name] for name in KIND_FIELDS]

    def service_fields(self) -> dict[str, Any]:
        """The activity's fields for ``activity_create``/``activity_update``: those of other
        kinds emptied, the schools apart, the files apart."""
        data = dict(self.cleaned_data)
        data.pop("uploads", None)
        data.pop("schools", None)
        data["person_times"] = data.get("person_times") or 0
        for name, kinds in KIND_FIELDS.items():
            if data["kind"] not in kinds:
                data[name] = "" if name == "goods_description" else None
        return data


class PersonResultFilter(forms.Form):
    """The person results' filters: a period (among those the user reads results of) and whom
    it evaluates. An unknown or out-of-reach period is refused as a bad choice."""

    period = forms.ModelChoiceField(
        label=_("period"), queryset=EvaluationPeriod.objects.none(), required=False, empty_label=_("Every period")
    )
    subject = forms.ChoiceField(label=_("evaluated"), required=False)

    def __init__(self, data: Any = None, *, periods: Any, subjects: Any) -> None:
        super().__init__(data)
        self.fields["period"].queryset = periods  # type: ignore[attr-defined]
        self.fields["subject"].choices = [("", _("Principals and teachers")), *subjects]  # type: ignore[attr-defined]

"""Teachers, their exchanges between schools, mentoring pairs and logged activities."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from alliance.access import Scope
from alliance.models import Programme, School
from alliance.querysets import ScopedQuerySet
from alliance.uploads import ProtectedFileField, UploadTo

from .querysets import (
    BLOCKING_EXCHANGE_STATUSES,
    COUNTED_EXCHANGE_STATUSES,
    EVENT_EXCHANGE_KINDS,
    ROTATION_KINDS,
    ActivityQuerySet,
    ExchangeQuerySet,
    TeacherQuerySet,
)

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class Subject(models.TextChoices):
    CHINESE = "chinese", _("Chinese")
    MATH = "math", _("Mathematics")
    ENGLISH = "english", _("English")
    PHYSICS = "physics", _("Physics")
    CHEMISTRY = "chemistry", _("Chemistry")
    BIOLOGY = "biology", _("Biology")
    MORALITY_LAW = "morality_law", _("Morality and law")
    HISTORY = "history", _("History")
    GEOGRAPHY = "geography", _("Geography")
    SCIENCE = "science", _("Science")
    MUSIC = "music", _("Music")
    ART = "art", _("Art")
    PE = "pe", _("Physical education")
    IT = "it", _("Information technology")
    PSYCHOLOGY = "psychology", _("Mental health")
    LABOUR = "labour", _("Labour education")
    COMPREHENSIVE = "comprehensive", _("Comprehensive practice")
    MANAGEMENT = "management", _("School management")
    OTHER = "other", _("Other")


class Teacher(models.Model):
    class Gender(models.TextChoices):
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    class Title(models.TextChoices):
        NONE = "none", _("No title")
        SECOND = "second", _("Second-grade teacher")
        FIRST = "first", _("First-grade teacher")
        SENIOR = "senior", _("Senior teacher")
        FULL_SENIOR = "full_senior", _("Full senior teacher")

    Subject = Subject

    school = models.ForeignKey(School, models.PROTECT, related_name="teacher_records", verbose_name=_("school"))
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    subject = models.CharField(_("subject"), max_length=16, choices=Subject.choices)
    title = models.CharField(_("professional title"), max_length=16, choices=Title.choices, default=Title.NONE)
    years_of_service = models.PositiveSmallIntegerField(_("years of service"), default=0)
    is_key_teacher = models.BooleanField(_("key teacher"), default=False)
    active = models.BooleanField(_("active"), default=True)

    objects = TeacherQuerySet.as_manager()
    scope = Scope(county="school__county", schools=("school",), owners=("school",))

    class Meta:
        verbose_name = _("teacher")
        verbose_name_plural = _("teachers")
        ordering = ["school", "name"]
        indexes = [models.Index(fields=["school", "subject"])]

    def __str__(self) -> str:
        return self.name


class Exchange(models.Model):
    """A teacher working at other schools for a while (a posting) or once (an event).

    The rules that need other rows (hosts, the cross-alliance flag) live in ``services``; the
    no-overlap rule is checked in ``clean()`` and held by an exclusion constraint on PostgreSQL
    (migration 0002)."""

    class Kind(models.TextChoices):
        DISPATCHED = "dispatched", _("Dispatched teaching")
        SHADOWING = "shadowing", _("Shadowing")
        ROTATION = "rotation", _("Rotation")
        ITINERANT = "itinerant", _("Itinerant teaching")
        POSTING = "posting", _("Leadership posting")
        SUBSTITUTE = "substitute", _("Substitute teaching")
        LESSON_DELIVERY = "lesson_delivery", _("Lesson delivery")
        ONLINE = "online", _("Online / synchronous teaching")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        APPROVED = "approved", _("Approved")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    # The vocabulary is ``staffing.querysets``'s (one place for the app and the evaluation).
    # One-off events: they take no posting slot and may last a single day.
    EVENT_KINDS = tuple(map(Kind, EVENT_EXCHANGE_KINDS))
    # Kinds that move a teacher (the rotation indicator).
    ROTATION_KINDS = tuple(map(Kind, ROTATION_KINDS))
    # Kinds that may name several host schools.
    MULTI_HOST_KINDS = (Kind.ITINERANT,)
    # Statuses that hold the teacher's calendar.
    BLOCKING_STATUSES = tuple(map(Status, BLOCKING_EXCHANGE_STATUSES))
    # Statuses whose days count as work done (teacher-days).
    COUNTED_STATUSES = tuple(map(Status, COUNTED_EXCHANGE_STATUSES))

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    teacher = models.ForeignKey(Teacher, models.PROTECT, related_name="exchanges", verbose_name=_("teacher"))
    origin_school = models.ForeignKey(
        School, models.PROTECT, related_name="exchanges_out", verbose_name=_("origin school")
    )
    host_schools = models.ManyToManyField(
        School, through="ExchangeHost", related_name="exchanges_in", verbose_name=_("host schools")
    )
    subject = models.CharField(_("subject"), max_length=16, choices=Subject.choices, blank=True)
    class_count = models.PositiveSmallIntegerField(_("number of classes"), default=0)
    classes = models.CharField(_("classes"), max_length=200, blank=True, help_text=_("e.g. 三(1)班, 三(2)班"))
    weekly_periods = models.PositiveSmallIntegerField(_("weekly periods"), default=0)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    cross_alliance = models.BooleanField(
        _("cross-alliance"),
        default=False,
        editable=False,
        help_text=_("The origin school and a host school share no alliance in this school year."),
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("logged by")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("approved by")
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    # Set by ``services`` when a host is of another county: the cross-county programme that
    # pairs the origin with it (a stationed cadre, 挂职干部, is a leadership posting so hosted).
    # Its two bureaus share the exchange; the teacher stays recorded at the home school.
    programme = models.ForeignKey(
        Programme,
        models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="exchanges",
        verbose_name=_("programme"),
    )

    objects = ExchangeQuerySet.as_manager()
    scope = Scope(
        county="origin_school__county",
        counties=("programme__helper_county", "programme__helped_county"),
        schools=("origin_school", "hosts__school"),
        owners=("origin_school",),
    )

    class Meta:
        verbose_name = _("exchange")
        verbose_name_plural = _("exchanges")
        ordering = ["-start_date", "teacher__name"]
        indexes = [models.Index(fields=["teacher", "start_date"]), models.Index(fields=["status", "start_date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="exchange_end_not_before_start",
                violation_error_message=_("The end date may not be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(class_count__gte=0) & Q(weekly_periods__gte=0),
                name="exchange_counts_not_negative",
                violation_error_message=_("Class count and weekly periods may not be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher} · {self.get_kind_display()} · {self.start_date}"

    @property
    def is_event(self) -> bool:
        return self.kind in self.EVENT_KINDS

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors.setdefault("end_date", []).append(_("The end date may not be before the start date."))
        teacher = self.teacher if self.teacher_id else None
        if teacher is not None and not teacher.active:
            errors.setdefault("teacher", []).append(_("The teacher is not active."))
        if self.origin_school_id:
            if not self.origin_school.active:
                errors.setdefault("origin_school", []).append(_("The school is not active."))
            if teacher is not None and teacher.school_id != self.origin_school_id:
                errors.setdefault("teacher", []).append(_("The teacher does not belong to the origin school."))
        if not errors and teacher is not None:
            clash = self.overlapping_posting()
            if clash is not None:
                errors.setdefault("start_date", []).append(
                    _("This teacher already has another exchange in this period: %(other)s to %(end)s.")
                    % {"other": f"{clash.get_kind_display()} {clash.start_date}", "end": clash.end_date}
                )
        if errors:
            raise ValidationError(errors)

    def overlapping_posting(self) -> Exchange | None:
        """Another posting of the same teacher over these dates (the exclusion constraint's rule)."""
        if self.kind in self.EVENT_KINDS or self.status not in self.BLOCKING_STATUSES:
            return None
        if not (self.start_date and self.end_date and self.teacher_id):
            return None
        return (
            Exchange.objects.filter(teacher_id=self.teacher_id)
            .blocking()
            .overlapping(self.start_date, self.end_date)
            .exclude(pk=self.pk)
            .order_by("start_date")
            .first()
        )


class ExchangeHost(models.Model):
    """A host school of an exchange; 走教 (itinerant teaching) has several."""

    exchange = models.ForeignKey(Exchange, models.CASCADE, related_name="hosts", verbose_name=_("exchange"))
    school = models.ForeignKey(School, models.PROTECT, related_name="exchange_hosts", verbose_name=_("host school"))

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        county="exchange__origin_school__county",
        counties=("exchange__programme__helper_county", "exchange__programme__helped_county"),
        schools=("exchange__origin_school", "school"),
        owners=("exchange__origin_school",),
    )

    class Meta:
        verbose_name = _("host school")
        verbose_name_plural = _("host schools")
        ordering = ["exchange", "school__code"]
        constraints = [models.UniqueConstraint(fields=["exchange", "school"], name="exchange_host_unique")]

    def __str__(self) -> str:
        return str(self.school)


class MentorPair(models.Model):
    """青蓝结对 / 师徒结对: an experienced mentor and a young teacher, often of another school."""

    mentor = models.ForeignKey(Teacher, models.PROTECT, related_name="mentoring_pairs", verbose_name=_("mentor"))
    mentee = models.ForeignKey(Teacher, models.PROTECT, related_name="mentored_pairs", verbose_name=_("mentee"))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    goals = models.TextField(_("goals"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        county="mentor__school__county",
        schools=("mentor__school", "mentee__school"),
        owners=("mentor__school", "mentee__school"),
    )

    class Meta:
        verbose_name = _("mentoring pair")
        verbose_name_plural = _("mentoring pairs")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(mentor=F("mentee")),
                name="mentor_pair_two_teachers",
                violation_error_message=_("A teacher cannot mentor themselves."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="mentor_pair_end_not_before_start",
                violation_error_message=_("The end date may not be before the start date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mentor} → {self.mentee}"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = [_("The end date may not be before the start date.")]
        if self.mentor_id and self.mentor_id == self.mentee_id:
            errors["mentee"] = [_("A teacher cannot mentor themselves.")]
        if self.mentor_id and self.mentee_id and self.mentor.school.county_id != self.mentee.school.county_id:
            errors.setdefault("mentee", []).append(_("The two teachers belong to different counties."))
        for field in ("mentor", "mentee"):
            if getattr(self, f"{field}_id") and not getattr(self, field).active:
                errors.setdefault(field, []).append(_("The teacher is not active."))
        if errors:
            raise ValidationError(errors)


class MentorMeeting(models.Model):
    class Kind(models.TextChoices):
        LESSON_PREPARATION = "lesson_preparation", _("Joint lesson preparation")
        OBSERVATION = "observation", _("Lesson observation")
        DEMONSTRATION = "demonstration", _("Demonstration lesson")
        REVIEW = "review", _("Review")
        OTHER = "other", _("Other")

    pair = models.ForeignKey(MentorPair, models.CASCADE, related_name="meetings", verbose_name=_("mentoring pair"))
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    notes = models.TextField(_("notes"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        county="pair__mentor__school__county",
        schools=("pair__mentor__school", "pair__mentee__school"),
        owners=("pair__mentor__school", "pair__mentee__school"),
    )

    class Meta:
        verbose_name = _("mentoring meeting")
        verbose_name_plural = _("mentoring meetings")
        ordering = ["pair", "-date"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"

    def clean(self) -> None:
        if not (self.pair_id and self.date):
            return
        pair = self.pair
        if self.date < pair.start_date or (pair.end_date and self.date > pair.end_date):
            raise ValidationError({"date": _("The meeting date lies outside the pair's dates.")})


class Activity(models.Model):
    class Kind(models.TextChoices):
        TEACHING_RESEARCH = "teaching_research", _("Teaching research")
        TRAINING = "training", _("Training")
        VISIT = "visit", _("Visit / needs survey")
        TERM_MEETING = "term_meeting", _("Term meeting")
        DONATION = "donation", _("Donation")
        RESOURCE_SHARING = "resource_sharing", _("Resource sharing")
        CULTURE_SPORTS = "culture_sports", _("Cultural or sports event")
        ONLINE_LESSON = "online_lesson", _("Online lesson")
        SUPERVISION_VISIT = "supervision_visit", _("Supervision visit")
        QUARTERLY_SUPERVISION_MEETING = "quarterly_supervision_meeting", _("Quarterly supervision feedback meeting")
        PROGRAMME_TERM_MEETING = Programme.TERM_MEETING_KIND, _("Programme term meeting")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    date = models.DateField(_("date"))
    host_school = models.ForeignKey(
        School, models.PROTECT, related_name="activities_hosted", verbose_name=_("organising school")
    )
    schools = models.ManyToManyField(School, blank=True, related_name="activities", verbose_name=_("schools involved"))
    title = models.CharField(_("title"), max_length=200)
    participants = models.TextField(_("participants"), blank=True)
    person_times = models.PositiveIntegerField(_("person-times"), default=0)
    description = models.TextField(_("description"), blank=True)
    donation_amount = models.DecimalField(_("donated amount (CNY)"), **MONEY, null=True, blank=True)
    goods_description = models.CharField(_("donated goods"), max_length=200, blank=True)
    goods_count = models.PositiveIntegerField(_("number of goods"), null=True, blank=True)
    goods_value = models.DecimalField(_("value of goods (CNY)"), **MONEY, null=True, blank=True)
    resource_count = models.PositiveIntegerField(_("resources shared"), null=True, blank=True)
    # A programme's own activity (its term meeting): both its bureaus share it, and schools of
    # both its counties may take part.
    programme = models.ForeignKey(
        Programme, models.PROTECT, null=True, blank=True, related_name="activities", verbose_name=_("programme")
    )

    objects = ActivityQuerySet.as_manager()
    scope = Scope(
        county="host_school__county",
        counties=("programme__helper_county", "programme__helped_county"),
        schools=("host_school", "schools"),
        owners=("host_school",),
    )

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-date", "title"]
        indexes = [
            models.Index(fields=["host_school", "date"]),
            models.Index(fields=["kind", "date"]),
            # the evaluation's metrics: one kind of activity of a county's schools in a period
            models.Index(fields=["host_school", "kind", "date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(donation_amount__isnull=True) | Q(donation_amount__gte=0))
                & (Q(goods_value__isnull=True) | Q(goods_value__gte=0)),
                name="activity_amounts_not_negative",
                violation_error_message=_("Amounts may not be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.title}"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.host_school_id and not self.host_school.active:
            errors["host_school"] = [_("The school is not active.")]
        for field in ("donation_amount", "goods_value"):
            value = getattr(self, field)
            if value is not None and value < 0:
                errors[field] = [_("Amounts may not be negative.")]
        if self.kind == self.Kind.PROGRAMME_TERM_MEETING and not self.programme_id:
            errors.setdefault("programme", []).append(_("A programme term meeting names its programme."))
        programme = self.programme if self.programme_id else None
        if programme is not None and self.host_school_id and self.host_school.county_id not in programme.county_ids:
            errors.setdefault("programme", []).append(
                _("The organising school is of neither of the programme's counties.")
            )
        if self.kind == self.Kind.DONATION and not (self.donation_amount or self.goods_description):
            errors.setdefault("donation_amount", []).append(_("A donation records an amount or the goods given."))
        if errors:
            raise ValidationError(errors)


class ActivityAttachment(models.Model):
    """Photos, sign-in sheets, receipts."""

    activity = models.ForeignKey(Activity, models.CASCADE, related_name="attachments", verbose_name=_("activity"))
    file = ProtectedFileField(_("file"), upload_to=UploadTo("activities"))
    caption = models.CharField(_("caption"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        county="activity__host_school__county",
        counties=("activity__programme__helper_county", "activity__programme__helped_county"),
        schools=("activity__host_school", "activity__schools"),
        owners=("activity__host_school",),
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["activity", "pk"]

    def __str__(self) -> str:
        return self.caption or self.file.name or ""


class SupervisionVisit(models.Model):
    """A responsible supervisor's (责任督学's) visit to one of its assigned schools (seed 004)."""

    class Form(models.TextChoices):
        CAMPUS_TOUR = "campus_tour", _("Campus tour")
        REPORTS = "reports", _("Reports heard")
        LESSON_OBSERVATION = "lesson_observation", _("Unannounced lesson observation")
        TALKS = "talks", _("Talks with teachers and students")
        DOCUMENTS = "documents", _("Document review")

    school = models.ForeignKey(School, models.PROTECT, related_name="supervision_visits", verbose_name=_("school"))
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="supervision_visits", verbose_name=_("supervisor")
    )
    date = models.DateField(_("date"))
    forms = ArrayField(
        models.CharField(max_length=24, choices=Form.choices), verbose_name=_("forms"), default=list, blank=True
    )
    findings = models.TextField(_("findings"), blank=True)
    created_at = models.DateTimeField(pgettext_lazy("supervision", "created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    # The school reads its visits; the bureau and the school's assigned supervisors write them.
    scope = Scope(county="school__county", schools=("school",), assessed=("school",))

    class Meta:
        verbose_name = _("supervision visit")
        verbose_name_plural = _("supervision visits")
        ordering = ["-date", "school__code"]
        indexes = [models.Index(fields=["school", "date"])]

    def __str__(self) -> str:
        return f"{self.school} · {self.date}"

    def clean(self) -> None:
        bad = [f for f in (self.forms or []) if f not in self.Form.values]
        if bad:
            raise ValidationError({"forms": _("Unknown forms of visit: %(forms)s") % {"forms": ", ".join(bad)}})
        if self.school_id and not self.school.active:
            raise ValidationError({"school": _("The school is not active.")})


class Rectification(models.Model):
    """A rectification item (整改) of a visit: the school's principal answers, the supervisor closes."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("supervision", "Open")
        ANSWERED = "answered", pgettext_lazy("supervision", "Answered")
        CLOSED = "closed", pgettext_lazy("supervision", "Closed")

    visit = models.ForeignKey(
        SupervisionVisit, models.CASCADE, related_name="rectifications", verbose_name=_("supervision visit")
    )
    item = models.TextField(_("rectification item"))
    due_date = models.DateField(pgettext_lazy("supervision", "due date"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(pgettext_lazy("supervision", "answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=pgettext_lazy("supervision", "answered by"),
    )
    closed_at = models.DateTimeField(pgettext_lazy("supervision", "closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=pgettext_lazy("supervision", "closed by"),
    )

    objects = ScopedQuerySet.as_manager()
    # The principal's answer is an action of its own (services.rectification_answer), not a change.
    scope = Scope(county="visit__school__county", schools=("visit__school",), assessed=("visit__school",))

    class Meta:
        verbose_name = _("rectification item")
        verbose_name_plural = _("rectification items")
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.item[:50]

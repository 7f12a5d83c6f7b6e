from __future__ import annotations

from typing import Any, TypeAlias

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from .access import Scope, Via
from .querysets import AllianceQuerySet, SchoolQuerySet, ScopedQuerySet
from .uploads import ProtectedFileField, UploadTo


class County(models.Model):
    code = models.CharField(_("code"), max_length=12, unique=True, help_text=_("Administrative division code"))
    name = models.CharField(_("name"), max_length=100)
    province = models.CharField(_("province"), max_length=50, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="pk", county_wide=True)

    class Meta:
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    class Stage(models.TextChoices):
        PRIMARY = "primary", _("Primary school")
        JUNIOR = "junior", _("Junior middle school")
        NINE_YEAR = "nine_year", _("Nine-year school")
        COMPLETE = "complete", _("Complete middle school")
        SENIOR = "senior", _("Senior high school")

    class Location(models.TextChoices):
        URBAN = "urban", _("Urban")
        TOWNSHIP = "township", _("Township")
        RURAL = "rural", _("Rural")

    class Strength(models.TextChoices):
        STRONG = "strong", _("High-quality")
        WEAK = "weak", _("Weak")
        NEW = "new", _("Newly built")

    county = models.ForeignKey(County, models.PROTECT, related_name="schools", verbose_name=_("county"))
    code = models.CharField(_("school code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    location = models.CharField(_("location"), max_length=16, choices=Location.choices)
    strength = models.CharField(_("strength class"), max_length=16, choices=Strength.choices)
    students = models.PositiveIntegerField(_("number of students"), default=0, validators=[MinValueValidator(0)])
    teachers = models.PositiveIntegerField(_("number of teachers"), default=0, validators=[MinValueValidator(0)])
    classes = models.PositiveIntegerField(_("number of classes"), default=0, validators=[MinValueValidator(0)])
    active = models.BooleanField(_("active"), default=True)

    objects = SchoolQuerySet.as_manager()
    scope = Scope(county="county", schools=("pk",))

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["county", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "code"],
                name="school_code_unique_in_county",
                violation_error_message=_("A school with this code already exists in the county."),
            ),
            models.CheckConstraint(
                condition=Q(students__gte=0) & Q(teachers__gte=0) & Q(classes__gte=0),
                name="school_headcounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SchoolYear(models.Model):
    """A school year (学年), September to July, per county; named by the year it starts."""

    county = models.ForeignKey(County, models.PROTECT, related_name="school_years", verbose_name=_("county"))
    start_year = models.PositiveSmallIntegerField(_("start year"))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="county", county_wide=True)

    class Meta:
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        ordering = ["county", "-start_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "start_year"],
                name="school_year_unique_in_county",
                violation_error_message=_("This school year already exists in the county."),
            ),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="school_year_end_after_start"),
        ]

    def __str__(self) -> str:
        return _("%(start)s–%(end)s school year") % {"start": self.start_year, "end": self.start_year + 1}

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": _("The end date must be after the start date.")})


class Term(models.Model):
    school_year = models.ForeignKey(SchoolYear, models.CASCADE, related_name="terms", verbose_name=_("school year"))
    number = models.PositiveSmallIntegerField(_("term"), choices=[(1, _("First term")), (2, _("Second term"))])
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="school_year__county", county_wide=True)

    class Meta:
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        ordering = ["school_year", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_year", "number"],
                name="term_unique_in_year",
                violation_error_message=_("This term already exists in the school year."),
            ),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="term_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.school_year} {self.get_number_display()}"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": _("The end date must be after the start date.")})


class Alliance(models.Model):
    class Kind(models.TextChoices):
        PAIRED = "paired", _("Paired alliance")
        COMMUNITY = "community", _("Education community")
        GROUP = "group", _("Education group")
        TRUSTEESHIP = "trusteeship", _("Trusteeship")
        AREA = "area", _("Area alliance")
        CROSS_REGION = "cross_region", _("Cross-region pairing")

    school_year = models.ForeignKey(SchoolYear, models.PROTECT, related_name="alliances", verbose_name=_("school year"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    schools = models.ManyToManyField(School, through="Membership", related_name="alliances", verbose_name=_("schools"))

    objects = AllianceQuerySet.as_manager()
    scope = Scope(county="school_year__county", schools=("memberships__school",))

    class Meta:
        verbose_name = _("alliance")
        verbose_name_plural = _("alliances")
        ordering = ["school_year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_year", "name"],
                name="alliance_name_unique_in_year",
                violation_error_message=_("An alliance of this name already exists in the school year."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.pk:
            before = Alliance.objects.filter(pk=self.pk).values("kind", "school_year_id").first()
            changed = before and (before["kind"], before["school_year_id"]) != (self.kind, self.school_year_id)
            if changed and self.memberships.exists():
                raise ValidationError(
                    _("An alliance with members keeps its kind and school year; form a new alliance instead.")
                )

    @property
    def county_id(self) -> int:
        return self.school_year.county_id

    @property
    def lead_membership(self) -> Membership | None:
        return next((m for m in self.memberships.all() if m.role == Membership.Role.LEAD), None)


class Membership(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("Lead / core school")
        MEMBER = "member", _("Member school")

    alliance = models.ForeignKey(Alliance, models.CASCADE, related_name="memberships", verbose_name=_("alliance"))
    school = models.ForeignKey(School, models.PROTECT, related_name="memberships", verbose_name=_("school"))
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    # Copied from the alliance (an alliance's kind and year are fixed once it has members) so
    # that the database itself can refuse a school in two alliances of a kind in one year.
    school_year = models.ForeignKey(SchoolYear, models.PROTECT, related_name="+", editable=False)
    kind = models.CharField(max_length=16, choices=Alliance.Kind.choices, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(county="alliance__school_year__county", schools=("school",))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["alliance", "-role", "school__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "school"],
                name="membership_unique",
                violation_error_message=_("The school is already a member of this alliance."),
            ),
            models.UniqueConstraint(
                fields=["alliance"],
                condition=Q(role="lead"),
                name="membership_one_lead_per_alliance",
                violation_error_message=_("This alliance already has a lead school."),
            ),
            models.UniqueConstraint(
                fields=["school", "school_year", "kind"],
                name="membership_one_alliance_per_kind_and_year",
                violation_error_message=_("The school is already in an alliance of this kind this school year."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alliance} · {self.school} ({self.get_role_display()})"

    def save(self, *args, **kwargs) -> None:
        self.school_year_id = self.alliance.school_year_id
        self.kind = self.alliance.kind
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if not (self.alliance_id and self.school_id):
            return
        alliance, school = self.alliance, self.school
        if school.county_id != alliance.school_year.county_id:
            errors.setdefault("school", []).append(_("The school belongs to another county."))
        if not school.active:
            errors.setdefault("school", []).append(_("The school is not active."))
        others = Membership.objects.exclude(pk=self.pk)
        if self.role == self.Role.LEAD and others.filter(alliance=alliance, role=self.Role.LEAD).exists():
            errors.setdefault("role", []).append(_("This alliance already has a lead school."))
        clash = (
            others.filter(school=school, school_year_id=alliance.school_year_id, kind=alliance.kind)
            .exclude(alliance=alliance)
            .select_related("alliance")
            .first()
        )
        if clash:
            errors.setdefault("school", []).append(
                _("The school is already in %(alliance)s, an alliance of the same kind this school year.")
                % {"alliance": clash.alliance}
            )
        if errors:
            raise ValidationError(errors)


class Programme(models.Model):
    """A cross-county pairing programme (跨区域结对帮扶, seed 002): helper schools of one county
    help schools of another. The two counties' bureaus agreed it (the portal knows no bureau
    above a county, so both are named here); both see and manage its pairings, task lists,
    exchanges and term meetings, while each keeps its own schools, alliances and books."""

    # The activity kind of the programme's term meeting (帮扶例会), one expected each term; the
    # staffing app's ``Activity.Kind`` uses the same value.
    TERM_MEETING_KIND = "programme_term_meeting"

    name = models.CharField(_("name"), max_length=100)
    helper_county = models.ForeignKey(
        County, models.PROTECT, related_name="programmes_helping", verbose_name=_("helper county")
    )
    helped_county = models.ForeignKey(
        County, models.PROTECT, related_name="programmes_helped", verbose_name=_("helped county")
    )
    agreement = models.TextField(_("agreement"), blank=True, help_text=_("What the two bureaus agreed."))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        county="helper_county",
        counties=("helped_county",),
        schools=("pairings__helper_school", "pairings__helped_school"),
    )

    class Meta:
        verbose_name = _("cross-county programme")
        verbose_name_plural = _("cross-county programmes")
        ordering = ["-start_date", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["helper_county", "helped_county", "name"],
                name="programme_name_unique_per_counties",
                violation_error_message=_("A programme of this name already joins these two counties."),
            ),
            models.CheckConstraint(
                condition=~Q(helper_county=F("helped_county")),
                name="programme_two_counties",
                violation_error_message=_("A programme joins two different counties."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="programme_end_after_start",
                violation_error_message=_("The end date may not be before the start date."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.helper_county_id and self.helper_county_id == self.helped_county_id:
            errors["helped_county"] = [_("A programme joins two different counties.")]
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = [_("The end date may not be before the start date.")]
        if errors:
            raise ValidationError(errors)

    @property
    def county_ids(self) -> tuple[int, int]:
        return (self.helper_county_id, self.helped_county_id)


class Pairing(models.Model):
    """A helper school helps a helped school (结对帮扶) inside an alliance of their county, or
    across two counties inside a cross-county programme (exactly one of the two)."""

    class Focus(models.TextChoices):
        MANAGEMENT = "management", _("Management")
        TEACHING_RESEARCH = "teaching_research", _("Teaching and research")
        TEACHERS = "teachers", _("Teachers")
        FUNDS = "funds", _("Funds")

    alliance = models.ForeignKey(
        Alliance, models.CASCADE, null=True, blank=True, related_name="pairings", verbose_name=_("alliance")
    )
    programme = models.ForeignKey(
        Programme, models.CASCADE, null=True, blank=True, related_name="pairings", verbose_name=_("programme")
    )
    helper_school = models.ForeignKey(
        School, models.PROTECT, related_name="pairings_helping", verbose_name=_("helper school")
    )
    helped_school = models.ForeignKey(
        School, models.PROTECT, related_name="pairings_helped", verbose_name=_("helped school")
    )
    agreement_date = models.DateField(_("agreement signed on"), null=True, blank=True)
    agreement_document = ProtectedFileField(_("agreement document"), upload_to=UploadTo("pairings"), blank=True)
    focus_areas = models.JSONField(_("focus areas"), default=list, blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        county="alliance__school_year__county",
        counties=("programme__helper_county", "programme__helped_county"),
        schools=("helper_school", "helped_school"),
    )

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        # By the columns, not the alliance row: the alliance is empty for a programme's pairing, and an
        # outer join may not be locked (the API's versioned update locks the row).
        ordering = ["alliance_id", "programme_id", "helper_school__code", "helped_school__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "helper_school", "helped_school"],
                name="pairing_unique",
                violation_error_message=_("These two schools are already paired in this alliance."),
            ),
            models.UniqueConstraint(
                fields=["programme", "helper_school", "helped_school"],
                name="pairing_unique_in_programme",
                violation_error_message=_("These two schools are already paired in this programme."),
            ),
            models.CheckConstraint(
                condition=Q(alliance__isnull=False, programme__isnull=True)
                | Q(alliance__isnull=True, programme__isnull=False),
                name="pairing_in_alliance_or_programme",
                violation_error_message=_("A pairing belongs either to an alliance or to a programme."),
            ),
            models.CheckConstraint(condition=~Q(helper_school=F("helped_school")), name="pairing_two_schools"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")), name="pairing_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.helper_school} → {self.helped_school}"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = [_("The end date may not be before the start date.")]
        if self.helper_school_id and self.helper_school_id == self.helped_school_id:
            errors["helped_school"] = [_("A school cannot pair with itself.")]
        bad = [f for f in (self.focus_areas or []) if f not in self.Focus.values]
        if not isinstance(self.focus_areas, list) or bad:
            errors["focus_areas"] = [_("Unknown focus areas: %(areas)s") % {"areas": ", ".join(map(str, bad))}]
        if bool(self.alliance_id) == bool(self.programme_id):
            errors.setdefault("alliance", []).append(_("A pairing belongs either to an alliance or to a programme."))
        if self.programme_id:
            from .services import programme_pairing_check

            for field, message in programme_pairing_check(pairing=self).items():
                errors.setdefault(field, []).append(message)
        if self.alliance_id:
            members = set(self.alliance.memberships.values_list("school_id", flat=True))  # type: ignore[union-attr]
            for field in ("helper_school", "helped_school"):
                school_id = getattr(self, f"{field}_id")
                if school_id and school_id not in members:
                    errors.setdefault(field, []).append(_("The school is not a member of this alliance."))
        if errors:
            raise ValidationError(errors)


class PairingTask(models.Model):
    """An item of a pairing's task list (任务清单), tracked each term."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    pairing = models.ForeignKey(Pairing, models.CASCADE, related_name="tasks", verbose_name=_("pairing"))
    title = models.CharField(_("title"), max_length=200)
    # The timetable (时间表、路线图): tasks grouped into milestones, each task with its date.
    milestone = models.CharField(
        _("milestone"), max_length=100, blank=True, help_text=_("The stage of the roadmap the task belongs to.")
    )
    due_date = models.DateField(_("due date"))
    responsible_person = models.CharField(_("responsible person"), max_length=50)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    progress_notes = models.TextField(_("progress notes"), blank=True)
    evidence = ProtectedFileField(_("evidence"), upload_to=UploadTo("pairing-tasks"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        county="pairing__alliance__school_year__county",
        counties=("pairing__programme__helper_county", "pairing__programme__helped_county"),
        schools=("pairing__helper_school", "pairing__helped_school"),
        # The pairing's two schools and the lead school of its alliance report on the task
        # (only its progress: ``services.pairing_task_update``).
        owners=(
            "pairing__helper_school",
            "pairing__helped_school",
            Via("pairing__alliance__memberships__school", pairing__alliance__memberships__role="lead"),
        ),
    )

    class Meta:
        verbose_name = _("pairing task")
        verbose_name_plural = _("pairing tasks")
        ordering = ["pairing", "due_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="done", completed_on__isnull=False) | ~Q(status="done"),
                name="pairing_task_done_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.status == self.Status.DONE and not self.completed_on:
            raise ValidationError({"completed_on": _("A task marked done needs its completion date.")})


class User(AbstractUser):
    """A portal user: belongs to a county; principals to a school; assessors to assigned schools."""

    county = models.ForeignKey(
        County, models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("county")
    )
    school = models.ForeignKey(
        School, models.PROTECT, null=True, blank=True, related_name="principals", verbose_name=_("school")
    )
    assessed_schools = models.ManyToManyField(
        School, blank=True, related_name="assessors", verbose_name=_("assessed schools")
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def clean(self) -> None:
        super().clean()
        if self.school_id and self.county_id and self.school.county_id != self.county_id:  # type: ignore[union-attr]
            raise ValidationError({"school": _("The school belongs to another county.")})
        # Schools assigned earlier stay inside the county the user now belongs to (new
        # assignments are checked as they are made: ``_assessed_schools_in_county``).
        if self.pk and self.county_id and self.assessed_schools.exclude(county_id=self.county_id).exists():
            raise ValidationError({"assessed_schools": _("Every assessed school must be of the user's county.")})


def revoke_logins(user: User) -> None:
    """End every way the user is signed in: API tokens and sessions are deleted, so that a later
    reactivation or the old password brings none of them back."""
    from django.conf import settings
    from django.utils import timezone
    from django.utils.module_loading import import_string
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user=user).delete()
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    if not hasattr(store, "get_model_class"):
        return  # cache-only sessions: the changed password's session hash ends them
    Session = store.get_model_class()
    mine = [
        s.session_key
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(store().decode(s.session_data).get("_auth_user_id")) == str(user.pk)
    ]
    for key in mine:
        store(session_key=key).delete()


@receiver(pre_save, sender=User, dispatch_uid="alliance.user_credentials_changed")
def _note_credentials_change(sender, instance: Any, raw=False, update_fields=None, **kwargs) -> None:
    # ``instance`` is a User; ``_revoke_logins`` is this pair of receivers' own mark on it.
    instance._revoke_logins = False
    if raw or instance.pk is None:
        return
    old = sender._base_manager.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    # Django re-hashing the same password at login (a stronger hasher) saves only the password,
    # with no new raw password set: that is not a change of credentials.
    rehash = update_fields is not None and set(update_fields) == {"password"} and instance._password is None
    password_changed = old["password"] != instance.password and not rehash
    deactivated = old["is_active"] and not instance.is_active
    instance._revoke_logins = password_changed or deactivated


@receiver(post_save, sender=User, dispatch_uid="alliance.user_revoke_logins")
def _revoke_on_credentials_change(sender, instance: Any, raw=False, **kwargs) -> None:
    if getattr(instance, "_revoke_logins", False):
        instance._revoke_logins = False
        revoke_logins(instance)


@receiver(m2m_changed, sender=User.assessed_schools.through, dispatch_uid="alliance.assessed_schools_in_county")
def _assessed_schools_in_county(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """An assessor is assigned schools of its own county only, however the link is made."""
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # school.assessors.add(user, ...)
        outside = User._base_manager.filter(pk__in=pk_set).exclude(county_id=instance.county_id).exists()
    else:
        outside = School._base_manager.filter(pk__in=pk_set).exclude(county_id=instance.county_id).exists()
    if outside:
        raise ValidationError({"assessed_schools": _("Every assessed school must be of the user's county.")})


# For type annotations. Services that write take a logged-in ``User`` (``actor: User``); reads
# that may also serve a request nobody logged in to (the API schema, the login page) take either.
AnyUser: TypeAlias = User | AnonymousUser

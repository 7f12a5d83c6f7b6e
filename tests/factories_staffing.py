"""factory_boy factories for the staffing app."""

import datetime as dt

import factory

from staffing.models import Activity, ActivityAttachment, Exchange, ExchangeHost, MentorMeeting, MentorPair, Teacher

from .factories import SchoolFactory, UserFactory


class TeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Teacher

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"教师{n}")
    gender = Teacher.Gender.FEMALE
    subject = Teacher.Subject.MATH
    title = Teacher.Title.FIRST
    years_of_service = 10


class ExchangeFactory(factory.django.DjangoModelFactory):
    """A planned posting saved directly (no validation): for tests that need rows quickly.
    ``hosts`` takes a list of schools."""

    class Meta:
        model = Exchange
        skip_postgeneration_save = True

    kind = Exchange.Kind.DISPATCHED
    teacher = factory.SubFactory(TeacherFactory)
    origin_school = factory.SelfAttribute("teacher.school")
    subject = factory.SelfAttribute("teacher.subject")
    class_count = 2
    classes = "三(1)班, 三(2)班"
    weekly_periods = 10
    start_date = dt.date(2025, 9, 1)
    end_date = dt.date(2026, 1, 20)
    logged_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def hosts(self, create, extracted, **kwargs):
        for school in extracted or ():
            ExchangeHost.objects.create(exchange=self, school=school)


class MentorPairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MentorPair

    mentor = factory.SubFactory(TeacherFactory, years_of_service=20, title=Teacher.Title.SENIOR)
    mentee = factory.SubFactory(TeacherFactory, years_of_service=2, title=Teacher.Title.NONE)
    start_date = dt.date(2025, 9, 1)
    end_date = dt.date(2026, 7, 15)
    goals = "一年站稳讲台"


class MentorMeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MentorMeeting

    pair = factory.SubFactory(MentorPairFactory)
    date = dt.date(2025, 10, 10)
    kind = MentorMeeting.Kind.OBSERVATION


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity
        skip_postgeneration_save = True

    kind = Activity.Kind.TEACHING_RESEARCH
    date = dt.date(2025, 10, 15)
    host_school = factory.SubFactory(SchoolFactory)
    title = factory.Sequence(lambda n: f"同课异构活动{n}")
    participants = "语文组教师"
    person_times = 30

    @factory.post_generation
    def schools(self, create, extracted, **kwargs):
        if extracted:
            self.schools.set(extracted)


class ActivityAttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivityAttachment

    activity = factory.SubFactory(ActivityFactory)
    file = factory.django.FileField(filename="sign-in.pdf", data=b"%PDF-1.4")
    caption = "签到表"

"""factory_boy factories for the portal's models; each app's section grows with the app."""

import datetime as dt

import factory
from django.contrib.auth.models import Group

from alliance.access import Role
from alliance.models import Alliance, County, Membership, Pairing, PairingTask, School, SchoolYear, Term, User


class CountyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = County
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"3301{n:02d}")
    name = factory.Sequence(lambda n: f"测试县{n}")
    province = "浙江省"


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    county = factory.SubFactory(CountyFactory)
    code = factory.Sequence(lambda n: f"S{n:05d}")
    name = factory.Sequence(lambda n: f"第{n}小学")
    stage = School.Stage.PRIMARY
    location = School.Location.RURAL
    strength = School.Strength.WEAK
    students = 300
    teachers = 30
    classes = 12


class SchoolYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolYear
        django_get_or_create = ("county", "start_year")

    county = factory.SubFactory(CountyFactory)
    start_year = 2025
    start_date = factory.LazyAttribute(lambda o: dt.date(o.start_year, 9, 1))
    end_date = factory.LazyAttribute(lambda o: dt.date(o.start_year + 1, 7, 15))


class TermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Term

    school_year = factory.SubFactory(SchoolYearFactory)
    number = 1
    start_date = factory.LazyAttribute(lambda o: dt.date(o.school_year.start_year, 9, 1))
    end_date = factory.LazyAttribute(lambda o: dt.date(o.school_year.start_year + 1, 1, 20))


class AllianceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alliance

    school_year = factory.SubFactory(SchoolYearFactory)
    kind = Alliance.Kind.PAIRED
    name = factory.Sequence(lambda n: f"第{n}校联体")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    alliance = factory.SubFactory(AllianceFactory)
    school = factory.SubFactory(SchoolFactory, county=factory.SelfAttribute("..alliance.school_year.county"))
    role = Membership.Role.MEMBER


class PairingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pairing

    alliance = factory.SubFactory(AllianceFactory)
    helper_school = factory.SubFactory(SchoolFactory)
    helped_school = factory.SubFactory(SchoolFactory)
    agreement_date = dt.date(2025, 9, 1)
    focus_areas = ["teaching_research"]
    start_date = dt.date(2025, 9, 1)


class PairingTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PairingTask

    pairing = factory.SubFactory(PairingFactory)
    title = factory.Sequence(lambda n: f"任务{n}")
    due_date = dt.date(2025, 12, 31)
    responsible_person = "张老师"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-123")
    is_staff = True
    county = factory.SubFactory(CountyFactory)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get_or_create(name=Role(extracted).value)[0])


def make_alliance(county, lead, members, *, kind=Alliance.Kind.PAIRED, school_year=None, name=None):
    """An alliance with its lead and member schools."""
    school_year = school_year or SchoolYearFactory(county=county)
    alliance = AllianceFactory(school_year=school_year, kind=kind, **({"name": name} if name else {}))
    MembershipFactory(alliance=alliance, school=lead, role=Membership.Role.LEAD)
    for school in members:
        MembershipFactory(alliance=alliance, school=school)
    return alliance

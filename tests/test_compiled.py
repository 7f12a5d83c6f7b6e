"""Compiled queries (alliance.compiled): built and compiled once per shape, run with each
request's values, giving exactly the rows the QuerySet gives, and refusing every query whose
SQL is not the same for all values."""

import datetime as dt
import functools
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connection
from django.db.models import Q, Sum, Value
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import translation
from django.utils.translation import gettext

from alliance import access, compiled
from alliance.access import Role
from alliance.models import Alliance, School, SchoolYear, Term
from evaluation.models import Rubric
from staffing.models import Exchange

from .factories import UserFactory
from .factories_evaluation import make_rubric
from .factories_staffing import ExchangeFactory, TeacherFactory

pytestmark = pytest.mark.django_db

calls = {"n": 0}


@compiled.query(school=int, start=dt.date)
def exchanges_of(user, school, start):
    calls["n"] += 1
    exchanges = Exchange.objects.visible_to(user).filter(Q(origin_school=school) | Q(host_schools=school))
    if start is not None:
        exchanges = exchanges.filter(end_date__gte=start)
    return exchanges.order_by("start_date", "pk").distinct().values("pk", "teacher__name", "start_date", "approved_at")


@compiled.query()
def visible_schools(user):
    return School.objects.visible_to(user).order_by("code").values_list("code", flat=True)


@compiled.query()
def alliances_with_members(user):
    return (
        Alliance.objects.visible_to(user)
        .annotate(students=Coalesce(Sum("memberships__school__students"), 0))
        .order_by("pk")
        .values_list("name", "students")
    )


@compiled.query()
def labelled(user):
    return School.objects.visible_to(user).annotate(label=Value(gettext("Home"))).values_list("label", flat=True)


@compiled.query(school=int)
def inlined(user, school):
    return School.objects.extra(where=[f"id <> {int(school)}"]).values("pk")  # noqa: S610


@compiled.query(start=dt.date)
def shifted(user, start):
    return Term.objects.visible_to(user).filter(start_date__gte=start + dt.timedelta(days=1)).values("pk")


@compiled.query(code=str)
def by_code(user, code):
    return School.objects.visible_to(user).filter(code=code).values_list("name", flat=True)


@compiled.query(name=str)
def named(user, name):
    return School.objects.visible_to(user).filter(name__contains=name).values("pk")


@compiled.query()
def reads(user):
    year = SchoolYear.objects.first()  # a read: its answer would be kept for every request
    return Term.objects.filter(school_year=year).values("pk")


@compiled.query()
def model_rows(user):
    return School.objects.visible_to(user)


@compiled.query()
def school_rows(user):
    return School.objects.filter(pk=user.school_id).values(*compiled.columns(School))


# The review's cases (docs/adr/0011): each would have given wrong rows had it been kept.


@compiled.query(start=dt.date, end=dt.date)
def ten_days_on(user, start, end):
    terms = Term.objects.visible_to(user).filter(start_date__lte=start + dt.timedelta(days=10), end_date__gte=end)
    return terms.values("pk")


@compiled.query(school=int, school_year=int)
def a_thousand_before(user, school, school_year):
    return School.objects.visible_to(user).filter(pk__gte=school - 1000, pk__lte=school_year).values("pk")


@compiled.query(start=dt.date)
def floored(user, start):
    return Term.objects.visible_to(user).filter(start_date__gte=max(start, dt.date(2024, 1, 1))).values("pk")


@compiled.query(start=dt.date)
def ignores(user, start):
    return Term.objects.visible_to(user).values("pk")


@compiled.query()
def staff_see_everything(user):
    return (School.objects.all() if user.is_staff else School.objects.visible_to(user)).values("pk")


@compiled.query(version=int)
def of_version(user, version):
    return Rubric.objects.visible_to(user).filter(version=version).values_list("pk", flat=True)


@compiled.query(version=int)
def from_version(user, version):
    return Rubric.objects.visible_to(user).filter(version__gte=version).values_list("pk", flat=True)


@pytest.fixture
def world(county, lead_school, member_school, other_school, foreign_school, alliance, other_alliance):
    """Exchanges out of, and into, each school of the county, and one of the other county."""
    rows = []
    for n, (origin, hosts) in enumerate(
        [
            (lead_school, [member_school]),
            (member_school, [lead_school]),
            (other_school, [member_school, lead_school]),
            (other_school, []),
            (foreign_school, []),
        ]
    ):
        rows.append(
            ExchangeFactory(
                teacher=TeacherFactory(school=origin, name=f"教师{n}"),
                start_date=dt.date(2025, 9, 1 + n),
                end_date=dt.date(2025, 12, 1 + n),
                hosts=hosts,
                approved_at=dt.datetime(2025, 8, 20 + n, 9, 30, tzinfo=dt.UTC) if n % 2 else None,
            )
        )
    return rows


def _users(county, lead_school, member_school, other_school):
    assessor = UserFactory(username="s", county=county, role=Role.ASSESSOR)
    assessor.assessed_schools.add(member_school)
    return [
        UserFactory(username="b", county=county, role=Role.BUREAU),
        UserFactory(username="a", county=county, role=Role.AUDITOR),
        UserFactory(username="l", county=county, school=lead_school, role=Role.LEAD_PRINCIPAL),
        UserFactory(username="m", county=county, school=member_school, role=Role.MEMBER_PRINCIPAL),
        UserFactory(username="o", county=county, school=other_school, role=Role.MEMBER_PRINCIPAL),
        assessor,
        UserFactory(username="n", county=county),  # no role
        UserFactory(username="root", is_superuser=True, is_staff=True),
    ]


@pytest.fixture
def users(county, lead_school, member_school, other_school):
    return _users(county, lead_school, member_school, other_school)


def test_every_role_gets_the_rows_the_queryset_gives(world, users, school_year, lead_school, member_school):
    for user in users:
        for school in (lead_school, member_school):
            for start in (None, dt.date(2025, 12, 3)):
                expected = list(exchanges_of.build(user, school=school.pk, start=start))
                assert exchanges_of(user, school=school.pk, start=start) == expected, (user.username, school, start)
        assert visible_schools(user) == list(visible_schools.build(user))
        assert alliances_with_members(user) == list(alliances_with_members.build(user))


def test_the_rows_differ_by_user_and_never_carry_another_users_values(world, users, member_school, other_school):
    """The same shape (two member principals) is compiled once; each gets its own school's rows."""
    m, o = users[3], users[4]
    assert visible_schools(m) == [member_school.code]
    assert visible_schools(o) == [other_school.code]
    calls["n"] = 0
    mine = exchanges_of(m, school=member_school.pk, start=None)
    theirs = exchanges_of(o, school=other_school.pk, start=None)
    again = exchanges_of(m, school=member_school.pk, start=None)
    assert calls["n"] <= 2  # built (twice) for the first of the shape only
    assert mine == again and mine != theirs
    assert {r["teacher__name"] for r in mine} == {"教师0", "教师1", "教师2"}
    assert {r["teacher__name"] for r in theirs} == {"教师2", "教师3"}
    # A principal naming another school reads only what the checkpoint lets it read.
    assert exchanges_of(m, school=other_school.pk, start=None) == list(
        exchanges_of.build(m, school=other_school.pk, start=None)
    )


def test_values_and_types_come_back_as_the_orm_converts_them(world, users, member_school):
    bureau = users[0]
    rows = exchanges_of(bureau, school=member_school.pk, start=None)
    assert rows and all(isinstance(r["start_date"], dt.date) for r in rows)
    approved = [r["approved_at"] for r in rows if r["approved_at"] is not None]
    assert approved and all(a.tzinfo is not None for a in approved)
    totals = alliances_with_members(bureau)
    assert totals and all(isinstance(students, int) for _name, students in totals)


def test_a_compiled_query_is_one_statement_the_query_log_sees(world, users, member_school):
    exchanges_of(users[3], school=member_school.pk, start=None)  # compiled
    with CaptureQueriesContext(connection) as queries:
        exchanges_of(users[3], school=member_school.pk, start=None)
    assert len(queries) == 1


def test_an_empty_scope_reads_nothing(world, users, member_school):
    no_role = users[6]
    assert access.role_of(no_role) is None  # (read once per user object, before the count)
    with CaptureQueriesContext(connection) as queries:
        assert exchanges_of(no_role, school=member_school.pk, start=None) == []
        assert visible_schools(no_role) == []
    assert len(queries) == 0


def test_the_language_is_part_of_the_shape(world, users):
    bureau = users[0]
    with translation.override("en"):
        assert set(labelled(bureau)) == {"Home"}
    with translation.override("zh-hans"):
        assert set(labelled(bureau)) == {gettext("Home")} != {"Home"}


def test_a_setting_change_forgets_what_was_compiled(world, users):
    visible_schools(users[0])
    assert compiled._cache
    with override_settings(USE_THOUSAND_SEPARATOR=True):
        assert not compiled._cache


# --- what a compiled query refuses ---------------------------------------------------------


def test_a_value_written_into_the_sql_text_is_refused(users):
    with pytest.raises(ImproperlyConfigured, match="SQL that depends on its values"):
        inlined(users[0], school=1)


def test_a_value_computed_from_another_is_refused(users):
    with pytest.raises(ImproperlyConfigured, match="computed from a value"):
        shifted(users[0], start=dt.date(2025, 9, 1))


def test_a_string_is_a_value_but_a_lookup_that_rewrites_it_is_refused(users, member_school, lead_school):
    assert by_code(users[0], code=member_school.code) == [member_school.name]
    assert by_code(users[0], code=lead_school.code) == [lead_school.name]
    with pytest.raises(ImproperlyConfigured, match="computed from a value"):
        named(users[0], name="小学")


def test_a_builder_with_a_closure_is_refused_as_it_is_defined(member_school):
    school = member_school.pk
    with pytest.raises(ImproperlyConfigured, match="without a closure"):

        @compiled.query()
        def closed_over(user):
            return School.objects.filter(pk=school).values("pk")

    with pytest.raises(ImproperlyConfigured, match="without a closure"):

        @compiled.query()
        def nested(user):  # a function defined per call would also grow the cache per call
            return School.objects.values("pk")


def test_a_value_computed_into_another_values_place_is_refused(users, school_year, lead_school):
    with pytest.raises(ImproperlyConfigured, match="computed from a value"):
        ten_days_on(users[0], start=dt.date(2025, 9, 1), end=dt.date(2025, 9, 11))
    with pytest.raises(ImproperlyConfigured, match="computed from a value"):
        a_thousand_before(users[0], school=lead_school.pk, school_year=school_year.pk)


def test_a_value_decided_on_in_python_or_left_out_is_refused(users):
    with pytest.raises(ImproperlyConfigured):
        floored(users[0], start=dt.date(2025, 10, 1))
    with pytest.raises(ImproperlyConfigured, match="does not pass start on"):
        ignores(users[0], start=dt.date(2025, 10, 1))


def test_a_user_field_outside_the_shape_is_refused(users):
    with pytest.raises(ImproperlyConfigured, match="depends on its values"):
        staff_see_everything(users[3])


def test_a_small_integer_field_compares_with_the_value_as_the_orm_does(users, school_year, bureau_staff):
    first = make_rubric(bureau_staff, school_year)
    second = Rubric.objects.create(county=school_year.county, school_year=school_year, version=2, name="第二版")
    assert (first.version, second.version) == (1, 2)
    bureau = users[0]
    for version in (1, 2, 3, 99, 0, -1, 40_000):
        assert of_version(bureau, version=version) == list(of_version.build(bureau, version=version)), version
        assert from_version(bureau, version=version) == list(from_version.build(bureau, version=version)), version
    assert of_version(bureau, version=1) == [first.pk]
    assert from_version(bureau, version=99) == []


def test_a_query_read_while_building_is_refused(users, school_year):
    with pytest.raises(ImproperlyConfigured, match="read the database while being built"):
        reads(users[0])


def test_model_rows_are_refused(users):
    with pytest.raises(ImproperlyConfigured, match="values"):
        model_rows(users[0])


def test_values_of_the_wrong_kind_or_missing_are_refused(users, member_school):
    with pytest.raises(TypeError, match="school must be a int"):
        exchanges_of(users[0], school=member_school, start=None)
    with pytest.raises(TypeError, match="start must be a date"):
        exchanges_of(users[0], school=member_school.pk, start=dt.datetime(2025, 9, 1, tzinfo=dt.UTC))
    with pytest.raises(TypeError, match="takes the values"):
        exchanges_of(users[0], school=member_school.pk)
    with pytest.raises(ImproperlyConfigured, match="ints, strings, dates and datetimes"):
        compiled.query(amount=Decimal)


def test_an_instance_is_the_row_the_orm_loads(member_school):
    principal = UserFactory(username="p", school=member_school, county=member_school.county, role=Role.MEMBER_PRINCIPAL)
    school = compiled.instance(School, school_rows(principal)[0])
    fresh = School.objects.get(pk=member_school.pk)
    assert school == fresh and school._state.adding is False
    assert all(getattr(school, n) == getattr(fresh, n) for n in compiled.attnames(School))
    partial = compiled.instance(School, {"id": fresh.pk, "name": fresh.name}, fields=("id", "name"))
    assert partial.get_deferred_fields() >= {"code", "students"}


# --- the checkpoint's side: a user's shape and three values are all its SQL depends on -------


def _narrowed(qs, user, *, kind):
    return access.narrow_related(qs, user, kind=kind)


def _checkpoint_sql(how, model, user):
    try:
        return how(model._default_manager.all(), user).values("pk").query.sql_with_params()
    except EmptyResultSet:
        return None


def test_the_checkpoint_depends_on_a_user_only_through_its_shape_and_three_values(users, foreign_school):
    from django.apps import apps

    scoped = [m for m in apps.get_models() if hasattr(m, "scope")]
    assert len(scoped) > 30
    ways = {
        "visible": access.visible,
        "changeable": access.changeable,
        **{kind: functools.partial(_narrowed, kind=kind) for kind in ("write", "county", "partners", "read")},
    }
    stand_ins = {name: -1_950_000_000 - n for n, name in enumerate(access.USER_VALUES)}
    inactive = UserFactory(username="gone", county=users[0].county, role=Role.BUREAU, is_active=False)
    compared = 0
    for user in [*users, inactive, AnonymousUser()]:
        real = access.user_values(user)
        other = access.stand_in(user, stand_ins)
        assert access.scope_shape(other) == access.scope_shape(user)
        for model in scoped:
            for way, how in ways.items():
                mine, theirs = _checkpoint_sql(how, model, user), _checkpoint_sql(how, model, other)
                if mine is None or theirs is None:
                    assert mine == theirs, (user, model, way)
                    continue
                assert theirs[0] == mine[0], (user, model, way)
                by_stand_in = {v: real[k] for k, v in stand_ins.items()}
                assert [by_stand_in.get(p, p) if type(p) is int else p for p in theirs[1]] == list(mine[1])
                compared += 1
    assert compared > 500

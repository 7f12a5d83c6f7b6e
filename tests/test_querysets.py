"""pgtools.querysets: ``AnyOf`` (a filter on thousands of ids) and ``tuples`` (rows fetched at
once, straight from the driver on PostgreSQL) give what the ordinary ORM gives."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db.models import Avg, BigIntegerField, Count, DecimalField, DurationField, F, Sum, Value
from django.db.models.functions import Cast

from alliance import access
from alliance.models import School
from evaluation.models import Rubric
from pgtools.querysets import AnyOf, tuples

from .factories import SchoolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schools(county):
    """70 schools; their ids are consecutive (one sequence, one transaction)."""
    made = [SchoolFactory(county=county, students=100 + i) for i in range(70)]
    return sorted(s.pk for s in made)


def picked(ids):
    return set(School.objects.filter(AnyOf("pk", ids)).values_list("pk", flat=True))


def test_any_of_picks_exactly_the_ids_whatever_their_shape(schools):
    every_other = schools[::2]  # 35 runs of one id: more than MAX_RUNS, the array form
    assert len(every_other) > AnyOf.MAX_RUNS
    two_runs = schools[:10] + schools[20:30]
    for ids in (schools, schools[5:40], two_runs, every_other, [schools[3]], [*reversed(two_runs), *two_runs]):
        assert picked(ids) == set(ids)
    assert picked([]) == set()
    # ids of no school pick nothing more
    assert picked([*schools[:3], schools[-1] + 1000]) == set(schools[:3])


def test_any_of_sends_ranges_for_runs_of_ids_and_a_list_for_scattered_ones(schools):
    runs = str(School.objects.filter(AnyOf("pk", schools[:10] + schools[20:30])).query)
    assert runs.count("BETWEEN") == 2 and "ANY" not in runs
    scattered = str(School.objects.filter(AnyOf("pk", schools[::2])).query)
    assert "= ANY" in scattered


def typed(rows):
    return [[(type(x), x) for x in row] for row in rows]


def test_tuples_give_the_rows_and_types_the_orm_gives(schools, simple_rubric):
    two_days = Value(dt.timedelta(days=2), output_field=DurationField())
    querysets = [
        # plain columns, across a join
        School.objects.order_by("pk").values_list("pk", "code", "county__code", "students"),
        # counts, sums of small integers, of decimals, of durations
        School.objects.values("county_id")
        .annotate(
            n=Count("pk"),
            students=Sum("students"),
            money=Sum(Value(D("1.50"), output_field=DecimalField(max_digits=10, decimal_places=2))),
            days=Sum(two_days),
        )
        .order_by()
        .values_list("county_id", "n", "students", "money", "days"),
        # what the driver gives otherwise than Django: a sum of bigints (numeric), an average
        # (numeric, Django's float) and JSON: these take the ordinary path
        School.objects.values("county_id").annotate(wide=Sum(Cast("students", BigIntegerField()))).values_list("wide"),
        School.objects.values("county_id").annotate(mean=Avg("students")).values_list("mean"),
        Rubric.objects.values_list("pk", "grade_bands"),
        # nothing to fetch
        School.objects.none().values_list("pk"),
    ]
    for qs in querysets:
        assert typed(tuples(qs)) == typed(list(qs))
    assert len(tuples(querysets[0])) == 70
    assert tuples(querysets[1])[0][1:3] == (70, sum(100 + i for i in range(70)))


def test_tuples_keep_only_the_selected_columns_of_a_distinct_query(schools):
    qs = School.objects.order_by("-students").values_list("county_id", flat=False).distinct()
    assert typed(tuples(qs)) == typed(list(qs))
    qs = School.objects.annotate(double=F("students") * 2).order_by("double").values_list("pk").distinct()
    assert typed(tuples(qs)) == typed(list(qs))


def test_readable_schools_of_none_read_nothing_rather_than_failing(principal, member_school, monkeypatch):
    # given a checkpoint whose readable schools are none() for this principal (no such rule today:
    # the compiled subquery must still turn it into an empty list, not an EmptyResultSet 500)
    monkeypatch.setattr(access, "readable_schools", lambda user: School.objects.none())

    # then a scoped list of the principal's own school is empty
    assert list(access.visible(School.objects.filter(pk=member_school.pk), principal)) == []

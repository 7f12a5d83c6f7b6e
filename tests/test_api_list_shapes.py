"""What an API list reads and answers besides its rows' fields (issue 13's speed work):

- a list orders by a related row's id, never by the related model's own ordering (which Django
  expands into joins: ten tables for a page of plan lines), with the row's id last;
- the spending plans' and the rubrics' lists give summaries, a row's own page the rest;
- the ids of a many-to-many relation (an exchange's hosts, an activity's schools) come in id
  order, read from the link table alone, on the list and on the row's page alike;
- the values path's own converters for decimals and datetimes write what DRF's fields write.
"""

from __future__ import annotations

import datetime as dt
import decimal
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from alliance import listing
from evaluation.models import IndicatorValue
from funding.models import PlanLine, SpendingPlan
from tests.factories import SchoolFactory
from tests.factories_evaluation import make_rubric
from tests.factories_staffing import ActivityFactory, ExchangeFactory, TeacherFactory

API = "/api/v1"


def _list_sql(client, url: str, table: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    found = [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert found, f"no query of {table}"
    return found[0]


# --- orderings ---------------------------------------------------------------------------------


def test_a_related_row_in_an_ordering_is_ordered_by_its_id_and_the_rows_id_comes_last():
    assert listing.flat_ordering(PlanLine.objects.all()) == ("plan_id", "school__code", "category", "pk")
    assert listing.flat_ordering(IndicatorValue.objects.all()) == ("period_id", "school_id", "indicator_id", "pk")
    # an explicit order_by is flattened alike; a term on the row's own columns stays as it is
    assert listing.flat_ordering(SpendingPlan.objects.order_by("funding_year", "alliance", "-revision")) == (
        "funding_year_id",
        "alliance_id",
        "-revision",
        "pk",
    )
    assert listing.flat_ordering(SpendingPlan.objects.order_by("-pk")) == ("-pk",)


def test_the_plan_lines_list_joins_no_table_for_its_ordering(api_as, bureau_staff, research_line):
    sql = _list_sql(api_as(bureau_staff), f"{API}/plan-lines/", "funding_planline")
    # before: ORDER BY the plan's funding year's county's code, its school year's start, its
    # alliance's school year's …, each a join
    for table in ("alliance_alliance", "alliance_schoolyear", "alliance_county"):
        assert f'JOIN "{table}"' not in sql, sql
    assert sql.rsplit("ORDER BY", 1)[1].count(",") == 3  # plan, school code, category, id


def test_a_list_can_still_be_ordered_by_a_parameter(api_as, bureau_staff, approved_plan):
    client = api_as(bureau_staff)
    amounts = [line["amount"] for line in client.get(f"{API}/plan-lines/", {"ordering": "-amount"}).json()["results"]]
    assert len(amounts) > 1
    assert amounts == sorted(amounts, key=decimal.Decimal, reverse=True)


# --- summaries ---------------------------------------------------------------------------------


def test_the_plans_list_gives_summaries_and_a_plans_page_its_lines(api_as, bureau_staff, approved_plan):
    client = api_as(bureau_staff)
    (listed,) = [p for p in client.get(f"{API}/spending-plans/").json()["results"] if p["id"] == approved_plan.pk]
    assert "lines" not in listed
    assert listed["total"] == f"{sum(line.amount for line in approved_plan.lines.all()):.2f}"
    detail = client.get(f"{API}/spending-plans/{approved_plan.pk}/").json()
    assert {line["id"] for line in detail["lines"]} == set(approved_plan.lines.values_list("pk", flat=True))
    assert {k: v for k, v in detail.items() if k != "lines"} == listed


def test_the_rubrics_list_gives_summaries_and_a_rubrics_page_its_dimensions(api_as, bureau_staff, school_year):
    rubric = make_rubric(bureau_staff, school_year)
    client = api_as(bureau_staff)
    (listed,) = client.get(f"{API}/evaluation/rubrics/").json()["results"]
    assert "dimensions" not in listed
    detail = client.get(f"{API}/evaluation/rubrics/{rubric.pk}/").json()
    assert [i["code"] for d in detail["dimensions"] for i in d["indicators"]] == ["quality", "care"]
    assert {k: v for k, v in detail.items() if k != "dimensions"} == listed


# --- many-to-many ids --------------------------------------------------------------------------


@pytest.fixture
def late_and_early(county):
    """Two schools whose codes run against their ids."""
    return SchoolFactory(county=county, code="zz-late"), SchoolFactory(county=county, code="aa-early")


def test_an_exchanges_hosts_come_in_id_order_from_the_link_table(
    api_as, bureau_staff, member_school, late_and_early, principal
):
    late, early = late_and_early
    exchange = ExchangeFactory(teacher=TeacherFactory(school=member_school), hosts=[early, late], logged_by=principal)
    client = api_as(bureau_staff)
    sql = _list_sql(client, f"{API}/exchanges/", "staffing_exchange")
    hosts = sql.split("ARRAY(", 1)[1].split(") AS", 1)[0]
    assert '"staffing_exchangehost"' in hosts and '"alliance_school"' not in hosts, hosts
    (listed,) = client.get(f"{API}/exchanges/").json()["results"]
    assert listed["hosts"] == [late.pk, early.pk] == sorted([late.pk, early.pk])
    assert client.get(f"{API}/exchanges/{exchange.pk}/").json()["hosts"] == listed["hosts"]


def test_an_activitys_schools_come_in_id_order_on_the_list_and_its_page(
    api_as, bureau_staff, member_school, late_and_early
):
    late, early = late_and_early
    activity = ActivityFactory(host_school=member_school, schools=[early, late])
    client = api_as(bureau_staff)
    (listed,) = client.get(f"{API}/activities/").json()["results"]
    assert listed["schools"] == [late.pk, early.pk]
    assert client.get(f"{API}/activities/{activity.pk}/").json()["schools"] == listed["schools"]


# --- converters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["0", "1234.5", "-0.005", "0.015", "0.025", "99999999999.99", "1E+3", "12.3456789", "-7"],
)
@pytest.mark.parametrize("rounding", [None, decimal.ROUND_HALF_UP])
def test_the_decimal_converter_writes_what_drfs_decimal_field_writes(value, rounding):
    field = serializers.DecimalField(max_digits=14, decimal_places=2, rounding=rounding)
    convert = listing._decimal_converter(field)
    assert convert is not field.to_representation  # the fast path, not DRF's own
    assert convert(decimal.Decimal(value)) == field.to_representation(decimal.Decimal(value))


def test_the_decimal_converter_refuses_what_drf_refuses():
    field = serializers.DecimalField(max_digits=4, decimal_places=2)
    with pytest.raises(decimal.InvalidOperation):
        field.to_representation(decimal.Decimal("12345.6"))
    with pytest.raises(decimal.InvalidOperation):
        listing._decimal_converter(field)(decimal.Decimal("12345.6"))


def test_a_decimal_field_drf_writes_otherwise_keeps_drfs_own_method():
    for field in (
        serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False),
        serializers.DecimalField(max_digits=5, decimal_places=2, localize=True),
        serializers.DecimalField(max_digits=5, decimal_places=2, normalize_output=True),
        serializers.DecimalField(max_digits=5, decimal_places=None),
    ):
        assert listing._decimal_converter(field) == field.to_representation


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_a_datetime_on_the_values_path_is_written_as_drf_writes_it(zone):
    field = serializers.DateTimeField()
    assert listing._is_plain_datetime(field)
    plan = listing._Plan(IndicatorValue)
    plan.columns.append(listing._Column("entered_at", "entered_at", field))
    plan.order.append(("column", 0))
    value = dt.datetime(2026, 3, 1, 23, 30, 15, 123456, tzinfo=dt.UTC)
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        (row,) = listing.represent_page(plan, [{"pk": 1, "entered_at": value}], None)
        assert row["entered_at"] == field.to_representation(value)
    assert not listing._is_plain_datetime(serializers.DateTimeField(format="%Y-%m-%d"))
    assert not listing._is_plain_datetime(serializers.DateTimeField(default_timezone=dt.UTC))

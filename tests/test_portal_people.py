"""The portal's pages of principals' and teachers' results (seed 003): the list of the results
the user may read (``access.visible_person_results``), filtered by period and by whom it
evaluates, and a result's own page. Access per page and role is in test_portal_access.py."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluation.models import PersonResult

from .factories_staffing import TeacherFactory

pytestmark = pytest.mark.django_db


def signed_in(user, language="zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def listed(response) -> set[int]:
    assert response.status_code == 200, response.content[:300]
    return {int(pk) for pk in re.findall(r'id="person-result-(\d+)"', response.content.decode())}


def ids(**filters) -> set[int]:
    return set(PersonResult.objects.filter(**filters).values_list("pk", flat=True))


def test_a_principal_lists_its_own_result_and_its_schools_teachers(principal, people_proposed, member_school):
    # given the principals' terms and the teachers' year on public notice
    teachers = people_proposed["teachers"]
    # when school A's principal opens the list
    rows = listed(signed_in(principal).get("/people/"))
    # then it sees its own principal results (both terms) and its teacher's, nobody else's
    assert rows == ids(school=member_school, teacher=None) | ids(teacher=teachers["a"])
    assert len(rows) == 3


def test_a_lead_principal_lists_its_alliances_teachers_but_not_their_principals(
    lead_principal, people_proposed, lead_school
):
    teachers = people_proposed["teachers"]
    rows = listed(signed_in(lead_principal).get("/people/"))
    assert rows == ids(school=lead_school, teacher=None) | ids(teacher__in=[teachers["a"], teachers["lead"]])


def test_the_bureau_lists_the_county_and_filters_by_period_and_subject(bureau_staff, auditor, people_proposed):
    first, second = people_proposed["principals"]
    for user in (bureau_staff, auditor):
        client = signed_in(user)
        assert listed(client.get("/people/")) == ids()
        # by whom the period evaluates
        assert listed(client.get("/people/", {"subject": "teacher"})) == ids(subject="teacher")
        assert listed(client.get("/people/", {"subject": "principal"})) == ids(subject="principal")
        # by period (the filter offers the periods of the results the user reads)
        page = client.get("/people/", {"period": second.pk})
        assert listed(page) == ids(period=second)
        assert f'<option value="{first.pk}"' in page.content.decode()


def test_a_filter_out_of_reach_or_malformed_is_refused_in_chinese_and_lists_nothing(
    principal, people_proposed, year_period, other_bureau_staff, other_county
):
    from evaluation import services

    from .factories import SchoolYearFactory

    # a period of the other county, and a schools' period (not a people's one)
    foreign = services.period_create(
        actor=other_bureau_staff, school_year=SchoolYearFactory(county=other_county), subject="teacher"
    )
    client = signed_in(principal)
    for params in ({"period": foreign.pk}, {"period": year_period.pk}, {"period": "abc"}, {"subject": "school"}):
        response = client.get("/people/", params)
        assert response.status_code == 400, params
        page = response.content.decode()
        assert 'class="errorlist"' in page and "选择一个有效的选项" in page, params
        assert not re.findall(r'id="person-result-(\d+)"', page)


def test_a_principals_result_page_shows_totals_dimensions_indicators_and_the_warning(
    principal, people_proposed, member_school
):
    # given school A's principal, fallen from 72 to 56 in the second term
    _first, second = people_proposed["principals"]
    result = PersonResult.objects.get(period=second, school=member_school)
    # when its principal opens its result
    response = signed_in(principal).get(f"/people/{result.pk}/")
    # then the page shows the score and grade, each dimension's subtotal, every indicator's
    # value, rule in words and points, and the decline warning with the scores
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>56.00</strong>" in page and "不合格" in page
    assert "36.00 / 60.00" in page and "20.00 / 40.00" in page  # plan 60 × 60 %, satisfaction band 60
    assert "规划学校发展" in page and "调适外部环境" in page
    assert "下滑预警" in page and "72.00 → 56.00" in page
    indicators = re.findall(r'<li class="indicator" id="indicator-(\w+)">(.*?)</li>', page, re.S)
    assert [code for code, _ in indicators] == ["plan", "satisfaction"]
    plan, satisfaction = (body for _code, body in indicators)
    assert "数值: 60 " in plan and "<strong>36.00</strong> / 60.00" in plan
    assert "按数值比例得分，达到 100 得满分。" in plan  # the target rule in words
    assert "数值: 70 " in satisfaction and "分档计分：≥90：40 分" in satisfaction


def test_a_teachers_result_page_is_read_by_its_schools_principal_and_the_lead(
    principal, lead_principal, other_school_principal, people_proposed
):
    row = PersonResult.objects.get(teacher=people_proposed["teachers"]["a"])
    for user in (principal, lead_principal):
        page = signed_in(user).get(f"/people/{row.pk}/")
        assert page.status_code == 200 and "张老师" in page.content.decode()
    # another school's principal: not found, as if it did not exist
    assert signed_in(other_school_principal).get(f"/people/{row.pk}/").status_code == 404


def test_schools_see_no_result_before_the_proposal(principal, bureau_staff, school_year, member_school):
    from evaluation import services
    from evaluation.compute import compute_periods

    teacher = TeacherFactory(school=member_school)
    rubric = services.rubric_create_default(
        actor=bureau_staff, county=school_year.county, school_year=school_year, subject="teacher"
    )
    period = services.period_create(actor=bureau_staff, school_year=school_year, subject="teacher")
    ethics = rubric.dimensions.get(code="ethics").indicators.get(code="ethics")
    services.indicator_value_set(actor=bureau_staff, period=period, indicator=ethics, teacher=teacher, value=90)
    services.people_write(compute_periods([period]))
    row = PersonResult.objects.get(teacher=teacher)
    # the bureau's working figures: the bureau reads them, the school not yet
    assert listed(signed_in(bureau_staff).get("/people/")) == {row.pk}
    assert listed(signed_in(principal).get("/people/")) == set()
    assert signed_in(principal).get(f"/people/{row.pk}/").status_code == 404


@pytest.mark.parametrize(("who", "home"), [("principal", "/"), ("bureau_staff", "/"), ("auditor", "/reports/")])
def test_each_readers_home_links_the_list(request, who, home):
    page = signed_in(request.getfixturevalue(who)).get(home).content.decode()
    assert 'href="/people/"' in page


def test_the_assessor_reads_no_result_and_has_no_link(assessor, people_proposed):
    client = signed_in(assessor)
    assert 'href="/people/"' not in client.get("/").content.decode()
    assert client.get("/people/").status_code == 403


def test_the_list_and_a_result_page_do_not_grow_with_rows(
    django_assert_max_num_queries, bureau_staff, people_proposed, member_school
):
    from evaluation import services

    client = signed_in(bureau_staff)
    period = people_proposed["teachers_period"]
    row = PersonResult.objects.get(teacher=people_proposed["teachers"]["a"])
    client.get("/people/")
    with CaptureQueriesContext(connection) as listing:
        assert client.get("/people/").status_code == 200
    with CaptureQueriesContext(connection) as detail:
        assert client.get(f"/people/{row.pk}/").status_code == 200
    # when the period has 30 more teachers, each with a result
    ethics = row.rubric.dimensions.get(code="ethics").indicators.get(code="ethics")
    from evaluation.models import EvaluationPeriod

    EvaluationPeriod.objects.filter(pk=period.pk).update(status="open")
    for i in range(30):
        teacher = TeacherFactory(school=member_school, name=f"新教师{i}")
        services.indicator_value_set(actor=bureau_staff, period=period, indicator=ethics, teacher=teacher, value=i)
    services.publication_propose(actor=bureau_staff, period=period)
    total = PersonResult.objects.count()
    assert total >= 36
    # then the list and the page make no more queries than before
    with django_assert_max_num_queries(len(listing)):
        response = client.get("/people/")
    assert len(listed(response)) == total
    with django_assert_max_num_queries(len(detail)):
        assert client.get(f"/people/{row.pk}/").status_code == 200


def test_the_list_pages_by_fifty(bureau_staff, people_proposed, member_school):
    from evaluation import services
    from evaluation.models import EvaluationPeriod

    period = people_proposed["teachers_period"]
    ethics = (
        PersonResult.objects.filter(period=period)
        .first()
        .rubric.dimensions.get(code="ethics")
        .indicators.get(code="ethics")
    )
    EvaluationPeriod.objects.filter(pk=period.pk).update(status="open")
    for i in range(50):
        teacher = TeacherFactory(school=member_school, name=f"教师{i:02d}")
        services.indicator_value_set(actor=bureau_staff, period=period, indicator=ethics, teacher=teacher, value=50)
    services.publication_propose(actor=bureau_staff, period=period)
    client = signed_in(bureau_staff)
    total = PersonResult.objects.filter(period=period).count()
    first = client.get("/people/", {"period": period.pk})
    assert len(listed(first)) == 50
    assert "下一页" in first.content.decode() and "page=2" in first.content.decode()
    second = client.get("/people/", {"period": period.pk, "page": 2})
    assert len(listed(second)) == total - 50
    assert listed(first) | listed(second) == ids(period=period)
    assert f"period={period.pk}&amp;page=1" in second.content.decode()

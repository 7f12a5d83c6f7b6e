"""The notices on a principal's home: an exchange approved, a plan returned, a result proposed,
an appeal answered — read from the rows' own timestamps, in a fixed number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluation import services as evaluation_services
from evaluation.models import Indicator
from funding import services as funding_services
from funding.models import Category, SpendingPlan
from staffing import services as staffing_services

from .factories_staffing import ExchangeFactory, TeacherFactory

pytestmark = pytest.mark.django_db


def home_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/").content.decode()


def test_a_principal_is_told_its_exchange_was_approved(principal, bureau_staff, teacher, lead_school):
    # given an exchange of school A approved by the bureau
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school], logged_by=principal)
    staffing_services.exchange_approve(actor=bureau_staff, exchange=exchange)

    # when its principal opens the home, then the notice is there
    page = home_of(principal)
    assert 'id="notices"' in page
    assert "王老师" in page and "已批准" in page


def test_the_lead_is_told_its_plan_was_returned_with_the_reason(
    lead_principal, principal, bureau_staff, open_year, alliance, member_school
):
    # given the alliance's plan returned by the bureau
    plan = funding_services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    funding_services.plan_line_add(
        actor=lead_principal, plan=plan, school=member_school, category=Category.TRAINING, amount=Decimal("100.00")
    )
    funding_services.spending_plan_submit(actor=lead_principal, plan=plan)
    funding_services.spending_plan_return(actor=bureau_staff, plan=plan, reason="培训经费偏高")
    assert SpendingPlan.objects.get(pk=plan.pk).status == SpendingPlan.Status.RETURNED

    # then the lead's home says so with the reason; a member's home does not
    assert "培训经费偏高" in home_of(lead_principal)
    assert "培训经费偏高" not in home_of(principal)


def test_a_principal_is_told_of_the_proposed_result_and_the_answered_appeal(
    principal, other_school_principal, bureau_staff, proposed, member_school
):
    # given school A's result under notice and its appeal rejected
    appeal = evaluation_services.appeal_file(
        actor=principal, period=proposed, indicator=Indicator.objects.get(code="quality"), reason="分数有误"
    )
    evaluation_services.appeal_reject(actor=bureau_staff, appeal=appeal, decision="数据无误")

    # then its home names both; school B's home names no appeal
    page = home_of(principal)
    assert "公示" in page
    assert "申诉" in page and "驳回" in page
    assert "驳回" not in home_of(other_school_principal)


def test_the_notices_do_not_grow_with_the_rows(principal, bureau_staff, member_school, lead_school):
    client = Client()
    client.force_login(principal)

    def approve(n: int) -> None:
        for _ in range(n):
            teacher = TeacherFactory(school=member_school)
            exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school], logged_by=principal)
            staffing_services.exchange_approve(actor=bureau_staff, exchange=exchange)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        return len(queries)

    approve(1)
    one = count()
    approve(4)
    assert count() == one

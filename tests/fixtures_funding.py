"""Fixtures for the funding tests: a funding year of county X with both alliances funded, the
year opened, and the first alliance's plan approved."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from funding import services
from funding.models import Category, PlanLine

from .factories_funding import FundingYearFactory


@pytest.fixture
def funding_year(school_year, alliance, other_alliance):
    """Draft year, 200,000.00 per school, 70/30, quotas for the four schools of both alliances."""
    return FundingYearFactory(school_year=school_year, county=school_year.county)


@pytest.fixture
def funded_year(funding_year, bureau_staff):
    services.funding_quotas_default(actor=bureau_staff, funding_year=funding_year)
    return funding_year


@pytest.fixture
def open_year(funded_year, bureau_staff):
    """Open: each alliance fund holds 280,000.00, the pool 240,000.00."""
    return services.funding_year_open(actor=bureau_staff, funding_year=funded_year)


@pytest.fixture
def approved_plan(open_year, alliance, lead_principal, bureau_staff, member_school, lead_school):
    """The first alliance's plan: 100,000.00 teaching research at school A, 50,000.00 training
    at the lead school."""
    plan = services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    PlanLine.objects.create(
        plan=plan, school=member_school, category=Category.TEACHING_RESEARCH, amount=Decimal("100000.00")
    )
    PlanLine.objects.create(plan=plan, school=lead_school, category=Category.TRAINING, amount=Decimal("50000.00"))
    services.spending_plan_submit(actor=lead_principal, plan=plan)
    return services.spending_plan_approve(actor=bureau_staff, plan=plan)


@pytest.fixture
def research_line(approved_plan, member_school):
    return approved_plan.lines.get(school=member_school)


@pytest.fixture
def in_year():
    return dt.date(2025, 10, 15)


@pytest.fixture
def books_ok():
    """Run ledger_check after a scenario: call the fixture's result at the end of a test."""

    def check(year=None):
        from io import StringIO

        out = StringIO()
        call_command("ledger_check", *(["--year", str(year)] if year else []), stdout=out)
        assert "OK:" in out.getvalue()
        return out.getvalue()

    return check

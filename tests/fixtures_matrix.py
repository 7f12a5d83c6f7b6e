"""Rows of the later apps for the permission matrix's world (tests/test_permission_matrix.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile

from funding import services as funding
from funding.models import Account, Category, PlanLine
from staffing.models import ActivityAttachment

from .factories import SchoolYearFactory
from .factories_funding import FundingQuotaFactory, FundingYearFactory
from .factories_staffing import (
    ActivityFactory,
    ExchangeFactory,
    MentorMeetingFactory,
    MentorPairFactory,
    TeacherFactory,
)


def extend(w: Any) -> None:
    """Adds each app's A-side and B-side rows to the world."""
    _staffing(w)
    _funding(w)
    _evaluation(w)


def _staffing(w: Any) -> None:
    w.teacher = TeacherFactory(school=w.member_school, name="张老师")
    w.spare_teacher = TeacherFactory(school=w.member_school, name="李老师")
    w.lead_teacher = TeacherFactory(school=w.lead_school, name="王老师")
    w.other_teacher = TeacherFactory(school=w.other_school, name="赵老师")
    w.other_lead_teacher = TeacherFactory(school=w.other_lead_school, name="钱老师")
    w.exchange = ExchangeFactory(teacher=w.teacher, hosts=[w.lead_school], logged_by=w.principal, kind="shadowing")
    w.other_exchange = ExchangeFactory(teacher=w.other_teacher, hosts=[w.other_lead_school], kind="shadowing")
    w.mentor_pair = MentorPairFactory(mentor=w.lead_teacher, mentee=w.teacher)
    w.other_mentor_pair = MentorPairFactory(mentor=w.other_lead_teacher, mentee=w.other_teacher)
    w.mentor_meeting = MentorMeetingFactory(pair=w.mentor_pair)
    w.other_mentor_meeting = MentorMeetingFactory(pair=w.other_mentor_pair)
    w.activity = ActivityFactory(host_school=w.member_school, date=dt.date(2025, 10, 15))
    w.activity.schools.add(w.lead_school)
    w.other_activity = ActivityFactory(host_school=w.other_school)
    w.attachment = ActivityAttachment.objects.create(
        activity=w.activity, file=ContentFile(b"sign-in", name="sign-in.txt"), caption="签到"
    )
    w.other_attachment = ActivityAttachment.objects.create(
        activity=w.other_activity, file=ContentFile(b"photo", name="photo.txt"), caption="照片"
    )


def _funding(w: Any) -> None:
    bureau = w.users["bureau"]
    # an open year with approved plans for both alliances and one spending record each
    w.open_year = FundingYearFactory(school_year=w.school_year, county=w.county)
    funding.funding_quotas_default(actor=bureau, funding_year=w.open_year)
    funding.funding_year_open(actor=bureau, funding_year=w.open_year)
    w.plan = _approved_plan(w, w.alliance, w.users["lead"], w.member_school)
    w.line = w.plan.lines.get(school=w.member_school)
    other_lead = _user(w, "other_lead", w.other_lead_school)
    w.other_plan = _approved_plan(w, w.other_alliance, other_lead, w.other_school)
    w.other_line = w.other_plan.lines.get(school=w.other_school)
    w.record = funding.spending_record_create(
        actor=w.principal, plan_line=w.line, date=dt.date(2025, 10, 20), amount=Decimal("300.00"), payee="文具店"
    )
    w.other_record = funding.spending_record_create(
        actor=other_lead, plan_line=w.other_line, date=dt.date(2025, 10, 20), amount=Decimal("200.00"), payee="书店"
    )
    w.spending_entry = w.record.ledger_entries.get()
    w.other_spending_entry = w.other_record.ledger_entries.get()
    w.spending_account = Account.objects.get(funding_year=w.open_year, school=w.member_school, kind="school_spending")
    w.other_spending_account = Account.objects.get(
        funding_year=w.open_year, school=w.other_school, kind="school_spending"
    )
    # a draft revision of the first plan, whose lines may still be edited
    w.draft_plan = funding.spending_plan_revise(actor=w.users["lead"], plan=w.plan)
    w.draft_line = w.draft_plan.lines.get(school=w.member_school)
    w.other_draft_plan = funding.spending_plan_revise(actor=other_lead, plan=w.other_plan)
    w.other_draft_line = w.other_draft_plan.lines.get(school=w.other_school)
    # draft years (quotas editable) in both counties, and school years to create more
    w.draft_year = FundingYearFactory(school_year=SchoolYearFactory(county=w.county, start_year=2026), county=w.county)
    w.other_draft_year = FundingYearFactory(school_year=w.other_school_year, county=w.other_county)
    w.school_year_2027 = SchoolYearFactory(county=w.county, start_year=2027)
    w.other_school_year_2026 = SchoolYearFactory(county=w.other_county, start_year=2026)
    w.quota = FundingQuotaFactory(funding_year=w.draft_year, school=w.member_school)
    w.other_quota = FundingQuotaFactory(funding_year=w.draft_year, school=w.other_school)


def _user(w: Any, username: str, school: Any) -> Any:
    from alliance.access import Role

    from .factories import UserFactory

    return UserFactory(username=username, county=w.county, school=school, role=Role.LEAD_PRINCIPAL)


def _approved_plan(w: Any, alliance: Any, lead: Any, member: Any) -> Any:
    plan = funding.spending_plan_create(actor=lead, funding_year=w.open_year, alliance=alliance)
    PlanLine.objects.create(plan=plan, school=member, category=Category.TEACHING_RESEARCH, amount=Decimal("50000.00"))
    funding.spending_plan_submit(actor=lead, plan=plan)
    return funding.spending_plan_approve(actor=w.users["bureau"], plan=plan)


def _evaluation(w: Any) -> None:
    from django.utils import timezone

    from alliance.access import Role
    from evaluation import services as evaluation
    from evaluation.models import AwardPolicy, DeclineWarning, Indicator, Publication

    from .factories import TermFactory, UserFactory
    from .factories_evaluation import enter, make_rubric

    bureau, bureau_y = w.users["bureau"], w.users["bureau_y"]
    w.rubric = make_rubric(bureau, w.school_year)
    w.other_rubric = make_rubric(bureau_y, w.other_school_year)
    w.indicator = Indicator.objects.get(dimension__rubric=w.rubric, code="quality")
    w.indicator_care = Indicator.objects.get(dimension__rubric=w.rubric, code="care")
    w.other_indicator = Indicator.objects.get(dimension__rubric=w.other_rubric, code="quality")
    w.period = evaluation.period_create(actor=bureau, school_year=w.school_year)
    w.other_period = evaluation.period_create(actor=bureau_y, school_year=w.other_school_year)
    for school, score in ((w.lead_school, 95), (w.member_school, 80), (w.other_lead_school, 90), (w.other_school, 70)):
        enter(bureau, w.period, w.rubric, school, quality=score, care=score)
    w.run = evaluation.evaluation_run(county=w.county, start_year=2025)
    w.other_run = evaluation.evaluation_run(county=w.other_county, start_year=2025)
    w.result = w.period.school_results.get(school=w.member_school)
    w.other_result = w.period.school_results.get(school=w.other_school)
    w.alliance_result = w.period.alliance_results.get(alliance=w.alliance)
    w.other_alliance_result = w.period.alliance_results.get(alliance=w.other_alliance)
    # the year's results go on public notice; a term period stays open for new values
    evaluation.publication_propose(actor=bureau, period=w.period)
    w.warning = DeclineWarning.objects.create(period=w.period, school=w.member_school, falls=2, scores=[90, 85, 80])
    w.other_warning = DeclineWarning.objects.create(period=w.period, school=w.other_school, falls=2, scores=[80, 75])
    w.term_2 = TermFactory(school_year=w.school_year, number=2, start_date=dt.date(2026, 2, 20),
                           end_date=dt.date(2026, 7, 10))  # fmt: skip
    w.term_period = evaluation.period_create(actor=bureau, school_year=w.school_year, term=w.term)
    evaluation.indicator_value_set(
        actor=bureau, period=w.term_period, indicator=w.indicator, school=w.member_school, value=81
    )
    evaluation.indicator_value_set(
        actor=bureau, period=w.term_period, indicator=w.indicator, school=w.other_school, value=71
    )
    w.value = w.term_period.values.get(school=w.member_school)
    w.other_value = w.term_period.values.get(school=w.other_school)
    b_principal = UserFactory(username="principal_b_matrix", county=w.county, school=w.other_school,
                              role=Role.MEMBER_PRINCIPAL)  # fmt: skip
    w.appeal = evaluation.appeal_file(actor=w.principal, period=w.period, indicator=w.indicator, reason="数据有误")
    w.other_appeal = evaluation.appeal_file(actor=b_principal, period=w.period, indicator=w.indicator, reason="复核")
    # The policy of a year with nothing proposed yet (the 2025 year was proposed above: its policy is settled).
    w.policy = AwardPolicy.objects.create(county=w.county, school_year=w.draft_year.school_year)
    w.other_policy = AwardPolicy.objects.create(county=w.other_county, school_year=w.other_school_year)
    now = timezone.now()
    w.publication = Publication.objects.create(
        period=w.period, revision=1, proposed_by=bureau, approved_by=w.users["auditor"], approved_at=now
    )
    w.other_publication = Publication.objects.create(
        period=w.other_period, revision=1, proposed_by=bureau_y, approved_by=bureau_y, approved_at=now
    )

"""The permission matrix's world (tests/test_permission_matrix.py, tests/test_admin_scoping.py).

The world is the conftest's county (the same names, codes and users) with an A-side and a B-side
row of every endpoint's model. It is built once per test module, inside a transaction that is
rolled back when the module is done; each test runs in a savepoint of that transaction (its
``db`` fixture), so what one test writes, the next does not see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from alliance.access import Role
from alliance.models import Alliance
from funding import services as funding
from funding.models import Account, Category, PlanLine
from staffing.models import ActivityAttachment, Rectification, SupervisionVisit

from .factories import (
    AllianceFactory,
    CountyFactory,
    PairingFactory,
    PairingTaskFactory,
    SchoolFactory,
    SchoolYearFactory,
    TermFactory,
    UserFactory,
    make_alliance,
)
from .factories_funding import FundingQuotaFactory, FundingYearFactory
from .factories_staffing import (
    ActivityFactory,
    ExchangeFactory,
    MentorMeetingFactory,
    MentorPairFactory,
    TeacherFactory,
)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[SimpleNamespace]:
    """The world, once per module; a test using it also needs the ``db`` fixture (or mark)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            w = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield w
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def build() -> SimpleNamespace:
    w = SimpleNamespace()
    _alliance(w)
    _staffing(w)
    _funding(w)
    _evaluation(w)
    _programmes(w)
    return w


def _alliance(w: Any) -> None:
    # as in tests/conftest.py
    w.county = CountyFactory(code="330100", name="示范县")
    w.other_county = CountyFactory(code="330200", name="邻县")
    w.school_year = SchoolYearFactory(county=w.county, start_year=2025)
    w.lead_school = SchoolFactory(county=w.county, code="L001", name="实验小学", location="urban", strength="strong")
    w.member_school = SchoolFactory(county=w.county, code="M001", name="东山小学")
    w.other_lead_school = SchoolFactory(
        county=w.county, code="L002", name="城南小学", location="urban", strength="strong"
    )
    w.other_school = SchoolFactory(county=w.county, code="M002", name="西岭小学")
    w.alliance = make_alliance(w.county, w.lead_school, [w.member_school], school_year=w.school_year, name="实验校联体")
    w.other_alliance = make_alliance(
        w.county, w.other_lead_school, [w.other_school], school_year=w.school_year, name="城南校联体"
    )
    w.bureau_staff = UserFactory(username="bureau", county=w.county, role=Role.BUREAU)
    w.other_bureau_staff = UserFactory(username="bureau_y", county=w.other_county, role=Role.BUREAU)
    w.lead_principal = UserFactory(username="lead", county=w.county, school=w.lead_school, role=Role.LEAD_PRINCIPAL)
    w.principal = UserFactory(username="principal", county=w.county, school=w.member_school, role=Role.MEMBER_PRINCIPAL)
    w.assessor = UserFactory(username="assessor", county=w.county, role=Role.ASSESSOR)
    w.assessor.assessed_schools.add(w.member_school)
    w.auditor = UserFactory(username="auditor", county=w.county, role=Role.AUDITOR)
    # county Y's auditor: a county-Y account its bureau manages (bureau staff manage no bureau user)
    w.other_auditor = UserFactory(username="auditor_y", county=w.other_county, role=Role.AUDITOR)
    w.users = {
        "bureau": w.bureau_staff,
        "bureau_y": w.other_bureau_staff,
        "lead": w.lead_principal,
        "principal": w.principal,
        "assessor": w.assessor,
        "auditor": w.auditor,
    }
    # the rows of the alliance app
    w.other_school_year = SchoolYearFactory(county=w.other_county, start_year=2025)
    w.term = TermFactory(school_year=w.school_year, number=1)
    w.other_term = TermFactory(school_year=w.other_school_year, number=1)
    w.membership = w.alliance.memberships.get(school=w.member_school)
    w.other_membership = w.other_alliance.memberships.get(school=w.other_school)
    w.spare_alliance = AllianceFactory(school_year=w.school_year, kind=Alliance.Kind.AREA, name="片区联盟")
    w.pairing = PairingFactory(alliance=w.alliance, helper_school=w.lead_school, helped_school=w.member_school)
    w.other_pairing = PairingFactory(
        alliance=w.other_alliance, helper_school=w.other_lead_school, helped_school=w.other_school
    )
    w.task = PairingTaskFactory(pairing=w.pairing, due_date=dt.date(2025, 12, 1))
    w.other_task = PairingTaskFactory(pairing=w.other_pairing, due_date=dt.date(2025, 12, 1))


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
    # the assessor's visit of its school A; the bureau's own visit of school B
    w.visit = SupervisionVisit.objects.create(
        school=w.member_school, supervisor=w.assessor, date=dt.date(2025, 10, 10), forms=["campus_tour"]
    )
    w.other_visit = SupervisionVisit.objects.create(
        school=w.other_school, supervisor=w.bureau_staff, date=dt.date(2025, 10, 12), forms=["documents"]
    )
    w.rectification = Rectification.objects.create(
        visit=w.visit, item="完善校本教研记录", due_date=dt.date(2025, 11, 10)
    )
    w.other_rectification = Rectification.objects.create(
        visit=w.other_visit, item="整改食堂台账", due_date=dt.date(2025, 11, 12)
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
    return UserFactory(username=username, county=w.county, school=school, role=Role.LEAD_PRINCIPAL)


def _approved_plan(w: Any, alliance: Any, lead: Any, member: Any) -> Any:
    plan = funding.spending_plan_create(actor=lead, funding_year=w.open_year, alliance=alliance)
    PlanLine.objects.create(plan=plan, school=member, category=Category.TEACHING_RESEARCH, amount=Decimal("50000.00"))
    funding.spending_plan_submit(actor=lead, plan=plan)
    return funding.spending_plan_approve(actor=w.users["bureau"], plan=plan)


def _evaluation(w: Any) -> None:
    from django.utils import timezone

    from evaluation import services as evaluation
    from evaluation.models import AwardPolicy, DeclineWarning, Indicator, Publication

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
    # a teachers' year (seed 003): a teacher's result at school A and one at school B
    teachers_rubric = evaluation.rubric_create_default(
        actor=bureau, county=w.county, school_year=w.school_year, subject="teacher"
    )
    w.teachers_period = evaluation.period_create(actor=bureau, school_year=w.school_year, subject="teacher")
    ethics = Indicator.objects.get(dimension__rubric=teachers_rubric, code="ethics")
    for teacher, score in ((w.teacher, 90), (w.other_teacher, 80)):
        evaluation.indicator_value_set(
            actor=bureau, period=w.teachers_period, indicator=ethics, teacher=teacher, value=score
        )
    w.run = evaluation.evaluation_run(county=w.county, start_year=2025)
    w.other_run = evaluation.evaluation_run(county=w.other_county, start_year=2025)
    w.result = w.period.school_results.get(school=w.member_school)
    w.other_result = w.period.school_results.get(school=w.other_school)
    w.alliance_result = w.period.alliance_results.get(alliance=w.alliance)
    w.other_alliance_result = w.period.alliance_results.get(alliance=w.other_alliance)
    # the year's results go on public notice; a term period stays open for new values
    evaluation.publication_propose(actor=bureau, period=w.period)
    evaluation.publication_propose(actor=bureau, period=w.teachers_period)
    w.person_result = w.teachers_period.person_results.get(teacher=w.teacher)
    w.other_person_result = w.teachers_period.person_results.get(teacher=w.other_teacher)
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


def _programmes(w: Any) -> None:
    """Cross-county programmes: county Y helps county X (its school Y1 helps school A) and county
    Z (a third county); Y's books hold both programmes' working funds."""
    from alliance import services as alliance_services
    from alliance.models import Programme
    from staffing import services as staffing

    bureau_y = w.users["bureau_y"]
    w.county_z = CountyFactory(code="330300", name="远县")
    w.y_school = SchoolFactory(county=w.other_county, code="Y001", name="邻县一小", location="urban", strength="strong")
    w.z_school = SchoolFactory(county=w.county_z, code="Z001", name="远县小学")
    start = dt.date(2024, 9, 1)
    w.programme = Programme.objects.create(
        name="邻县帮扶示范县", helper_county=w.other_county, helped_county=w.county, start_date=start
    )
    w.other_programme = Programme.objects.create(
        name="邻县帮扶远县", helper_county=w.other_county, helped_county=w.county_z, start_date=start
    )
    w.programme_pairing = alliance_services.programme_pairing_create(
        actor=bureau_y, programme=w.programme, helper_school=w.y_school, helped_school=w.member_school,
        start_date=start,
    )  # fmt: skip
    w.other_programme_pairing = alliance_services.programme_pairing_create(
        actor=bureau_y, programme=w.other_programme, helper_school=w.y_school, helped_school=w.z_school,
        start_date=start,
    )  # fmt: skip
    w.programme_task = alliance_services.pairing_task_create(
        actor=bureau_y, pairing=w.programme_pairing, title="送教到校", milestone="第一阶段",
        due_date=dt.date(2025, 10, 31), responsible_person="王主任",
    )  # fmt: skip
    w.other_programme_task = alliance_services.pairing_task_create(
        actor=bureau_y, pairing=w.other_programme_pairing, title="远程教研", milestone="第一阶段",
        due_date=dt.date(2025, 10, 31), responsible_person="刘主任",
    )  # fmt: skip
    # a stationed cadre (挂职) of Y1 at school A, recorded at its home school; one at Z's school
    w.y_teacher = TeacherFactory(school=w.y_school, name="周校长", subject="management")
    w.programme_exchange = staffing.exchange_create(
        actor=bureau_y, teacher=w.y_teacher, origin_school=w.y_school, host_schools=[w.member_school],
        kind="posting", start_date=dt.date(2025, 9, 1), end_date=dt.date(2026, 1, 20),
    )  # fmt: skip
    w.other_programme_exchange = staffing.exchange_create(
        actor=bureau_y, teacher=w.y_teacher, origin_school=w.y_school, host_schools=[w.z_school],
        kind="lesson_delivery", start_date=dt.date(2025, 11, 5), end_date=dt.date(2025, 11, 5),
    )  # fmt: skip
    w.programme_meeting = staffing.activity_create(
        actor=bureau_y, host_school=w.y_school, schools=[w.member_school], kind="programme_term_meeting",
        programme=w.programme, date=dt.date(2025, 9, 20), title="学期帮扶例会",
    )  # fmt: skip
    # Y's books of the 2024 school year: no quotas, the two programmes' working funds
    w.programme_year = FundingYearFactory(
        school_year=SchoolYearFactory(county=w.other_county, start_year=2024), county=w.other_county
    )
    hundred = Decimal("100000.00")
    w.programme_fund = funding.programme_fund_create(
        actor=bureau_y, funding_year=w.programme_year, programme=w.programme, helper_school=w.y_school, amount=hundred
    )
    w.other_programme_fund = funding.programme_fund_create(
        actor=bureau_y, funding_year=w.programme_year, programme=w.other_programme, helper_school=w.y_school,
        amount=hundred, spend_share=Decimal("0.80"),
    )  # fmt: skip
    funding.funding_year_open(actor=bureau_y, funding_year=w.programme_year)
    w.programme_line = funding.programme_line_create(
        actor=bureau_y, fund=w.programme_fund, helped_school=w.member_school, category=Category.TRAINING,
        amount=Decimal("50000.00"),
    )  # fmt: skip
    w.other_programme_line = funding.programme_line_create(
        actor=bureau_y, fund=w.other_programme_fund, helped_school=w.z_school, category=Category.TRAINING,
        amount=Decimal("40000.00"),
    )  # fmt: skip
    w.programme_spending = funding.programme_spending_create(
        actor=bureau_y, line=w.programme_line, date=dt.date(2024, 10, 20), amount=Decimal("300.00"), payee="书店"
    )
    w.other_programme_spending = funding.programme_spending_create(
        actor=bureau_y, line=w.other_programme_line, date=dt.date(2024, 10, 20), amount=Decimal("200.00"),
        payee="文具店",
    )  # fmt: skip

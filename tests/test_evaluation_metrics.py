"""Every registered metric's value per school, on small hand-built data sets.

The evaluation period is ``year_period``: county X's 2025 school year, 2025-09-01 to
2026-07-15 inclusive. Each metric is called on the period, again on a window whose shared
cache is filled, and on a window of every county at once (as the nightly run batches
counties); all three must give the county's schools the same values. Values
are compared as strings so that the Decimal's exponent (e.g. ``50.0000`` for a percentage)
is checked too. A school missing from a result has no value (the registry's documented
meaning), which is not the same as 0.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from alliance.models import Programme, School, SchoolYear
from evaluation import metrics
from evaluation import services as evaluation
from funding import services as funding
from staffing.models import Rectification, SupervisionVisit

from .factories import (
    MembershipFactory,
    PairingFactory,
    PairingTaskFactory,
    SchoolFactory,
    SchoolYearFactory,
    TermFactory,
    make_alliance,
)
from .factories_staffing import (
    ActivityFactory,
    ExchangeFactory,
    MentorMeetingFactory,
    MentorPairFactory,
    TeacherFactory,
)

D = dt.date


def compute(key, period):
    """The metric's values over the period's county. Computed three ways that must agree: on
    the period, on its window a second time (what the first call left in the window's shared
    cache), and in a window that also holds every other county's schools and its school year
    of the same dates, as the nightly run batches them (a metric is per school: sharing a
    window changes nothing)."""
    bare = metrics.REGISTRY[key](period)
    window = metrics.Window.of(period)
    metrics.REGISTRY[key](window)
    cached = metrics.REGISTRY[key](window)
    assert cached == bare
    everyone = metrics.Window(
        sorted(School.objects.values_list("pk", flat=True)),
        period.start_date,
        period.end_date,
        sorted(SchoolYear.objects.filter(start_year=period.school_year.start_year).values_list("pk", flat=True)),
    )
    batched = metrics.REGISTRY[key](everyone)
    assert {s: v for s, v in batched.items() if s in set(window.school_ids)} == bare
    assert all(isinstance(v, Decimal) for v in bare.values())
    return {school: str(value) for school, value in bare.items()}


def exchange(school, *, start, end, status="approved", kind="dispatched", hosts=(), teacher=None, **kw):
    teacher = teacher or TeacherFactory(school=school, **kw)
    return ExchangeFactory(teacher=teacher, kind=kind, status=status, start_date=start, end_date=end, hosts=list(hosts))


@pytest.fixture
def third_school(county, alliance):
    """A second member school of the first alliance."""
    school = SchoolFactory(county=county, code="M003", name="南湖小学")
    MembershipFactory(alliance=alliance, school=school)
    return school


COVERED = set()


def covers(*keys):
    COVERED.update(keys)
    return lambda fn: fn


# --- exchanges ---------------------------------------------------------------------------


@pytest.fixture
def exchanges(lead_school, member_school, other_school, other_lead_school):
    # sent by the lead school
    exchange(lead_school, start=D(2025, 9, 1), end=D(2025, 9, 30), hosts=[member_school])  # 30 days
    exchange(  # 走教 with two hosts, 10 days
        lead_school,
        kind="itinerant",
        status="active",
        start=D(2025, 10, 1),
        end=D(2025, 10, 10),
        hosts=[member_school, other_school],
    )
    exchange(  # clipped to the period: 2025-09-01..09-10 = 10 days
        lead_school, status="completed", start=D(2025, 8, 1), end=D(2025, 9, 10), hosts=[member_school]
    )
    exchange(lead_school, status="planned", start=D(2025, 11, 1), end=D(2025, 11, 30), hosts=[member_school])
    exchange(lead_school, status="cancelled", start=D(2025, 12, 1), end=D(2025, 12, 31), hosts=[member_school])
    # sent by school A, clipped at the period's end: 2026-07-01..07-15 = 15 days
    exchange(member_school, status="completed", start=D(2026, 7, 1), end=D(2026, 8, 31), hosts=[lead_school])
    # sent by school B before the period: not counted
    exchange(other_school, status="completed", start=D(2025, 3, 1), end=D(2025, 6, 30), hosts=[other_lead_school])


@covers("exchange_days_sent")
def test_exchange_days_sent(year_period, exchanges, lead_school, member_school):
    # when
    values = compute("exchange_days_sent", year_period)
    # then lead: 30 + 10 (走教 counts once for its teacher) + 10 (clipped); planned and
    # cancelled ones not counted; school A: 15 (clipped); school B's exchange is out of the
    # period and the other lead sent nobody: no value
    assert values == {lead_school.pk: "50", member_school.pk: "15"}


@covers("exchange_days_hosted")
def test_exchange_days_hosted(year_period, exchanges, lead_school, member_school, other_school):
    # when
    values = compute("exchange_days_hosted", year_period)
    # then school A: 30 + 10 (走教) + 10 (clipped), not the planned 30 nor the cancelled 31;
    # school B: 10 (the 走教's second host gets its days too); lead: 15 (clipped)
    assert values == {member_school.pk: "50", other_school.pk: "10", lead_school.pk: "15"}


def test_exchange_days_are_clipped_to_a_term_period(bureau_staff, school_year, lead_school, member_school):
    # given a first-term period (2025-09-01 to 2026-01-20) and an exchange across its end
    term = TermFactory(school_year=school_year)
    period = evaluation.period_create(actor=bureau_staff, school_year=school_year, term=term)
    exchange(lead_school, start=D(2026, 1, 11), end=D(2026, 2, 28), hosts=[member_school])
    exchange(lead_school, start=D(2026, 3, 1), end=D(2026, 3, 31), hosts=[member_school])  # second term
    # when / then: 2026-01-11 to 01-20 = 10 days
    assert compute("exchange_days_sent", period) == {lead_school.pk: "10"}
    assert compute("exchange_days_hosted", period) == {member_school.pk: "10"}


@covers("dispatched_teachers")
def test_dispatched_teachers(year_period, lead_school, member_school, other_school):
    # given a lead teacher dispatched twice (counted once), another dispatched teacher, and
    # others who do not count: another kind, cancelled, planned, before the period
    twice = TeacherFactory(school=lead_school)
    exchange(lead_school, teacher=twice, start=D(2025, 9, 1), end=D(2025, 9, 30))
    exchange(lead_school, teacher=twice, status="completed", start=D(2026, 3, 1), end=D(2026, 3, 31))
    exchange(lead_school, status="active", start=D(2025, 10, 1), end=D(2025, 10, 31))
    exchange(lead_school, kind="rotation", start=D(2025, 9, 1), end=D(2025, 12, 31))
    exchange(lead_school, status="cancelled", start=D(2025, 9, 1), end=D(2025, 12, 31))
    exchange(member_school, status="planned", start=D(2025, 9, 1), end=D(2025, 12, 31))
    exchange(member_school, status="completed", start=D(2025, 3, 1), end=D(2025, 6, 30))
    # and school B's teacher overlapping the period's end
    exchange(other_school, status="completed", start=D(2026, 6, 1), end=D(2026, 8, 31))
    # when
    values = compute("dispatched_teachers", year_period)
    # then lead: 2 distinct teachers; school B: 1; school A: none counted, no value
    assert values == {lead_school.pk: "2", other_school.pk: "1"}


@covers("rotation_ratio")
def test_rotation_ratio(year_period, lead_school, member_school, other_school):
    # given lead teachers
    exchange(lead_school, kind="rotation", start=D(2025, 9, 1), end=D(2026, 1, 20), years_of_service=10)  # yes
    exchange(  # exactly six years: eligible, took part (走教)
        lead_school, kind="itinerant", status="completed", start=D(2025, 9, 1), end=D(2025, 12, 31), years_of_service=6
    )
    exchange(  # a one-off 送教 rotates nobody: eligible, did not take part
        lead_school, kind="lesson_delivery", start=D(2025, 10, 9), end=D(2025, 10, 9), years_of_service=8
    )
    exchange(  # cancelled: eligible, did not take part
        lead_school, kind="rotation", status="cancelled", start=D(2025, 9, 1), end=D(2026, 1, 20), years_of_service=12
    )
    exchange(lead_school, kind="rotation", start=D(2025, 9, 1), end=D(2026, 1, 20), years_of_service=5)  # not eligible
    exchange(  # inactive: not eligible
        lead_school, kind="rotation", start=D(2025, 9, 1), end=D(2026, 1, 20), years_of_service=20, active=False
    )
    exchange(  # before the period: eligible, did not take part
        lead_school, kind="rotation", status="completed", start=D(2025, 3, 1), end=D(2025, 6, 30), years_of_service=9
    )
    TeacherFactory(school=lead_school, years_of_service=7)  # eligible, no exchange
    # and school A: one teacher with two rotations (counted once), one without
    twice = TeacherFactory(school=member_school, years_of_service=10)
    exchange(member_school, teacher=twice, kind="rotation", start=D(2025, 9, 1), end=D(2025, 9, 30))
    exchange(member_school, teacher=twice, kind="rotation", status="completed", start=D(2026, 3, 1), end=D(2026, 3, 31))
    TeacherFactory(school=member_school, years_of_service=15)
    # and school B: nobody eligible
    exchange(other_school, kind="rotation", start=D(2025, 9, 1), end=D(2026, 1, 20), years_of_service=3)
    # when
    values = compute("rotation_ratio", year_period)
    # then lead: 2 took part ÷ 6 eligible = 33.3333 %; school A: 1 ÷ 2 = 50 %;
    # school B (no eligible teacher) and the other lead (no teacher) have no value
    assert values == {lead_school.pk: "33.3333", member_school.pk: "50.0000"}


# --- activities --------------------------------------------------------------------------


@covers("activities_teaching_research", "activities_training")
def test_activities_count_organisers_and_schools_involved(
    year_period, lead_school, member_school, other_lead_school, other_school, foreign_school
):
    # given teaching-research activities
    ActivityFactory(host_school=lead_school, schools=[lead_school, member_school])  # lead 1, A 1
    ActivityFactory(host_school=lead_school, schools=[member_school, other_school])  # lead 1 (organiser), A 1, B 1
    ActivityFactory(host_school=lead_school)  # lead 1, no school involved
    ActivityFactory(host_school=lead_school, schools=[member_school], date=D(2025, 8, 31))  # before the period
    ActivityFactory(host_school=foreign_school, schools=[foreign_school, member_school])  # another county's
    ActivityFactory(host_school=other_lead_school, schools=[other_lead_school], date=D(2026, 7, 15))  # last day
    # and a training by school A
    ActivityFactory(host_school=member_school, kind="training")
    # when
    research = compute("activities_teaching_research", year_period)
    training = compute("activities_training", year_period)
    # then
    assert research == {lead_school.pk: "3", member_school.pk: "3", other_school.pk: "1", other_lead_school.pk: "1"}
    assert training == {member_school.pk: "1"}


@covers(*(f"activities_{kind}" for kind in metrics.ACTIVITY_KINDS))
@pytest.mark.parametrize("kind", sorted(metrics.ACTIVITY_KINDS))
def test_activities_of_each_kind(kind, year_period, lead_school, member_school, other_school):
    # given two activities of the kind and one of another kind
    other_kind = next(k for k in metrics.ACTIVITY_KINDS if k != kind)
    ActivityFactory(kind=kind, host_school=lead_school, schools=[lead_school, member_school])
    ActivityFactory(kind=kind, host_school=member_school)
    ActivityFactory(kind=other_kind, host_school=other_school, schools=[lead_school])
    # when
    values = compute(f"activities_{kind}", year_period)
    # then lead: 1; school A: 1 involved + 1 organised = 2
    assert values == {lead_school.pk: "1", member_school.pk: "2"}


@covers("training_person_times")
def test_training_person_times(
    year_period, lead_school, member_school, other_lead_school, other_school, foreign_school
):
    # given
    ActivityFactory(kind="training", host_school=lead_school, person_times=30)
    ActivityFactory(kind="training", host_school=lead_school, schools=[member_school], person_times=45)
    ActivityFactory(kind="training", host_school=member_school, person_times=0)
    ActivityFactory(kind="teaching_research", host_school=other_lead_school, person_times=100)  # not a training
    ActivityFactory(kind="training", host_school=other_school, person_times=50, date=D(2026, 7, 16))  # after
    ActivityFactory(kind="training", host_school=foreign_school, person_times=70)  # another county
    # when
    values = compute("training_person_times", year_period)
    # then lead organised 30 + 45 = 75 (school A, only involved, gets none of them);
    # school A organised one with 0
    assert values == {lead_school.pk: "75", member_school.pk: "0"}


@covers("lead_visit_share")
def test_lead_visit_share(
    year_period, county, lead_school, member_school, third_school, other_school, other_lead_school
):
    # given the lead of the first alliance (members A and a third school) visits A (twice,
    # once with school B of the other alliance)
    ActivityFactory(kind="visit", host_school=lead_school, schools=[member_school])
    ActivityFactory(kind="visit", host_school=lead_school, schools=[member_school, other_school])
    ActivityFactory(kind="teaching_research", host_school=lead_school, schools=[third_school])  # not a visit
    ActivityFactory(kind="visit", host_school=lead_school, schools=[third_school], date=D(2025, 8, 31))  # before
    ActivityFactory(kind="visit", host_school=member_school, schools=[third_school])  # not by the lead
    # and last year the lead led another school, whose membership does not count this year
    last_year = SchoolYearFactory(county=county, start_year=2024)
    make_alliance(county, lead_school, [SchoolFactory(county=county, code="M099")], school_year=last_year)
    # when
    values = compute("lead_visit_share", year_period)
    # then lead: {A} of {A, third} = 50 %; the other lead visited none of its 1 member: 0 %;
    # member schools have no value
    assert values == {lead_school.pk: "50.0000", other_lead_school.pk: "0.0000"}


# --- pairings and mentoring --------------------------------------------------------------


@covers("pairing_tasks_on_time")
def test_pairing_tasks_on_time(
    year_period, alliance, other_alliance, lead_school, member_school, third_school, other_lead_school, other_school
):
    # given the lead helping school A
    pairing = PairingFactory(alliance=alliance, helper_school=lead_school, helped_school=member_school)

    def task(p, due, status="planned", completed=None):
        PairingTaskFactory(pairing=p, due_date=due, status=status, completed_on=completed)

    task(pairing, D(2025, 10, 31), "done", D(2025, 10, 30))  # on time
    task(pairing, D(2025, 11, 30), "done", D(2025, 11, 30))  # on time (the due day itself)
    task(pairing, D(2025, 12, 31), "done", D(2026, 1, 5))  # late
    task(pairing, D(2026, 1, 15), "in_progress")  # not done
    task(pairing, D(2026, 2, 1), "dropped")  # dropped: not counted
    task(pairing, D(2025, 8, 31), "done", D(2025, 8, 30))  # due before the period
    task(pairing, D(2026, 7, 16))  # due after the period
    # and the lead helping the third school: one task on time
    task(
        PairingFactory(alliance=alliance, helper_school=lead_school, helped_school=third_school),
        D(2026, 3, 1),
        "done",
        D(2026, 2, 1),
    )
    # and the other alliance's pairing: on time, late, not done
    other = PairingFactory(alliance=other_alliance, helper_school=other_lead_school, helped_school=other_school)
    task(other, D(2026, 3, 1), "done", D(2026, 2, 20))
    task(other, D(2026, 4, 1), "done", D(2026, 4, 2))
    task(other, D(2026, 5, 1))
    # when
    values = compute("pairing_tasks_on_time", year_period)
    # then lead: 3 on time of 5 = 60 %; A: 2 of 4 = 50 %; third: 1 of 1; other pair: 1 of 3
    assert values == {
        lead_school.pk: "60.0000",
        member_school.pk: "50.0000",
        third_school.pk: "100.0000",
        other_lead_school.pk: "33.3333",
        other_school.pk: "33.3333",
    }


@covers("pairing_tasks_on_time")
def test_pairing_tasks_on_time_counts_a_cross_county_programmes_tasks(
    year_period, alliance, lead_school, member_school, other_county
):
    # given school A in its alliance's pairing (one task on time) and helped, in a programme, by
    # a school of county Y (one task on time, one late, one dropped, one due after the period)
    own = PairingFactory(alliance=alliance, helper_school=lead_school, helped_school=member_school)
    PairingTaskFactory(pairing=own, due_date=D(2025, 10, 31), status="done", completed_on=D(2025, 10, 30))
    programme = Programme.objects.create(
        name="邻县帮扶示范县", helper_county=other_county, helped_county=member_school.county, start_date=D(2025, 9, 1)
    )
    helper = SchoolFactory(county=other_county, code="Y001")
    across = PairingFactory(alliance=None, programme=programme, helper_school=helper, helped_school=member_school)

    def task(due, status="planned", completed=None):
        PairingTaskFactory(pairing=across, due_date=due, status=status, completed_on=completed)

    task(D(2025, 11, 30), "done", D(2025, 11, 20))  # on time
    task(D(2025, 12, 31), "done", D(2026, 1, 5))  # late
    task(D(2026, 2, 1), "dropped")  # dropped: not counted
    task(D(2026, 9, 30), "done", D(2026, 9, 1))  # due after the period
    # when the county's period is computed
    values = compute("pairing_tasks_on_time", year_period)
    # then A counts its programme's tasks beside its alliance's: 2 on time of 3; the lead its
    # own pairing's one; the helper school of county Y is not of this county's window
    assert values == {lead_school.pk: "100.0000", member_school.pk: "66.6667"}
    # and in county Y's window of the same dates the helper school counts them: 1 of 2
    y_year = SchoolYearFactory(county=other_county, start_year=year_period.school_year.start_year)
    window = metrics.Window([helper.pk], year_period.start_date, year_period.end_date, [y_year.pk])
    assert metrics.REGISTRY["pairing_tasks_on_time"](window) == {helper.pk: Decimal("50.0000")}


@covers("mentoring_meetings")
def test_mentoring_meetings(year_period, lead_school, member_school, other_lead_school, other_school, foreign_school):
    # given a pair inside the lead school: 2 meetings
    inside = MentorPairFactory(mentor__school=lead_school, mentee__school=lead_school)
    MentorMeetingFactory(pair=inside, date=D(2025, 9, 1))
    MentorMeetingFactory(pair=inside, date=D(2025, 10, 10))
    # and a lead mentor with a school A mentee: 1 meeting in the period, 1 before it
    across = MentorPairFactory(mentor__school=lead_school, mentee__school=member_school)
    MentorMeetingFactory(pair=across, date=D(2025, 11, 5))
    MentorMeetingFactory(pair=across, date=D(2025, 8, 20))
    # and the other alliance's pair meeting on the period's last day
    MentorMeetingFactory(
        pair=MentorPairFactory(mentor__school=other_lead_school, mentee__school=other_school), date=D(2026, 7, 15)
    )
    # and another county's pair
    MentorMeetingFactory(pair=MentorPairFactory(mentor__school=foreign_school, mentee__school=foreign_school))
    # and pairs across the county line: another county's mentor with a school B mentee, and a
    # lead school mentor with another county's mentee (1 meeting each)
    MentorMeetingFactory(pair=MentorPairFactory(mentor__school=foreign_school, mentee__school=other_school))
    MentorMeetingFactory(pair=MentorPairFactory(mentor__school=lead_school, mentee__school=foreign_school))
    # when
    values = compute("mentoring_meetings", year_period)
    # then lead: 2 + 1 + 1 = 4 (a meeting inside one school counts once for it); A: 1;
    # the other lead: 1; school B: 1 + 1 (each side counts its meetings, whichever county
    # the other side is in)
    assert values == {lead_school.pk: "4", member_school.pk: "1", other_lead_school.pk: "1", other_school.pk: "2"}


# --- supervision -------------------------------------------------------------------------


@covers("supervision_visits", "rectifications_on_time")
def test_supervision_metrics(year_period, assessor, bureau_staff, member_school, other_school, foreign_school):
    # given school A: 3 visits in the period, 1 before it; school B: 1 visit; another county's school: 1
    visits = [
        SupervisionVisit.objects.create(school=member_school, supervisor=assessor, date=day)
        for day in (D(2025, 9, 1), D(2025, 10, 10), D(2026, 7, 15))
    ]
    SupervisionVisit.objects.create(school=member_school, supervisor=assessor, date=D(2025, 8, 31))
    b_visit = SupervisionVisit.objects.create(school=other_school, supervisor=bureau_staff, date=D(2025, 11, 3))
    SupervisionVisit.objects.create(school=foreign_school, supervisor=bureau_staff, date=D(2025, 11, 3))
    # and A's rectification items due in the period: closed on time, closed late, answered, open;
    # one due after the period; B's one item closed on time
    closed_on = timezone.make_aware(dt.datetime(2025, 10, 20, 10))
    due = D(2025, 10, 20)
    for status, closed_at in (("closed", closed_on), ("closed", closed_on + dt.timedelta(days=1)),
                              ("answered", None), ("open", None)):  # fmt: skip
        Rectification.objects.create(visit=visits[1], item=status, due_date=due, status=status, closed_at=closed_at)
    Rectification.objects.create(visit=visits[2], item="下学年", due_date=D(2026, 9, 1))
    Rectification.objects.create(visit=b_visit, item="台账", due_date=due, status="closed", closed_at=closed_on)
    # when
    held = compute("supervision_visits", year_period)
    on_time = compute("rectifications_on_time", year_period)
    # then A: 3 visits (the first and last days count); B: 1; A: 1 of 4 closed by the due date; B: all
    assert held == {member_school.pk: "3", other_school.pk: "1"}
    assert on_time == {member_school.pk: "25.0000", other_school.pk: "100.0000"}


# --- funding -----------------------------------------------------------------------------


@covers("plan_execution_rate")
def test_plan_execution_rate(
    year_period, approved_plan, research_line, principal, bureau_staff, lead_school, member_school
):
    # given 30,000.00 spent of school A's 100,000.00, and 5,000.00 booked then reversed;
    # nothing spent of the lead's 50,000.00
    funding.spending_record_create(
        actor=principal, plan_line=research_line, date=D(2025, 10, 15), amount=Decimal("30000.00"), payee="书店"
    )
    mistake = funding.spending_record_create(
        actor=principal, plan_line=research_line, date=D(2025, 10, 16), amount=Decimal("5000.00"), payee="书店"
    )
    funding.entry_reverse(entry=mistake.ledger_entries.get(), actor=bureau_staff, reason="录入错误")
    # when
    values = compute("plan_execution_rate", year_period)
    # then A: 30,000 ÷ 100,000 = 30 % (the reversed record not counted); lead: 0 % (a plan,
    # nothing spent); the other alliance has no approved plan: no value
    assert values == {member_school.pk: "30.0000", lead_school.pk: "0.0000"}


def test_plan_execution_rate_without_a_funding_year(year_period):
    assert compute("plan_execution_rate", year_period) == {}


def test_plan_execution_rate_keeps_four_decimals_of_the_percentage(
    year_period, approved_plan, lead_principal, lead_school
):
    # given 16,666.67 spent of the lead's 50,000.00: 33.33334 %
    line = approved_plan.lines.get(school=lead_school)
    funding.spending_record_create(
        actor=lead_principal, plan_line=line, date=D(2025, 10, 15), amount=Decimal("16666.67"), payee="培训机构"
    )
    # when
    values = compute("plan_execution_rate", year_period)
    # then
    assert values[lead_school.pk] == "33.3333"


# --- the registry ------------------------------------------------------------------------


def test_every_registered_metric_has_a_value_test():
    assert set(metrics.REGISTRY) - COVERED == set(), "add a value test for these metrics"
    assert COVERED - set(metrics.REGISTRY) == set(), "these tested metrics are no longer registered"

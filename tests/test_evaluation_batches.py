"""The nightly evaluation in batches of counties, and the slim traces it stores.

``evaluation_run`` computes the counties in batches of about ``EVALUATION_BATCH_SCHOOLS``
schools; the periods of a batch that share their dates share each metric's computation.
Batching is a matter of memory and speed only: one county per batch and every county in one
batch must write the same rows. The data set is two counties whose school years have the
same dates, each with two alliances, the default rubric (every kind of computed indicator)
flagging a single fall, two terms and the year, logged activities, exchanges, mentoring,
pairing tasks, funding and entered values, and rows that cross the county line.

A school result's trace keeps only the school's figures; the rubric's words come from the
snapshot of the content it was computed with (``RubricSnapshot``), so a result reads the
same after its rubric is revised or edited. A trace stored before that format is shown as
stored.
"""

import copy
import dataclasses
import datetime as dt
import json
from decimal import Decimal as D

import pytest
from django.db import connection

from alliance.access import Role
from alliance.models import School
from evaluation import metrics, services, trace
from evaluation.models import AllianceResult, DeclineWarning, EvaluationRun, Indicator, SchoolResult
from evaluation.services import nightly
from funding import services as funding
from funding.models import Category, PlanLine

from .factories import (
    CountyFactory,
    PairingFactory,
    PairingTaskFactory,
    SchoolFactory,
    SchoolYearFactory,
    TermFactory,
    UserFactory,
    make_alliance,
)
from .factories_evaluation import enter, indicator, make_rubric
from .factories_funding import FundingYearFactory
from .factories_staffing import (
    ActivityFactory,
    ExchangeFactory,
    MentorMeetingFactory,
    MentorPairFactory,
    TeacherFactory,
)
from .fixtures_connections import sessions

T1 = (dt.date(2025, 9, 1), dt.date(2026, 1, 20))
T2 = (dt.date(2026, 2, 20), dt.date(2026, 7, 10))
IN_T1, IN_T2 = dt.date(2025, 10, 15), dt.date(2026, 4, 15)


def county_of(code, k):
    """A county with six schools in two alliances of three, the default rubric (one fall
    flags), open periods for both terms and the year, funding opened with one approved plan
    partly spent, and logged data whose amounts grow with ``k`` (the counties differ)."""
    county = CountyFactory(code=code, name=f"县{code}")
    year = SchoolYearFactory(county=county, start_year=2025)
    bureau = UserFactory(username=f"bureau{code}", county=county, role=Role.BUREAU)
    schools = [SchoolFactory(county=county, code=f"{code}-{i}", teachers=20 + i) for i in range(6)]
    lead1, lead2 = schools[0], schools[3]
    alliances = [
        make_alliance(county, lead1, schools[1:3], school_year=year),
        make_alliance(county, lead2, schools[4:6], school_year=year),
    ]
    rubric = services.rubric_create_default(county=county, school_year=year)
    rubric = services.rubric_update(actor=bureau, rubric=rubric, decline_periods=1)
    terms = [
        TermFactory(school_year=year, number=1, start_date=T1[0], end_date=T1[1]),
        TermFactory(school_year=year, number=2, start_date=T2[0], end_date=T2[1]),
    ]
    periods = [services.period_create(actor=bureau, school_year=year, term=t) for t in terms]
    periods.append(services.period_create(actor=bureau, school_year=year))

    # activities of every kind the rubric counts, organised by the lead schools
    for lead, members in ((lead1, schools[1:3]), (lead2, schools[4:6])):
        for kind in ("teaching_research", "term_meeting", "resource_sharing", "online_lesson", "culture_sports"):
            for _ in range(k):
                ActivityFactory(host_school=lead, kind=kind, date=IN_T1, schools=[lead, *members])
        ActivityFactory(host_school=lead, kind="teaching_research", date=IN_T2, schools=members[:1])
        ActivityFactory(host_school=lead, kind="visit", date=IN_T1, schools=members[: k % 2 + 1])
        ActivityFactory(host_school=lead, kind="training", date=IN_T2, person_times=60 * k, schools=members)
    ActivityFactory(host_school=schools[1], kind="resource_sharing", date=IN_T2, schools=[])
    # exchanges from the lead schools, and mentoring inside the alliances
    for i, (lead, host) in enumerate(((lead1, schools[1]), (lead2, schools[5]))):
        ExchangeFactory(
            teacher=TeacherFactory(school=lead),
            status="approved",
            start_date=T1[0],
            end_date=dt.date(2025, 9, 30) + dt.timedelta(days=10 * k + i),
            hosts=[host],
        )
        TeacherFactory(school=host, years_of_service=2)
        pair = MentorPairFactory(mentor__school=lead, mentee__school=host)
        for day in range(k + i):
            MentorMeetingFactory(pair=pair, date=IN_T1 + dt.timedelta(days=day))
        MentorMeetingFactory(pair=pair, date=IN_T2)
    # pairing tasks: one done on time, one late, one due in the second term
    pairing = PairingFactory(alliance=alliances[0], helper_school=lead1, helped_school=schools[2])
    PairingTaskFactory(pairing=pairing, due_date=dt.date(2025, 11, 30), status="done", completed_on=IN_T1)
    PairingTaskFactory(pairing=pairing, due_date=dt.date(2025, 11, 30), status="done", completed_on=IN_T2)
    PairingTaskFactory(pairing=pairing, due_date=dt.date(2026, 5, 1), status="in_progress")
    # funding: quotas, the pool, and the first alliance's plan with some of it spent
    funding_year = FundingYearFactory(school_year=year, county=county)
    funding.funding_quotas_default(actor=bureau, funding_year=funding_year)
    funding_year = funding.funding_year_open(actor=bureau, funding_year=funding_year)
    principal = UserFactory(username=f"lead{code}", county=county, school=lead1, role=Role.LEAD_PRINCIPAL)
    plan = funding.spending_plan_create(actor=principal, funding_year=funding_year, alliance=alliances[0])
    line = PlanLine.objects.create(plan=plan, school=schools[1], category=Category.TRAINING, amount=D("90000.00"))
    PlanLine.objects.create(plan=plan, school=lead1, category=Category.TEACHING_RESEARCH, amount=D("30000.00"))
    funding.spending_plan_submit(actor=principal, plan=plan)
    funding.spending_plan_approve(actor=bureau, plan=plan)
    funding.spending_record_create(
        actor=principal, plan_line=line, date=IN_T1, amount=D("10000.00") * k, payee="培训机构"
    )
    # entered values: the second term falls for half of the schools (a decline to flag)
    manual = [i.code for i in Indicator.objects.filter(dimension__rubric=rubric).exclude(method="computed")]
    for n, school in enumerate(schools):
        for j, code in enumerate(manual):
            first = 60 + (7 * n + 3 * j + 5 * k) % 40
            second = first - 20 if n % 2 else min(first + 5, 100)
            enter(bureau, periods[0], rubric, school, **{code: first})
            enter(bureau, periods[1], rubric, school, **{code: second})
            if j % 2:
                enter(bureau, periods[2], rubric, school, **{code: (first + second) // 2})
    return {"county": county, "schools": schools, "periods": periods}


@pytest.fixture
def two_counties(db):
    x, y = county_of("339901", 1), county_of("339902", 2)
    sx, sy = x["schools"], y["schools"]
    # rows across the county line: an activity of county X's lead school with a school of Y,
    # an exchange from X hosted in Y, and a mentor of Y with a mentee in X
    ActivityFactory(host_school=sx[0], kind="teaching_research", date=IN_T1, schools=[sx[1], sy[4]])
    ActivityFactory(host_school=sy[3], kind="online_lesson", date=IN_T2, schools=[sx[2]])
    ExchangeFactory(
        teacher=TeacherFactory(school=sx[3]),
        status="approved",
        start_date=T2[0],
        end_date=dt.date(2026, 3, 31),
        hosts=[sy[1]],
    )
    MentorMeetingFactory(pair=MentorPairFactory(mentor__school=sy[0], mentee__school=sx[4]), date=IN_T1)
    return x, y


def stored_rows():
    """Every school result, alliance result and decline warning, every field but the id."""
    return {
        model.__name__: [
            {k: v for k, v in row.items() if k != "id"} for row in model.objects.order_by(*key, "pk").values()
        ]
        for model, key in (
            (SchoolResult, ("period_id", "school_id")),
            (AllianceResult, ("period_id", "alliance_id")),
            (DeclineWarning, ("period_id", "school_id")),
        )
    }


def run_in_batches(monkeypatch, settings, limit, *, readers=0, parallel=False):
    """Run the evaluation from no results with batches of ``limit`` schools, read on
    ``readers`` connections; the rows it wrote and the counties of each batch it computed.
    ``parallel``: whether the batches must have been read in parallel."""
    for model in (SchoolResult, AllianceResult, DeclineWarning):
        model.objects.all().delete()
    batches = []
    read = nightly.read_batch

    def spy(periods, rubrics, snapshot):
        assert (snapshot.id is not None) == parallel
        batches.append(sorted({p.county.code for p in periods}))
        return read(periods, rubrics, snapshot)

    monkeypatch.setattr(nightly, "read_batch", spy)
    settings.EVALUATION_BATCH_SCHOOLS = limit
    settings.EVALUATION_READ_CONNECTIONS = readers
    run = services.evaluation_run()
    monkeypatch.setattr(nightly, "read_batch", read)
    assert run.status == "succeeded"
    return stored_rows(), batches


def test_one_county_per_batch_and_all_in_one_batch_write_the_same_rows(two_counties, monkeypatch, settings):
    x, y = two_counties
    # when every county is a batch of its own
    alone, alone_batches = run_in_batches(monkeypatch, settings, 1)
    # and when both counties are one batch
    together, together_batches = run_in_batches(monkeypatch, settings, 10_000)
    # then the batches were what the setting asked for
    assert alone_batches == [["339901"], ["339902"]]
    assert together_batches == [["339901", "339902"]]
    # and every row, traces included, is the same
    assert together == alone
    # (a data set where that means something: both counties scored in every period, some
    # schools flagged for their fall, awards previewed, and rows across the county line counted)
    assert len(alone["SchoolResult"]) == 2 * 3 * 6
    assert len(alone["AllianceResult"]) == 2 * 3 * 2
    assert {w["period_id"] for w in alone["DeclineWarning"]} == {x["periods"][1].pk, y["periods"][1].pk}
    assert all(r["award_preview"] is not None for r in alone["SchoolResult"])
    hosted = SchoolResult.objects.get(period=y["periods"][1], school=y["schools"][1]).trace["indicators"]
    assert hosted["days_hosted"][:2] == ["metric", "40"]  # 2026-02-20 to 2026-03-31, from county X
    sources = {i[0] for r in alone["SchoolResult"] for i in r["trace"]["indicators"].values()}
    assert sources == {"metric", "entered", "missing"}


@pytest.mark.django_db(transaction=True)
def test_reading_on_several_connections_writes_the_same_rows(two_counties, monkeypatch, settings):
    # given the rows written when everything is read on the run's own connection
    alone, _ = run_in_batches(monkeypatch, settings, 1)
    together, _ = run_in_batches(monkeypatch, settings, 10_000)
    # when the batches are read on three connections, the second while the first is written
    parallel_alone, batches = run_in_batches(monkeypatch, settings, 1, readers=3, parallel=True)
    assert batches == [["339901"], ["339902"]]
    # or both counties at once
    parallel_together, _ = run_in_batches(monkeypatch, settings, 10_000, readers=3, parallel=True)
    # then every row, traces included, is the same
    assert parallel_alone == alone == together == parallel_together
    assert len(alone["SchoolResult"]) == 2 * 3 * 6


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_fails_while_read_ahead_keeps_the_batches_written(two_counties, monkeypatch, settings):
    # given a metric that fails for county Y's schools, read while county X's batch is written
    y_schools = set(School.objects.filter(county__code="339902").values_list("pk", flat=True))
    meetings = metrics.REGISTRY["mentoring_meetings"]

    def fails_for_y(window):
        if y_schools & set(window.school_ids):
            raise RuntimeError("disk on fire")
        return meetings.fn(window)

    monkeypatch.setitem(metrics.REGISTRY, "mentoring_meetings", dataclasses.replace(meetings, fn=fails_for_y))
    settings.EVALUATION_BATCH_SCHOOLS = 1
    settings.EVALUATION_READ_CONNECTIONS = 2
    before = sessions()
    # when the run fails in the second batch's reads
    with pytest.raises(RuntimeError, match="disk on fire"):
        services.evaluation_run()
    # then county X's batch is written, county Y has nothing half-written, the run says why,
    # and every reader's connection is closed
    assert SchoolResult.objects.filter(school__county__code="339901").count() == 3 * 6
    assert not SchoolResult.objects.filter(school__county__code="339902").exists()
    run = EvaluationRun.objects.get()
    assert run.status == "failed" and "disk on fire" in run.error
    assert sessions(settle_to=before) == before


def versions():
    """Each result and warning row's id and ``xmin`` (the transaction that wrote its version)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'school', id, xmin::text FROM evaluation_schoolresult UNION ALL "
            "SELECT 'alliance', id, xmin::text FROM evaluation_allianceresult UNION ALL "
            "SELECT 'warning', id, xmin::text FROM evaluation_declinewarning"
        )
        return sorted(cursor.fetchall())


def test_a_second_run_in_other_batches_rewrites_nothing(two_counties, monkeypatch, settings):
    # given results written one county per batch
    alone, _ = run_in_batches(monkeypatch, settings, 1)
    before = versions()
    # when the next run, with nothing changed, takes both counties in one batch
    settings.EVALUATION_BATCH_SCHOOLS = 10_000
    services.evaluation_run()
    # then every row is still the version the first run wrote (same id, not rewritten)
    assert versions() == before
    assert stored_rows() == alone


def test_a_batch_that_scores_no_school_succeeds(bureau_staff, school_year, lead_school):
    # given an open period with a rubric, before any alliance is recorded (no school to score)
    make_rubric(bureau_staff, school_year)
    services.period_create(actor=bureau_staff, school_year=school_year)
    # when
    run = services.evaluation_run()
    # then the run succeeds and writes nothing
    assert (run.status, run.periods_count, run.schools_count) == ("succeeded", 1, 0)


# --- slim traces and the rubric snapshot -------------------------------------------------


def named(code, name, *args, **kwargs):
    return {**indicator(code, *args, **kwargs), "name": name}


def structure(quality_name, training_name, quality_points=60):
    return [
        {
            "code": "main",
            "name": "办学质量",
            "indicators": [
                named("quality", quality_name, quality_points),
                named(
                    "training",
                    training_name,
                    100 - quality_points,
                    "computed",
                    "training_person_times",
                    params={"target": "200"},
                ),
            ],
        }
    ]


@pytest.fixture
def evaluated(bureau_staff, school_year, alliance, other_alliance, lead_school):
    """County X's year scored with a rubric whose indicators have names other than their
    codes: the lead school entered 90 for quality and organised 150 person-times of training."""
    rubric = make_rubric(bureau_staff, school_year, structure=structure("教育教学质量", "培训人次"))
    period = services.period_create(actor=bureau_staff, school_year=school_year)
    ActivityFactory(host_school=lead_school, kind="training", person_times=150, date=IN_T1)
    enter(bureau_staff, period, rubric, lead_school, quality=90)
    services.evaluation_run()
    return {"rubric": rubric, "period": period}


def shown(result):
    explained = result.explained_trace
    return [
        (i["dimension"], i["code"], i["name"], i["max_points"], i["source"], i["raw_value"], i["points"])
        for i in explained["indicators"]
    ], explained["grade"]


AS_COMPUTED = (
    [
        ("办学质量", "quality", "教育教学质量", "60.00", "entered", "90.0000", "54.00"),
        ("办学质量", "training", "培训人次", "40.00", "metric", "150", "30.00"),
    ],
    {"grade": "fail", "bands": {"excellent": "90", "good": "75", "pass": "60"}},
)


def test_the_explained_trace_keeps_the_rubric_it_was_computed_with(evaluated, bureau_staff, lead_school):
    result = SchoolResult.objects.get(period=evaluated["period"], school=lead_school)
    assert shown(result) == AS_COMPUTED
    # when the rubric is revised and the new version renames and reweighs the indicators and
    # lowers the grade bands
    revised = services.rubric_revise(actor=bureau_staff, rubric=evaluated["rubric"])
    services.rubric_update(
        actor=bureau_staff,
        rubric=revised,
        structure=structure("新质量", "新培训", 50),
        grade_bands={"excellent": "80", "good": "60", "pass": "40"},
    )
    # then the result still reads with the words, points and bands it was computed with
    assert services.current_rubric(revised.county_id, revised.school_year_id).content_hash != result.rubric_hash
    result.refresh_from_db()
    assert (result.rubric_version, result.rubric_hash) == (1, evaluated["rubric"].content_hash)
    assert shown(result) == AS_COMPUTED


def test_a_result_reads_as_computed_after_its_unlocked_rubric_is_edited(
    bureau_staff, school_year, alliance, other_alliance, lead_school
):
    # given a rubric with computed indicators only (no value entered: it stays unlocked)
    quality = indicator("quality", 60, "computed", "activities_teaching_research", params={"target": "2"})
    rubric = make_rubric(
        bureau_staff,
        school_year,
        structure=[
            {
                "code": "main",
                "name": "办学质量",
                "indicators": [
                    {**quality, "name": "教研活动"},
                    named("training", "培训人次", 40, "computed", "training_person_times", params={"target": "200"}),
                ],
            }
        ],
    )
    period = services.period_create(actor=bureau_staff, school_year=school_year)
    ActivityFactory(host_school=lead_school, kind="teaching_research", date=IN_T1)
    services.evaluation_run()
    # when the same rubric is edited in place
    services.rubric_update(actor=bureau_staff, rubric=rubric, structure=structure("新质量", "新培训", 50))
    # then the result still reads with the rubric it was computed with
    result = SchoolResult.objects.get(period=period, school=lead_school)
    names = [(i["code"], i["name"], i["max_points"], i["points"]) for i in result.explained_trace["indicators"]]
    assert names == [("quality", "教研活动", "60.00", "30.00"), ("training", "培训人次", "40.00", "0")]


def test_the_stored_trace_is_slim(evaluated, lead_school):
    stored = SchoolResult.objects.get(period=evaluated["period"], school=lead_school).trace
    # the school's own figures only: [source, raw value, points] per indicator code, the grade
    # as a string, and the rubric by id, version and hash
    assert stored["format"] == trace.TRACE_FORMAT == 2
    assert stored["indicators"] == {"quality": ["entered", "90.0000", "54.00"], "training": ["metric", "150", "30.00"]}
    assert stored["grade"] == "fail"
    assert set(stored["rubric"]) == {"id", "version", "hash"}
    # and none of the rubric's words or settings
    text = json.dumps(stored, ensure_ascii=False)
    for words in ("教育教学质量", "培训人次", "办学质量", '"name"', '"rule"', '"max_points"', '"bands"'):
        assert words not in text


OLD_TRACE = {
    "rubric": {"id": 1, "version": 1, "hash": "0" * 64},
    "indicators": [
        {
            "dimension": "主维度",
            "code": "quality",
            "name": "quality",
            "method": "manual",
            "source": "entered",
            "raw_value": "100.0000",
            "rule": "target",
            "rule_params": {"target": "100"},
            "max_points": "60.00",
            "points": "60.00",
        }
    ],
    "own_total": "60.00",
    "grade": {"grade": "pass", "bands": {"excellent": "90", "good": "75", "pass": "60"}},
}


@pytest.mark.parametrize("old", [OLD_TRACE, {**OLD_TRACE, "format": 1}, {}], ids=["no format", "format 1", "empty"])
def test_a_trace_in_the_old_format_is_shown_as_stored(old, evaluated):
    # given a snapshot stored under the hash the trace is explained with
    content_hash = evaluated["rubric"].content_hash
    given = copy.deepcopy(old)
    # when / then
    assert trace.explain(given, content_hash) == old
    assert given == old  # not changed in place either
    assert SchoolResult(trace=copy.deepcopy(old), rubric_hash=content_hash).explained_trace == old

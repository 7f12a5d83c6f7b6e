"""The evaluation run: results, bundling, idempotence, locking, crash safety, set-based queries."""

import datetime as dt
import gc
from decimal import Decimal as D

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from alliance.models import School
from evaluation import metrics, services, trace
from evaluation.models import AllianceResult, DeclineWarning, EvaluationRun, RubricSnapshot, SchoolResult
from evaluation.tasks import nightly_evaluation

from .factories import SchoolFactory, TermFactory, make_alliance
from .factories_evaluation import enter, indicator, make_rubric
from .factories_staffing import ActivityFactory, ExchangeFactory, TeacherFactory


def results(period):
    return {
        r.school_id: (r.pk, r.own_total, r.final_score, r.grade, r.rubric_version, r.rubric_hash, r.trace)
        for r in SchoolResult.objects.filter(period=period)
    }


@pytest.fixture
def scored(bureau_staff, year_period, simple_rubric, eval_schools):
    """Lead 80 (quality 100, care 50), school A 60 (50, 75), other lead 90, school B 40."""
    s = eval_schools
    enter(bureau_staff, year_period, simple_rubric, s["lead"], quality=100, care=50)
    enter(bureau_staff, year_period, simple_rubric, s["a"], quality=50, care=75)
    enter(bureau_staff, year_period, simple_rubric, s["other_lead"], quality=100, care=75)
    enter(bureau_staff, year_period, simple_rubric, s["b"], quality=50, care=25)
    return year_period


def test_run_scores_bundles_grades_and_records_itself(scored, eval_schools, alliance):
    # when
    run = services.evaluation_run()
    # then the run is recorded
    assert run.status == EvaluationRun.Status.SUCCEEDED
    assert (run.periods_count, run.schools_count, run.alliances_count, run.progress) == (1, 4, 2, 100)
    assert run.finished_at >= run.started_at
    # and the core school's final score is bundled with its member: 0.6 × 80 + 0.4 × 60
    lead = SchoolResult.objects.get(period=scored, school=eval_schools["lead"])
    member = SchoolResult.objects.get(period=scored, school=eval_schools["a"])
    assert (lead.own_total, lead.final_score, lead.grade) == (D("80.00"), D("72.00"), "pass")
    assert (member.own_total, member.final_score, member.grade) == (D("60.00"), D("60.00"), "pass")
    # and the alliance score is the plain mean of the final scores
    assert AllianceResult.objects.get(period=scored, alliance=alliance).score == D("66.00")
    # and the trace explains every step
    quality = next(i for i in lead.explained_trace["indicators"] if i["code"] == "quality")
    assert quality == quality | {"raw_value": "100.0000", "rule": "target", "points": "60.00", "source": "entered"}
    assert lead.trace["bundling"]["members"][0]["total"] == "60.00"
    assert lead.trace["bundling"]["final_score"] == "72.00"
    assert lead.rubric_version == 1 and len(lead.rubric_hash) == 64


def test_the_explained_trace_says_whether_the_rubric_text_is_the_one_computed_with(scored, eval_schools):
    # given a run (which stores the rubric's content under its hash)
    services.evaluation_run()
    lead = SchoolResult.objects.get(period=scored, school=eval_schools["lead"])
    assert lead.explained_trace["rubric"]["snapshot"] == "verified"
    # when someone alters the stored rubric text behind the results
    snapshot = RubricSnapshot.objects.get(content_hash=lead.rubric_hash)
    snapshot.content["dimensions"][0]["indicators"][0]["name"] = "改过的名称"
    snapshot.save()
    trace._SNAPSHOTS.clear()  # as a new process would read it
    # then the explanation says so
    assert lead.explained_trace["rubric"]["snapshot"] == "mismatch"
    # and a result whose snapshot is gone says that
    RubricSnapshot.objects.all().delete()
    trace._SNAPSHOTS.clear()
    assert lead.explained_trace["rubric"]["snapshot"] == "missing"


def test_bundling_raises_a_core_school_whose_members_improve(bureau_staff, scored, simple_rubric, eval_schools):
    # given a first run
    services.evaluation_run()
    before = SchoolResult.objects.get(period=scored, school=eval_schools["lead"]).final_score
    # when only the member school improves
    enter(bureau_staff, scored, simple_rubric, eval_schools["a"], quality=100, care=100)
    services.evaluation_run()
    # then the core school's final score rises though its own total did not change
    after = SchoolResult.objects.get(period=scored, school=eval_schools["lead"])
    assert after.own_total == D("80.00")
    assert after.final_score == D("88.00") > before


def test_evaluate_twice_gives_the_same_rows(scored):
    # given
    call_command("evaluate")
    first = results(scored)
    # when
    call_command("evaluate", "--county", scored.county.code, "--year", "2025")
    # then the same rows (same ids, no duplicates) with the same figures and traces
    assert results(scored) == first
    assert SchoolResult.objects.count() == 4
    assert EvaluationRun.objects.filter(status="succeeded").count() == 2


def test_a_second_concurrent_run_is_refused(scored, settings):
    # given another process holds the evaluation lock (a second PostgreSQL session)
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "password", "host", "port")})
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [services.ADVISORY_LOCK_KEY])
            assert cur.fetchone()[0]
        # when a run and a redelivered task start
        with pytest.raises(services.RunRefused):
            services.evaluation_run()
        outcome = nightly_evaluation.run(county_code=scored.county.code, start_year=2025)
        # then neither computed anything, and each wrote its refused record
        assert outcome == {"status": "refused"}
        refused = list(EvaluationRun.objects.order_by("pk"))
        assert [(r.status, r.trigger, r.county_id, r.start_year) for r in refused] == [
            ("refused", "manual", None, None),
            ("refused", "celery", scored.county.pk, 2025),
        ]
        assert all(r.finished_at == r.started_at and r.error for r in refused)
        assert not SchoolResult.objects.exists()
    finally:
        other.close()


def test_a_running_claim_refuses_a_duplicate_and_a_dead_ones_is_abandoned(scored):
    # given a run row claimed by a worker that died (its session and lock are gone)
    dead = EvaluationRun.objects.create(started_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    # when the next night's run starts
    run = services.evaluation_run()
    # then the dead run is marked abandoned and the new one succeeds
    dead.refresh_from_db()
    assert dead.status == "abandoned" and dead.finished_at
    assert "Abandoned" in dead.error or "放弃" in dead.error
    assert run.status == "succeeded"


def test_the_task_takes_keys_only_and_runs_the_service(scored):
    outcome = nightly_evaluation.delay(county_code=scored.county.code, start_year=2025).get()
    assert outcome["status"] == "succeeded"
    assert SchoolResult.objects.filter(period=scored).count() == 4


def test_a_request_that_rolls_back_queues_no_job(scored, bureau_staff, django_capture_on_commit_callbacks):
    # when a request queues the job and then fails
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.evaluation_queue(actor=bureau_staff, county=scored.county)
        raise RuntimeError("the request fails after queueing")
    # then nothing was queued or run
    assert callbacks == []
    assert not EvaluationRun.objects.exists()
    # while a request that commits runs it
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.evaluation_queue(actor=bureau_staff, county=scored.county)
    assert len(callbacks) == 1
    assert EvaluationRun.objects.get().status == "succeeded"


@pytest.fixture
def failing_metric():
    @metrics.metric("test_fails_midway", "fails")
    def fails(period):
        # the batch is computed without the cyclic garbage collector (services.nightly._without_cycle_collection)
        assert not gc.isenabled()
        raise RuntimeError("disk on fire")

    yield "test_fails_midway"
    metrics.REGISTRY.pop("test_fails_midway")


def test_a_run_that_crashes_midway_keeps_the_last_good_results(scored, simple_rubric, bureau_staff, failing_metric):
    # given good results
    services.evaluation_run()
    good = results(scored)
    # and a new rubric version whose metric fails while computing
    revised = services.rubric_revise(actor=bureau_staff, rubric=simple_rubric)
    services.rubric_update(
        actor=bureau_staff,
        rubric=revised,
        structure=[
            {
                "code": "main",
                "name": "主维度",
                "indicators": [
                    indicator("quality", 50),
                    indicator("care", 40),
                    indicator("broken", 10, "computed", failing_metric),
                ],
            }
        ],
    )
    # when the run fails
    with pytest.raises(RuntimeError):
        services.evaluation_run()
    # then it is recorded as failed and the previous results are untouched
    run = EvaluationRun.objects.order_by("-pk").first()
    assert run.status == "failed" and "disk on fire" in run.error
    assert results(scored) == good
    # and the garbage collector is back on
    assert gc.isenabled()


def test_decline_warning_after_consecutive_falls(bureau_staff, school_year, alliance, other_alliance, eval_schools):
    # given a rubric flagging one fall, and two terms
    rubric = make_rubric(bureau_staff, school_year, decline_periods=1)
    t1 = TermFactory(school_year=school_year, number=1)
    t2 = TermFactory(school_year=school_year, number=2, start_date=dt.date(2026, 2, 20), end_date=dt.date(2026, 7, 10))
    p1 = services.period_create(actor=bureau_staff, school_year=school_year, term=t1)
    p2 = services.period_create(actor=bureau_staff, school_year=school_year, term=t2)
    enter(bureau_staff, p1, rubric, eval_schools["b"], quality=100, care=100)
    enter(bureau_staff, p2, rubric, eval_schools["b"], quality=50, care=50)
    enter(bureau_staff, p1, rubric, eval_schools["a"], quality=50, care=50)
    enter(bureau_staff, p2, rubric, eval_schools["a"], quality=100, care=100)
    # when
    services.evaluation_run()
    # then school B (100 → 50) is flagged, and its core school, bundled with it (40 → 20);
    # school A (50 → 100) and its core school are not
    warnings = {w.school_id: w for w in DeclineWarning.objects.filter(period=p2)}
    assert set(warnings) == {eval_schools["b"].pk, eval_schools["other_lead"].pk}
    b = warnings[eval_schools["b"].pk]
    assert (b.falls, b.scores) == (1, ["100.00", "50.00"])
    assert warnings[eval_schools["other_lead"].pk].scores == ["40.00", "20.00"]


def test_improvement_basis_uses_the_members_change(bureau_staff, school_year, alliance, other_alliance, eval_schools):
    rubric = make_rubric(bureau_staff, school_year, bundling_basis="improvement")
    t1 = TermFactory(school_year=school_year, number=1)
    t2 = TermFactory(school_year=school_year, number=2, start_date=dt.date(2026, 2, 20), end_date=dt.date(2026, 7, 10))
    p1 = services.period_create(actor=bureau_staff, school_year=school_year, term=t1)
    p2 = services.period_create(actor=bureau_staff, school_year=school_year, term=t2)
    for p in (p1, p2):
        enter(bureau_staff, p, rubric, eval_schools["lead"], quality=100, care=50)  # 80 both terms
    enter(bureau_staff, p1, rubric, eval_schools["a"], quality=50, care=50)  # 50
    enter(bureau_staff, p2, rubric, eval_schools["a"], quality=100, care=50)  # 80: +30
    services.evaluation_run()
    lead = SchoolResult.objects.get(period=p2, school=eval_schools["lead"])
    # 80 + 0.4 × 30
    assert lead.final_score == D("92.00")
    assert lead.trace["bundling"]["members"][0]["improvement"] == "30.00"


def _county_of(n, county, school_year, bureau_staff):
    """n schools in alliances of three, with exchanges, activities and a default rubric."""
    schools = [SchoolFactory(county=county) for _ in range(n)]
    for i in range(0, n, 3):
        group = schools[i : i + 3]
        make_alliance(county, group[0], group[1:], school_year=school_year)
    for school in schools:
        teacher = TeacherFactory(school=school)
        ExchangeFactory(teacher=teacher, status="approved", hosts=[schools[0]])
        ActivityFactory(host_school=school, kind="training", schools=[schools[0], school])
    return schools


@pytest.mark.parametrize("n", [5, 25])
def test_query_count_does_not_grow_with_the_schools(
    n, county, school_year, bureau_staff, django_assert_max_num_queries
):
    # given n schools with logged data, the default rubric and an open period
    _county_of(n, county, school_year, bureau_staff)
    services.rubric_create_default(county=county, school_year=school_year)
    services.period_create(actor=bureau_staff, school_year=school_year)
    # when / then the same bound holds for 5 and for 25 schools
    with django_assert_max_num_queries(60):
        run = services.evaluation_run()
    assert run.schools_count == n == School.objects.filter(county=county).count()

"""The nightly evaluation through a real Celery worker and the real Redis of ``make test``.

Each test commits its data (``transaction=True``) so the worker, another process on the same
test database, sees it; the task is sent with eager execution switched off, so only a worker
can run it. The at-least-once tests hold a row lock from a second PostgreSQL session to keep
a run "in the middle" as long as they need, then let Redis redeliver the unacknowledged
message (visibility timeout 1 s) to a second worker.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from decimal import Decimal as D
from pathlib import Path

import psycopg2
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from config.celery import app
from evaluation import services
from evaluation.compute import compute_period
from evaluation.models import EvaluationRun, NightlySchedule, SchoolResult

from .celery_worker import Worker, wait_for
from .factories_evaluation import enter, indicator, make_rubric
from .factories_staffing import ActivityFactory, ExchangeFactory, TeacherFactory

# serial: a real worker's redelivery waits on timers (the 10 s restore, the visibility timeout)
# that starve when the other xdist worker keeps both cores busy; make test runs these alone.
pytestmark = [pytest.mark.worker, pytest.mark.serial, pytest.mark.django_db(transaction=True)]

TASK = "evaluation.nightly_evaluation"


@pytest.fixture
def broker():
    """The project's Celery app sending to the real Redis (the test settings run tasks eagerly)."""
    if not settings.REDIS_URL:
        pytest.fail("REDIS_URL is not set: run the worker tests through `make test`")
    client = redis.Redis.from_url(settings.REDIS_URL)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    queues: list[str] = []

    class Broker:
        redis = client

        def queue(self) -> str:
            name = f"test-eval-{uuid.uuid4().hex[:8]}"
            queues.append(name)
            return name

        def send(self, queue: str, **kwargs) -> str:
            return app.send_task(TASK, kwargs=kwargs, queue=queue).id

        def unacked(self, task_id: str) -> bool:
            return any(task_id.encode() in v for v in client.hvals("unacked"))

    yield Broker()
    app.conf.task_always_eager = eager
    if queues:
        client.delete(*queues)
    client.close()


@pytest.fixture
def workers(tmp_path):
    """Start workers with ``workers(queue, visibility_timeout=…, pool=…, beat=…, env=…)`` (see
    ``Worker``); all are stopped afterwards."""
    started: list[Worker] = []

    def start(queue: str, **options) -> Worker:
        worker = Worker(queue, tmp_path / f"worker-{len(started) + 1}.log", **options)
        started.append(worker)
        return worker.wait_ready()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def blocker():
    """A second PostgreSQL session that holds a row lock until released (a slow write, seen from outside)."""
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "password", "host", "port")})

    class Blocker:
        def hold_school_result(self, pk: int) -> None:
            with other.cursor() as cur:
                cur.execute("SELECT id FROM evaluation_schoolresult WHERE id = %s FOR UPDATE", [pk])
                assert cur.fetchone()

        def release(self) -> None:
            other.rollback()

    yield Blocker()
    other.rollback()
    other.close()


@pytest.fixture
def small_county(bureau_staff, school_year, alliance, other_alliance, eval_schools):
    """County X's four schools with a manual and two computed indicators, an open year period,
    an exchange, a training and a value for every school: all committed."""
    s = eval_schools
    rubric = make_rubric(
        bureau_staff,
        school_year,
        structure=[
            {
                "code": "main",
                "name": "主维度",
                "indicators": [
                    indicator("quality", 60),
                    indicator("days_sent", 20, "computed", "exchange_days_sent", params={"target": "180"}),
                    indicator("training", 20, "computed", "training_person_times", params={"target": "200"}),
                ],
            }
        ],
    )
    period = services.period_create(actor=bureau_staff, school_year=school_year)
    ExchangeFactory(teacher=TeacherFactory(school=s["lead"]), status="approved", hosts=[s["a"]])
    ActivityFactory(host_school=s["other_lead"], kind="training", person_times=120, schools=[s["b"]])
    for school, quality in ((s["lead"], 90), (s["a"], 70), (s["other_lead"], 80), (s["b"], 50)):
        enter(bureau_staff, period, rubric, school, quality=quality)
    return {"period": period, "rubric": rubric, "schools": s, "bureau": bureau_staff}


def results(period):
    return {r.school_id: (r.pk, r.own_total, r.final_score) for r in SchoolResult.objects.filter(period=period)}


def expected(period):
    """What the service computes in this process for the committed inputs (nothing written)."""
    return {s: (o.own_total, o.final_score) for s, o in compute_period(period).schools.items()}


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            [connection.settings_dict["NAME"]],
        )
        return cur.fetchone()[0] > 0


def evaluation_lock_held() -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
            [services.ADVISORY_LOCK_KEY],
        )
        return cur.fetchone()[0] > 0


def test_worker_runs_the_nightly_evaluation(small_county, broker, workers):
    period = small_county["period"]
    queue = broker.queue()
    # given the task is queued while no worker is running: it waits in Redis and nothing happens
    task_id = broker.send(queue, county_code=period.county.code, start_year=2025)
    assert broker.redis.llen(queue) == 1
    time.sleep(0.5)
    assert not EvaluationRun.objects.exists()
    assert not SchoolResult.objects.exists()
    # when a worker starts on that queue
    worker = workers(queue)
    log = worker.wait_log(f"Task {TASK}[{task_id}] succeeded")
    # then the worker recorded the run and wrote every school's result
    run = EvaluationRun.objects.get()
    assert (run.status, run.trigger, run.periods_count, run.schools_count, run.progress) == (
        "succeeded",
        "celery",
        1,
        4,
        100,
    )
    assert f"'run': {run.pk}" in log
    written = results(period)
    assert {s: (own, final) for s, (_pk, own, final) in written.items()} == expected(period)
    # and the computed indicators were computed by the worker from the logged data
    lead = SchoolResult.objects.get(period=period, school=small_county["schools"]["lead"])
    days = next(i for i in lead.explained_trace["indicators"] if i["code"] == "days_sent")
    assert (days["source"], D(days["raw_value"])) == ("metric", D(142))
    # and the message is gone from the queue and acknowledged
    assert broker.redis.llen(queue) == 0
    assert not broker.unacked(task_id)


def test_a_redelivered_duplicate_does_nothing_while_the_first_run_holds_the_lock(
    small_county, broker, workers, blocker
):
    period, s = small_county["period"], small_county["schools"]
    # given last night's results, then a changed value
    services.evaluation_run()
    before = results(period)
    enter(small_county["bureau"], period, small_county["rubric"], s["a"], quality=100)
    # and a first worker whose run is kept mid-write (a result row is locked by another session)
    queue = broker.queue()
    first = workers(queue, visibility_timeout=1)
    blocker.hold_school_result(before[s["lead"].pk][0])
    task_id = broker.send(queue, county_code=period.county.code, start_year=2025)
    first.wait_log(f"Task {TASK}[{task_id}] received")
    wait_for(waiting_on_a_lock, 15, "the first run to reach the locked row", first.log)
    # when the message outlives its visibility timeout and a second worker is delivered it again
    time.sleep(1.2)
    second = workers(queue, visibility_timeout=1)
    log = second.wait_log(f"Task {TASK}[{task_id}] succeeded")
    # then the duplicate was refused (and recorded as such): no second run, nothing written yet
    assert "'status': 'refused'" in log
    assert list(EvaluationRun.objects.order_by("pk").values_list("trigger", "status")) == [
        ("manual", "succeeded"),
        ("celery", "running"),
        ("celery", "refused"),
    ]
    assert results(period) == before
    # when the first run can finish
    blocker.release()
    first.wait_log(f"Task {TASK}[{task_id}] succeeded")
    # then exactly one new run wrote one new set of results, in place
    assert list(EvaluationRun.objects.order_by("pk").values_list("trigger", "status")) == [
        ("manual", "succeeded"),
        ("celery", "succeeded"),
        ("celery", "refused"),
    ]
    after = results(period)
    assert {sid: pk for sid, (pk, *_rest) in after.items()} == {sid: pk for sid, (pk, *_rest) in before.items()}
    assert {sid: (own, final) for sid, (_pk, own, final) in after.items()} == expected(period)
    assert after[s["a"].pk][1] > before[s["a"].pk][1]
    assert SchoolResult.objects.count() == 4
    # and the message is not delivered a third time
    assert broker.redis.llen(queue) == 0
    assert not broker.unacked(task_id)


def test_a_run_killed_midway_keeps_the_last_results_and_the_redelivery_recomputes(
    small_county, broker, workers, blocker
):
    period, s = small_county["period"], small_county["schools"]
    # given last night's results, then a changed value
    services.evaluation_run()
    before = results(period)
    enter(small_county["bureau"], period, small_county["rubric"], s["b"], quality=100)
    # and a worker whose run is in the middle of writing the results
    queue = broker.queue()
    first = workers(queue, visibility_timeout=1)
    blocker.hold_school_result(before[s["other_lead"].pk][0])
    task_id = broker.send(queue, county_code=period.county.code, start_year=2025)
    wait_for(waiting_on_a_lock, 15, "the run to reach the locked row", first.log)
    # when the worker is killed (SIGKILL: no acknowledgement) and its session ends
    first.kill()
    # A worker killed while it held kombu's ``unacked_mutex`` (it takes it every few seconds to
    # restore unacknowledged messages) leaves it to expire after 300 s: end it, as its expiry would.
    broker.redis.delete("unacked_mutex")
    blocker.release()
    wait_for(lambda: not evaluation_lock_held(), 15, "the dead run's session to end")
    # then the results of the last good run are intact and the dead run's claim is left behind
    assert results(period) == before
    dead = EvaluationRun.objects.get(trigger="celery")
    assert dead.status == "running"
    assert broker.unacked(task_id)
    # when another worker starts after the visibility timeout: Redis redelivers the message
    second = workers(queue, visibility_timeout=1)
    log = second.wait_log(f"Task {TASK}[{task_id}] succeeded")
    # then it recomputed once: the dead claim is marked abandoned, the results updated in place
    assert "'status': 'succeeded'" in log
    dead.refresh_from_db()
    assert dead.status == "abandoned" and dead.error and dead.finished_at
    runs = list(EvaluationRun.objects.order_by("pk").values_list("trigger", "status"))
    assert runs == [("manual", "succeeded"), ("celery", "abandoned"), ("celery", "succeeded")]
    after = results(period)
    assert {sid: pk for sid, (pk, *_rest) in after.items()} == {sid: pk for sid, (pk, *_rest) in before.items()}
    assert {sid: (own, final) for sid, (_pk, own, final) in after.items()} == expected(period)
    assert after[s["b"].pk][1] > before[s["b"].pk][1]
    assert SchoolResult.objects.count() == 4
    assert not broker.unacked(task_id)


def test_a_rolled_back_request_queues_no_job_and_a_committed_one_does(small_county, broker, workers):
    county, bureau = small_county["period"].county, small_county["bureau"]
    queue = app.conf.task_default_queue  # where the service's delay() sends the job
    broker.redis.delete(queue)
    # when a request queues the evaluation and then fails
    with pytest.raises(RuntimeError), transaction.atomic():
        services.evaluation_queue(actor=bureau, county=county)
        raise RuntimeError("the request fails after queueing")
    # then nothing reached Redis
    assert broker.redis.llen(queue) == 0
    # when a request queues it and commits
    with transaction.atomic():
        services.evaluation_queue(actor=bureau, county=county)
        assert broker.redis.llen(queue) == 0  # not before the commit
    # then exactly one message for the nightly task with the county's key is in the queue
    assert broker.redis.llen(queue) == 1
    message = json.loads(broker.redis.lindex(queue, 0))
    assert message["headers"]["task"] == TASK
    _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert kwargs == {"county_code": county.code, "start_year": None}
    assert not EvaluationRun.objects.exists()
    # and a worker runs it
    try:
        workers(queue).wait_log(f"Task {TASK}[{message['headers']['id']}] succeeded")
    finally:
        broker.redis.delete(queue)
    assert EvaluationRun.objects.get().status == "succeeded"


def test_a_worker_killed_outright_is_swept_as_abandoned_and_the_next_run_goes_ahead(
    small_county, broker, workers, blocker
):
    period, s = small_county["period"], small_county["schools"]
    # given last night's results, then a changed value; no county's night due meanwhile
    services.evaluation_run()
    before = results(period)
    enter(small_county["bureau"], period, small_county["rubric"], s["b"], quality=100)
    services.nightly_schedules_ensure()
    NightlySchedule.objects.update(enabled=False)
    # and a prefork worker (a main process and a child) beating every second, abandoned after 3 s
    liveness = {"EVALUATION_HEARTBEAT_SECONDS": "1", "EVALUATION_ABANDONED_AFTER": "3", "EVALUATION_SWEEP_SECONDS": "1"}
    queue = broker.queue()
    first = workers(queue, pool="prefork", env=liveness)
    assert len(first.children()) == 1
    # whose run is in the middle of writing the results
    blocker.hold_school_result(before[s["other_lead"].pk][0])
    task_id = broker.send(queue, county_code=period.county.code, start_year=2025)
    wait_for(waiting_on_a_lock, 15, "the run to reach the locked row", first.log)
    run = EvaluationRun.objects.get(trigger="celery")
    assert run.status == "running" and run.heartbeat_at and run.backend_pid
    # when both processes are killed outright (SIGKILL: no cleanup, no acknowledgement)
    killed = first.kill_all()
    killed_at = time.monotonic()
    assert len(killed) == 2
    for pid in killed:
        wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists() or "Z" in _proc_state(pid), 10, f"pid {pid} gone")
    blocker.release()
    wait_for(lambda: not evaluation_lock_held(), 15, "the dead run's session to end")
    # then at first the row still says running: nothing has noticed
    run.refresh_from_db()
    assert run.status == "running"
    # when another worker runs with beat, whose sweep comes every second
    other_queue = broker.queue()
    sweeper = workers(f"{other_queue},{app.conf.task_default_queue}", beat=True, env=liveness)
    try:
        wait_for(
            lambda: EvaluationRun.objects.filter(pk=run.pk, status="abandoned").exists(),
            30,
            "the sweep to mark the run abandoned",
            sweeper.log,
        )
        swept_after = time.monotonic() - killed_at
        # then the run is abandoned with the reason, its lock is free, the last results intact
        run.refresh_from_db()
        assert run.finished_at and run.progress < 100
        assert "3" in run.error and ("heartbeat" in run.error or "心跳" in run.error)
        assert not evaluation_lock_held()
        assert results(period) == before
        assert "evaluation.sweep_abandoned_runs" in sweeper.log()
        # and it took about the abandoned-after time plus one sweep (3 s + 1 s), not a new night
        print(f"\nrun {run.pk} swept as abandoned {swept_after:.1f} s after the kill")
        assert swept_after < 15, swept_after
        # when the next run is queued
        next_id = broker.send(other_queue, county_code=period.county.code, start_year=2025)
        log = sweeper.wait_log(f"Task {TASK}[{next_id}] succeeded", timeout=30)
    finally:
        broker.redis.delete(app.conf.task_default_queue)
    # then it goes ahead and recomputes the changed value, in place
    assert "'status': 'succeeded'" in log
    runs = list(EvaluationRun.objects.order_by("pk").values_list("trigger", "status"))
    assert runs == [("manual", "succeeded"), ("celery", "abandoned"), ("celery", "succeeded")]
    after = results(period)
    assert {sid: pk for sid, (pk, *_rest) in after.items()} == {sid: pk for sid, (pk, *_rest) in before.items()}
    assert after[s["b"].pk][1] > before[s["b"].pk][1]
    assert broker.unacked(task_id)  # the killed message waits for its visibility timeout (6 h here)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    except (FileNotFoundError, IndexError):
        return "Z"

"""The nightly run when things go wrong: the broker is unreachable when a job is queued, a run's
process stops beating, a duplicate is refused, a rubric is invalid, a school year is absurd.

The broker tests point the project's Celery app at a closed loopback port (the Redis of ``make
test`` keeps running for every other test) and switch eager execution off, so ``delay()``
really publishes; they commit (``transaction=True``) as a request does.
"""

import datetime as dt
import socket
import threading
import time

import psycopg2
import pytest
import redis
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from evaluation import services
from evaluation.models import EvaluationRun, Indicator, IndicatorValue, NightlySchedule, SchoolResult
from evaluation.tasks import nightly_evaluation, sweep_abandoned_runs

from . import test_nightly_schedule

two_counties = test_nightly_schedule.two_counties  # the fixture: counties X and Y, each with an open period

NOT_QUEUED_ZH = "无法连接任务队列，考核计算未排队。未做任何更改，请稍后重试。"
NOT_QUEUED_EN = (
    "The job queue cannot be reached, so the evaluation was not queued. Nothing was changed; please try again later."
)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _reset_pools() -> None:
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """The Celery app publishing to a loopback port where nothing listens."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"
    app.conf.task_always_eager = False
    _reset_pools()
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    _reset_pools()


def _real_queue_length() -> int:
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return client.llen(app.conf.task_default_queue)
    finally:
        client.close()


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_api_answers_503_with_a_message_when_the_broker_is_down(api_as, bureau_staff, year_period, broker_down):
    before = SchoolResult.objects.count(), list(EvaluationRun.objects.all())
    queued_before = _real_queue_length()
    api = api_as(bureau_staff)
    # when bureau staff ask for a recompute (in Chinese, the default) while the broker is unreachable
    started = time.monotonic()
    response = api.post("/api/v1/evaluation/runs/start/", {"start_year": 2025}, format="json")
    answered_in = time.monotonic() - started
    # then the answer is a 503 in JSON with the message in the user's language, soon
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": NOT_QUEUED_ZH, "queued": False}
    assert answered_in < 10, answered_in
    # and a run record says so; nothing else changed and nothing reached any queue
    run = EvaluationRun.objects.get()
    assert (run.status, run.county_id, run.start_year, run.progress) == ("not_queued", year_period.county_id, 2025, 0)
    assert run.error.startswith(NOT_QUEUED_ZH) and run.finished_at == run.started_at
    assert run.trigger == "queue: bureau"
    assert (SchoolResult.objects.count(), before[1]) == (before[0], [])
    assert _real_queue_length() == queued_before
    # and in English for a user reading English; the period's own action answers the same
    response = api.post(f"/api/v1/evaluation/periods/{year_period.pk}/evaluate/", HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response.json()["detail"]) == (503, NOT_QUEUED_EN)
    assert list(EvaluationRun.objects.order_by("pk").values_list("status", flat=True)) == ["not_queued"] * 2
    # and reads keep working
    assert api.get("/api/v1/evaluation/runs/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_admin_action_shows_a_message_when_the_broker_is_down(bureau_staff, year_period, broker_down):
    client = _admin(bureau_staff)
    # when bureau staff run "recompute now" in the admin
    response = client.post(
        reverse("admin:evaluation_evaluationperiod_changelist"),
        {"action": "evaluate_now", "_selected_action": [year_period.pk]},
        follow=True,
    )
    # then the page shows the error message (no server error) and a run record says so
    assert response.status_code == 200
    shown = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)] or [
        (m.level_tag, str(m)) for m in response.context["messages"]
    ]
    assert any(level == "error" and NOT_QUEUED_ZH in text for level, text in shown)
    assert ("success", "已排队。") not in shown
    run = EvaluationRun.objects.get()
    assert (run.status, run.county_id, run.start_year) == ("not_queued", year_period.county_id, 2025)
    assert not SchoolResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_queueing_works_again_once_the_broker_is_back(api_as, bureau_staff, year_period, broker_down):
    api = api_as(bureau_staff)
    assert api.post("/api/v1/evaluation/runs/start/", {}, format="json").status_code == 503
    # when the broker is reachable again (the real Redis)
    app.conf.broker_url = settings.CELERY_BROKER_URL
    _reset_pools()
    queue = app.conf.task_default_queue
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(queue)
    try:
        response = api.post("/api/v1/evaluation/runs/start/", {}, format="json")
        # then the job is queued: one message in Redis, no new run record until a worker runs it
        assert (response.status_code, response.json()) == (202, {"queued": True})
        assert client.llen(queue) == 1
        assert list(EvaluationRun.objects.values_list("status", flat=True)) == ["not_queued"]
    finally:
        client.delete(queue)
        client.close()


@pytest.mark.parametrize("year", [99999999999999999999, 1999, 2101, "abc"])
def test_runs_start_refuses_an_absurd_school_year(year, api_as, bureau_staff, year_period):
    response = api_as(bureau_staff).post("/api/v1/evaluation/runs/start/", {"start_year": year}, format="json")
    assert response.status_code == 400
    assert response.json() == {"start_year": ["学年应在 2000 到 2100 之间，例如 2025 表示 2025–2026 学年。"]}
    assert not EvaluationRun.objects.exists()


def test_runs_start_accepts_a_real_school_year(api_as, bureau_staff, year_period, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(bureau_staff).post("/api/v1/evaluation/runs/start/", {"start_year": 2025}, format="json")
    assert response.status_code == 202
    run = EvaluationRun.objects.get()
    assert (run.status, run.start_year, run.county_id) == ("succeeded", 2025, year_period.county_id)


@pytest.fixture
def other_session():
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "password", "host", "port")})
    other.autocommit = True
    yield other
    other.close()


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_commits_while_the_run_is_inside_its_write(two_counties, other_session, settings):
    # given two batches (a county each), a beat at every step, and last night's results
    settings.EVALUATION_BATCH_SCHOOLS = 1
    settings.EVALUATION_HEARTBEAT_SECONDS = 0
    services.evaluation_run()
    y_result = SchoolResult.objects.filter(period=two_counties["y"]).order_by("pk").first()
    # and new values in county Y (an unchanged result is not rewritten)
    IndicatorValue.objects.filter(period=two_counties["y"]).update(value=90)
    # and the second county's write kept waiting (another session locks one of its results)
    with other_session.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT id FROM evaluation_schoolresult WHERE id = %s FOR UPDATE", [y_result.pk])
    outcome: list = []

    def run_in_a_thread():
        try:
            outcome.append(services.evaluation_run(trigger="thread"))
        finally:
            connection.close()

    worker = threading.Thread(target=run_in_a_thread)
    worker.start()
    try:
        # when the run is stuck inside the second batch's write transaction
        def waiting():
            with connection.cursor() as cur:  # not the locking session: its transaction caches pg_stat_activity
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                return cur.fetchone()[0]

        deadline = time.monotonic() + 20
        while not waiting():
            assert time.monotonic() < deadline, "the run never reached the locked row"
            time.sleep(0.05)
        # then another session sees its heartbeats (committed on their own connection)
        with connection.cursor() as cur:
            cur.execute(
                "SELECT status, started_at, heartbeat_at, progress FROM evaluation_evaluationrun "
                "WHERE trigger = 'thread'"
            )
            status, started_at, heartbeat_at, progress = cur.fetchone()
        assert status == "running" and heartbeat_at > started_at
        assert progress == 49  # the first county is written
        # and a sweep does not touch a run that beats
        assert services.evaluation_runs_sweep() == []
    finally:
        with other_session.cursor() as cur:
            cur.execute("ROLLBACK")
        worker.join(30)
    run = outcome[0]
    assert (run.status, run.periods_count, run.progress) == ("succeeded", 2, 100)
    assert run.heartbeat_at >= heartbeat_at


@pytest.mark.django_db(transaction=True)
def test_the_sweep_abandons_a_run_that_stopped_beating_and_frees_its_lock(two_counties, other_session, settings):
    settings.EVALUATION_ABANDONED_AFTER = 300
    # given a run whose process hangs: its session holds the evaluation lock, its beat stopped 6 min ago
    with other_session.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s), pg_backend_pid()", [services.ADVISORY_LOCK_KEY])
        got, pid = cur.fetchone()
    assert got
    long_ago = timezone.now() - dt.timedelta(minutes=6)
    hung = EvaluationRun.objects.create(started_at=long_ago, heartbeat_at=long_ago, backend_pid=pid, trigger="celery")
    NightlySchedule.objects.filter(county=two_counties["x"].county).update(
        last_run_on=timezone.localdate(), last_run=hung
    )
    # and meanwhile another run is refused (and recorded)
    with pytest.raises(services.RunRefused):
        services.evaluation_run()
    # when beat's sweep runs
    outcome = sweep_abandoned_runs.run()
    # then the run is abandoned with the reason, its session ended, its county's night given back
    assert outcome == {"abandoned": [hung.pk]}
    hung.refresh_from_db()
    assert hung.status == "abandoned" and hung.finished_at
    assert "300" in hung.error
    with pytest.raises(psycopg2.Error), other_session.cursor() as cur:
        cur.execute("SELECT 1")
    x = NightlySchedule.objects.get(county=two_counties["x"].county)
    assert (x.last_run_on, x.last_run_id) == (None, None)
    # and the next run goes ahead
    run = nightly_evaluation.run()
    assert run["status"] == "succeeded"
    statuses = list(EvaluationRun.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["abandoned", "refused", "succeeded"]
    # and a second sweep finds nothing
    assert services.evaluation_runs_sweep() == []


def test_an_invalid_rubric_is_skipped_recorded_and_every_other_period_scored(two_counties, bureau_staff):
    x_period, y_period = two_counties["x"], two_counties["y"]
    # given county X's rubric edited behind the services' back: 60 + 35 = 95 points
    Indicator.objects.filter(dimension__rubric__county=x_period.county, code="care").update(max_points=35)
    # when the nightly job runs for every county
    outcome = nightly_evaluation.delay().get()
    # then county Y's period is scored, county X's left out, and the run says which and why
    run = EvaluationRun.objects.get()
    assert outcome == {"status": "succeeded", "run": run.pk, "schools": 2}
    assert run.periods_count == 1
    assert SchoolResult.objects.filter(period=y_period).count() == 2
    assert not SchoolResult.objects.filter(period=x_period).exists()
    assert len(run.skipped) == 1
    skipped = run.skipped[0]
    assert (skipped["period"], skipped["county"]) == (x_period.pk, x_period.county_id)
    assert "95" in skipped["reason"] and "100" in skipped["reason"]
    # and county X's bureau reads it on the run's admin page
    page = _admin(bureau_staff).get(reverse("admin:evaluation_evaluationrun_change", args=[run.pk]))
    assert page.status_code == 200
    assert "95" in page.content.decode()

"""Each county's night is its own: its bureau staff change its time and switch it on or off in
the admin (their county's row only); the one beat task runs every county whose time has come
and that is on; the global beat schedule (django-celery-beat) is the superusers' alone."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from evaluation import services
from evaluation.models import EvaluationRun, NightlySchedule, SchoolResult
from evaluation.tasks import nightly_tick

from .factories import SchoolFactory, SchoolYearFactory, UserFactory, make_alliance
from .factories_evaluation import enter, make_rubric

SHANGHAI = ZoneInfo("Asia/Shanghai")
TONIGHT = dt.datetime(2026, 3, 2, 2, 5, tzinfo=SHANGHAI)  # after both counties' 02:00


@pytest.fixture
def two_counties(bureau_staff, other_bureau_staff, year_period, simple_rubric, eval_schools, other_county):
    """County X (four schools, open year period) and county Y (two schools, open year period),
    every school with values entered; a schedule for each, last run the night before."""
    s = eval_schools
    for school in s.values():
        enter(bureau_staff, year_period, simple_rubric, school, quality=80, care=60)
    y_year = SchoolYearFactory(county=other_county, start_year=2025)
    y_lead, y_member = SchoolFactory(county=other_county), SchoolFactory(county=other_county)
    make_alliance(other_county, y_lead, [y_member], school_year=y_year)
    y_rubric = make_rubric(other_bureau_staff, y_year)
    y_period = services.period_create(actor=other_bureau_staff, school_year=y_year)
    for school in (y_lead, y_member):
        enter(other_bureau_staff, y_period, y_rubric, school, quality=70, care=50)
    services.nightly_schedules_ensure(now=TONIGHT)
    NightlySchedule.objects.update(last_run_on=dt.date(2026, 3, 1))
    return {"x": year_period, "y": y_period}


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_bureau_staff_see_and_change_only_their_countys_schedule(two_counties, bureau_staff, other_bureau_staff):
    x = NightlySchedule.objects.get(county=two_counties["x"].county)
    y = NightlySchedule.objects.get(county=two_counties["y"].county)
    client = _admin(other_bureau_staff)
    # when county Y's bureau opens the schedules
    listing = client.get(reverse("admin:evaluation_nightlyschedule_changelist"))
    # then it lists Y's row only
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [y]
    # and county X's row is not found, neither to read nor to change
    url_x = reverse("admin:evaluation_nightlyschedule_change", args=[x.pk])
    assert client.get(url_x).status_code == 404
    assert client.post(url_x, {"enabled": "", "run_at": "04:00"}).status_code == 404
    x.refresh_from_db()
    assert (x.enabled, x.run_at) == (True, dt.time(2, 0))
    # when it switches its own county off and moves its time
    url_y = reverse("admin:evaluation_nightlyschedule_change", args=[y.pk])
    response = client.post(url_y, {"enabled": "", "run_at": "03:30"})
    # then its own row changed, county X's did not
    assert response.status_code == 302
    y.refresh_from_db()
    x.refresh_from_db()
    assert (y.enabled, y.run_at) == (False, dt.time(3, 30))
    assert (x.enabled, x.run_at) == (True, dt.time(2, 0))
    # and it cannot move its row to another county (the county is read-only)
    client.post(url_y, {"county": x.county_id, "enabled": "on", "run_at": "03:30"})
    y.refresh_from_db()
    assert y.county_id == two_counties["y"].county_id
    # and county X's bureau sees X's row only
    assert list(
        _admin(bureau_staff).get(reverse("admin:evaluation_nightlyschedule_changelist")).context["cl"].result_list
    ) == [x]


def test_switching_one_county_off_does_not_stop_anothers_night(two_counties, other_bureau_staff):
    x_period, y_period = two_counties["x"], two_counties["y"]
    # given county Y's bureau switched its night off
    _admin(other_bureau_staff).post(
        reverse(
            "admin:evaluation_nightlyschedule_change", args=[NightlySchedule.objects.get(county=y_period.county).pk]
        ),
        {"enabled": "", "run_at": "02:00"},
    )
    # when the beat task's run comes after 02:00
    run = services.evaluation_run_scheduled(now=TONIGHT)
    # then county X was evaluated tonight, county Y not at all
    assert (run.status, run.trigger, run.county_id, run.periods_count) == (
        "succeeded",
        "schedule",
        x_period.county_id,
        1,
    )
    assert SchoolResult.objects.filter(period=x_period).count() == 4
    assert not SchoolResult.objects.filter(period=y_period).exists()
    x = NightlySchedule.objects.get(county=x_period.county)
    y = NightlySchedule.objects.get(county=y_period.county)
    assert (x.last_run_on, x.last_run_id) == (dt.date(2026, 3, 2), run.pk)
    assert (y.last_run_on, y.last_run_id) == (dt.date(2026, 3, 1), None)
    # and a second tick the same night runs nothing and records nothing
    assert services.evaluation_run_scheduled(now=TONIGHT + dt.timedelta(minutes=1)) is None
    assert EvaluationRun.objects.count() == 1


def test_each_county_runs_at_its_own_time(two_counties):
    x_period, y_period = two_counties["x"], two_counties["y"]
    NightlySchedule.objects.filter(county=y_period.county).update(run_at=dt.time(4, 0))
    # at 02:05 only county X's time has come
    first = services.evaluation_run_scheduled(now=TONIGHT)
    assert first.county_id == x_period.county_id
    assert not SchoolResult.objects.filter(period=y_period).exists()
    # at 04:00 county Y's
    second = services.evaluation_run_scheduled(now=TONIGHT.replace(hour=4, minute=0))
    assert (second.status, second.county_id, second.periods_count) == ("succeeded", y_period.county_id, 1)
    assert SchoolResult.objects.filter(period=y_period).count() == 2


def test_the_beat_task_runs_the_counties_whose_time_has_come(two_counties):
    # given both counties due now (their last run was long ago, their time 00:00)
    NightlySchedule.objects.update(last_run_on=dt.date(2000, 1, 1), run_at=dt.time(0, 0))
    # when beat's tick runs
    outcome = nightly_tick.run()
    # then one run evaluated both counties
    run = EvaluationRun.objects.get()
    assert outcome == {"status": "succeeded", "run": run.pk, "schools": 6}
    assert (run.county_id, run.periods_count, run.trigger) == (None, 2, "schedule")
    # and the next tick finds nothing due
    assert nightly_tick.run() == {"status": "nothing due"}
    assert EvaluationRun.objects.count() == 1


def test_a_new_county_gets_a_schedule_that_first_runs_the_next_night(county, other_county):
    created = services.nightly_schedules_ensure(now=TONIGHT)
    assert created == 2
    assert set(NightlySchedule.objects.values_list("county__code", "enabled", "run_at", "last_run_on")) == {
        (county.code, True, dt.time(2, 0), dt.date(2026, 3, 2)),
        (other_county.code, True, dt.time(2, 0), dt.date(2026, 3, 2)),
    }
    assert services.nightly_schedules_ensure(now=TONIGHT) == 0


BEAT_PAGES = [
    "admin:django_celery_beat_periodictask_changelist",
    "admin:django_celery_beat_periodictask_add",
    "admin:django_celery_beat_crontabschedule_changelist",
    "admin:django_celery_beat_intervalschedule_changelist",
]


@pytest.mark.parametrize("page", BEAT_PAGES)
def test_bureau_staff_get_403_on_the_global_beat_schedule(page, bureau_staff):
    assert _admin(bureau_staff).get(reverse(page)).status_code == 403


def test_bureau_staff_cannot_switch_off_the_global_beat_task(bureau_staff):
    # given the beat task (as DatabaseScheduler copies it from settings)
    every_minute = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
    task = PeriodicTask.objects.create(
        name="evaluation nightly tick", task="evaluation.nightly_tick", interval=every_minute
    )
    url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    # when bureau staff open or post its change page
    client = _admin(bureau_staff)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": task.name, "task": task.task, "enabled": ""}).status_code == 403
    # then it is unchanged
    task.refresh_from_db()
    assert task.enabled


def test_superusers_keep_the_global_beat_schedule(db):
    root = UserFactory(username="root", is_superuser=True)
    client = _admin(root)
    for page in BEAT_PAGES:
        assert client.get(reverse(page)).status_code == 200

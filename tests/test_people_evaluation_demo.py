"""The demo's principals' evaluation (demo/people_part.py): seed 003's six principals'
dimensions, a value of every manual and survey indicator for every school's principal, and the
computed results; a second load writes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from alliance.models import School, User
from evaluation.models import EvaluationPeriod, EvaluationRun, Indicator, IndicatorValue, PersonResult, Rubric

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_principals_rubric_with_values_and_computed_results():
    # given the demo loaded
    call_command("load_demo", stdout=io.StringIO())
    rubric = Rubric.objects.get(subject="principal")
    county = rubric.county
    period = EvaluationPeriod.objects.get(county=county, subject="principal")
    schools = School.objects.filter(county=county, active=True)

    # then the rubric is seed 003's six principals' dimensions, sound and hashed
    assert rubric.dimensions.count() == 6 and rubric.content_hash
    # and every school's principal has a value of each manual and survey indicator
    entered = Indicator.objects.filter(dimension__rubric=rubric).exclude(method="computed").count()
    assert IndicatorValue.objects.filter(period=period).count() == entered * schools.count()
    # and a computed, graded result each, open (not proposed): the bureau's working figures
    results = PersonResult.objects.filter(period=period)
    assert results.count() == schools.count()
    assert set(results.values_list("subject", flat=True)) == {"principal"}
    assert results.filter(score__gt=60).exists() and period.status == "open"
    bureau = User.objects.get(username="demo-bureau")
    assert PersonResult.objects.visible_to(bureau).filter(period=period).count() == schools.count()

    # when the demo is loaded again, nothing is added: no value, result or run
    counts = (IndicatorValue.objects.count(), PersonResult.objects.count(), EvaluationRun.objects.count())
    call_command("load_demo", stdout=io.StringIO())
    assert (IndicatorValue.objects.count(), PersonResult.objects.count(), EvaluationRun.objects.count()) == counts

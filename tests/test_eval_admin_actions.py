"""The evaluation admin: each role is offered only the actions it may run; a bulk action says
exactly what it did (N of M, and why not for the others); a result's trace is a table in
words."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from evaluation import services
from evaluation.models import SchoolResult

from .factories import TermFactory
from .factories_evaluation import enter

BUREAU_ACTIONS = {"propose", "approve", "evaluate_now"}


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def offered(user, changelist: str) -> set[str]:
    client = Client()
    client.force_login(user)
    response = client.get(reverse(f"admin:evaluation_{changelist}_changelist"))
    assert response.status_code == 200
    form = response.context["action_form"]
    if form is None:
        return set()
    return {name for name, _label in form.fields["action"].choices if name}


@pytest.fixture
def scored(bureau_staff, year_period, simple_rubric, eval_schools):
    for school in eval_schools.values():
        enter(bureau_staff, year_period, simple_rubric, school, quality=80, care=70)
    services.evaluation_run()
    return year_period


def test_each_role_is_offered_only_the_actions_it_may_run(
    scored, bureau_staff, auditor, principal, lead_principal, assessor
):
    assert offered(bureau_staff, "evaluationperiod") == BUREAU_ACTIONS | {"export_awards"}
    assert offered(auditor, "evaluationperiod") == {"export_awards"}
    for user in (principal, lead_principal, assessor):
        assert offered(user, "evaluationperiod") == set()
    for changelist in ("appeal", "correction", "rubric"):
        assert offered(auditor, changelist) == set(), changelist
        assert offered(principal, changelist) == set(), changelist


def test_an_auditor_posting_a_bureau_action_changes_nothing(scored, auditor):
    client = Client()
    client.force_login(auditor)
    client.post(
        reverse("admin:evaluation_evaluationperiod_changelist"),
        {"action": "propose", "_selected_action": [scored.pk]},
    )
    scored.refresh_from_db()
    assert scored.status == "open"


def test_a_bulk_action_says_how_many_it_did_and_why_not_the_rest(scored, bureau_staff, school_year):
    # given two periods, the school year's already proposed
    term = TermFactory(school_year=school_year)
    other = services.period_create(actor=bureau_staff, school_year=school_year, term=term)
    services.publication_propose(actor=bureau_staff, period=scored)
    client = Client()
    client.force_login(bureau_staff)
    # when both are proposed
    response = client.post(
        reverse("admin:evaluation_evaluationperiod_changelist"),
        {"action": "propose", "_selected_action": [scored.pk, other.pk]},
        follow=True,
    )
    # then one was, and the message says why not the other
    said = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert said == [
        ("warning", "1 of 2 periods proposed."),
        ("error", f"Not done for {scored}: {scored} is under public notice; values change only through appeals."),
    ]
    other.refresh_from_db()
    assert other.status == "proposed"


def test_the_trace_is_a_table_in_words(scored, bureau_staff):
    result = SchoolResult.objects.filter(period=scored).first()
    client = Client()
    client.force_login(bureau_staff)
    url = reverse("admin:evaluation_schoolresult_change", args=[result.pk])
    with translation.override("zh-hans"):
        body = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'class="trace-table"' in body
    assert "&quot;own_total&quot;" not in body and '"own_total"' not in body  # no JSON
    assert "指标" in body  # the indicators' table, in Chinese
    assert result.grade == "good" and "良好" in body  # the grade, in words
    assert "目标达成比例" in body  # the rule, in words

"""Publishing with four eyes, the public notice and appeals; frozen published years; awards
booked to the ledger; bad input refused with nothing written (corrections of a published
period: test_evaluation_corrections.py)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from evaluation import services
from evaluation.models import (
    Appeal,
    AwardPolicy,
    EvaluationPeriod,
    Indicator,
    IndicatorValue,
    Publication,
    Rubric,
    SchoolResult,
)

from .factories_evaluation import enter, indicator, make_rubric


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def entered(bureau_staff, year_period, simple_rubric, eval_schools):
    for key, (q, c) in {"lead": (100, 50), "a": (50, 75), "other_lead": (100, 75), "b": (50, 25)}.items():
        enter(bureau_staff, year_period, simple_rubric, eval_schools[key], quality=q, care=c)
    return year_period


def end_notice(period):
    """The public notice is over (its end moved into the past)."""
    EvaluationPeriod.objects.filter(pk=period.pk).update(notice_ends_at=timezone.now() - dt.timedelta(minutes=1))
    period.refresh_from_db()


def quality(rubric):
    return Indicator.objects.get(dimension__rubric=rubric, code="quality")


def test_principals_see_their_result_only_once_proposed(entered, bureau_staff, principal, api_as):
    services.evaluation_run()
    api = api_as(principal)
    assert api.get("/api/v1/evaluation/results/").json()["count"] == 0
    services.publication_propose(actor=bureau_staff, period=entered)
    body = api.get("/api/v1/evaluation/results/").json()
    assert [r["school"] for r in body["results"]] == [principal.school_id]
    detail = api.get(f"/api/v1/evaluation/results/{body['results'][0]['id']}/").json()
    assert detail["trace"]["own_total"] == "60.00"


def test_full_publication_books_the_awards(entered, bureau_staff, second_bureau_staff, open_year, eval_schools):
    # given the proposal, its notice over
    period = services.publication_propose(actor=bureau_staff, period=entered)
    end_notice(period)
    # when a second bureau user approves
    publication = services.publication_approve(actor=second_bureau_staff, period=period)
    # then scores and awards are frozen and the awards booked pool → schools, adding up to the pool
    period.refresh_from_db()
    assert period.status == "published"
    results = SchoolResult.objects.filter(period=period)
    awards = {r.school_id: r.award for r in results}
    assert sum(awards.values()) == D("240000.00")
    assert awards[eval_schools["other_lead"].pk] > awards[eval_schools["b"].pk]
    from funding.models import LedgerEntry

    entry = LedgerEntry.objects.get(pk=publication.ledger_entry_id)
    assert entry.kind == "award"
    # and the job leaves the published period alone, even if a value changed behind its back
    IndicatorValue.objects.filter(period=period).update(value=D(0))
    before = list(results.values_list("school_id", "final_score", "award"))
    services.evaluation_run()
    assert list(SchoolResult.objects.filter(period=period).values_list("school_id", "final_score", "award")) == before


def test_an_appeal_accepted_corrects_the_value_and_recomputes(entered, bureau_staff, principal, api_as, simple_rubric):
    period = services.publication_propose(actor=bureau_staff, period=entered)
    api = api_as(principal)
    r = api.post(
        "/api/v1/evaluation/appeals/",
        {"period": period.pk, "indicator": quality(simple_rubric).pk, "reason": "质量分漏算了期末统考"},
        format="json",
    )
    assert r.status_code == 201, r.content
    appeal = Appeal.objects.get()
    assert appeal.school_id == principal.school_id
    services.appeal_accept(actor=bureau_staff, appeal=appeal, value=100)
    result = SchoolResult.objects.get(period=period, school=principal.school)
    assert result.own_total == D("90.00")  # 60 + 40 × 75 %


def test_approval_waits_for_open_appeals_and_the_notice(
    entered, bureau_staff, second_bureau_staff, principal, simple_rubric
):
    period = services.publication_propose(actor=bureau_staff, period=entered)
    with pytest.raises(ValidationError, match="public notice runs until"):
        services.publication_approve(actor=second_bureau_staff, period=period)
    appeal = services.appeal_file(actor=principal, period=period, indicator=quality(simple_rubric), reason="请复核")
    end_notice(period)
    with pytest.raises(ValidationError, match="open appeals"):
        services.publication_approve(actor=second_bureau_staff, period=period)
    with pytest.raises(ValidationError, match="reason"):
        services.appeal_reject(actor=bureau_staff, appeal=appeal, decision=" ")
    services.appeal_reject(actor=bureau_staff, appeal=appeal, decision="已复核，分数无误")
    services.publication_approve(actor=second_bureau_staff, period=period)
    assert EvaluationPeriod.objects.get(pk=period.pk).status == "published"


# --- bad input: a clear message, nothing written -----------------------------------------


def test_approving_ones_own_proposal_is_refused(entered, bureau_staff):
    period = services.publication_propose(actor=bureau_staff, period=entered)
    end_notice(period)
    with pytest.raises(ValidationError, match="different bureau user"):
        services.publication_approve(actor=bureau_staff, period=period)
    assert EvaluationPeriod.objects.get(pk=period.pk).status == "proposed"
    assert not Publication.objects.exists()


def test_an_appeal_after_the_notice_is_refused(entered, bureau_staff, principal, simple_rubric):
    period = services.publication_propose(actor=bureau_staff, period=entered)
    end_notice(period)
    with pytest.raises(ValidationError, match="only during the public notice"):
        services.appeal_file(actor=principal, period=period, indicator=quality(simple_rubric), reason="迟到的申诉")
    assert not Appeal.objects.exists()


def test_editing_a_published_year_is_refused(entered, bureau_staff, second_bureau_staff, simple_rubric, eval_schools):
    period = services.publication_propose(actor=bureau_staff, period=entered)
    end_notice(period)
    services.publication_approve(actor=second_bureau_staff, period=period)
    with pytest.raises(ValidationError, match="published"):
        enter(bureau_staff, period, simple_rubric, eval_schools["a"], quality=1)
    assert IndicatorValue.objects.get(period=period, school=eval_schools["a"], indicator__code="quality").value == 50


def test_a_value_outside_its_range_is_refused(year_period, bureau_staff, simple_rubric, eval_schools):
    with pytest.raises(ValidationError, match="takes values from 0 to 100"):
        enter(bureau_staff, year_period, simple_rubric, eval_schools["a"], quality=101)
    assert not IndicatorValue.objects.exists()
    assert not Rubric.objects.get(pk=simple_rubric.pk).locked


def test_an_assessor_enters_only_for_assigned_schools(year_period, assessor, simple_rubric, eval_schools, api_as):
    # through the service
    with pytest.raises(ValidationError, match="not among the schools assigned"):
        enter(assessor, year_period, simple_rubric, eval_schools["b"], quality=50)
    # and through the API (the school is not even offered)
    r = api_as(assessor).post(
        "/api/v1/evaluation/values/",
        {
            "period": year_period.pk,
            "indicator": quality(simple_rubric).pk,
            "school": eval_schools["b"].pk,
            "value": "50",
        },
        format="json",
    )
    assert r.status_code == 400 and "school" in r.json()
    assert not IndicatorValue.objects.exists()
    # while the assigned school works, and locks the rubric
    r = api_as(assessor).post(
        "/api/v1/evaluation/values/",
        {
            "period": year_period.pk,
            "indicator": quality(simple_rubric).pk,
            "school": eval_schools["a"].pk,
            "value": "50",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert Rubric.objects.get(pk=simple_rubric.pk).locked


def test_points_that_do_not_add_up_to_100_are_refused(bureau_staff, school_year):
    with pytest.raises(ValidationError, match="add up to 99; they must add up to 100"):
        make_rubric(bureau_staff, school_year, [{"code": "d", "name": "d", "indicators": [indicator("x", 99)]}])
    assert not Rubric.objects.exists()


@pytest.mark.parametrize("beta", [D("-0.1"), D("1.1")])
def test_beta_outside_0_1_is_refused(bureau_staff, school_year, beta):
    with pytest.raises(ValidationError, match="β must be between 0 and 1"):
        make_rubric(bureau_staff, school_year, beta=beta)
    assert not Rubric.objects.exists()


def test_a_locked_rubric_changes_only_by_a_new_version(entered, bureau_staff, simple_rubric):
    with pytest.raises(ValidationError, match="locked"):
        services.rubric_update(actor=bureau_staff, rubric=simple_rubric, beta=D("0.5"))
    revised = services.rubric_revise(actor=bureau_staff, rubric=simple_rubric)
    revised = services.rubric_update(actor=bureau_staff, rubric=revised, beta=D("0.5"))
    assert (revised.version, revised.locked, revised.beta) == (2, False, D("0.50"))
    assert revised.content_hash != Rubric.objects.get(pk=simple_rubric.pk).content_hash
    services.evaluation_run()
    assert set(SchoolResult.objects.values_list("rubric_version", flat=True)) == {2}


def test_negative_coefficients_are_refused_in_the_preview_and_policy(entered, bureau_staff, open_year, api_as):
    r = api_as(bureau_staff).post(
        f"/api/v1/evaluation/periods/{entered.pk}/preview/",
        {"kind": "tiers", "coefficients": {"excellent": "-1", "good": "-1", "pass": "-1", "fail": "-1"}},
        format="json",
    )
    assert r.status_code == 400 and "negative" in str(r.json())
    r = api_as(bureau_staff).post(
        "/api/v1/evaluation/award-policies/",
        {
            "county": entered.county_id,
            "school_year": entered.school_year_id,
            "kind": "tiers",
            "tier_coefficients": {"fail": "-0.5"},
        },
        format="json",
    )
    assert r.status_code == 400 and "negative" in str(r.json())


def test_what_if_preview_changes_nothing(entered, bureau_staff, open_year, api_as, eval_schools):
    services.evaluation_run()
    before = list(SchoolResult.objects.values_list("school_id", "final_score", "award_preview"))
    r = api_as(bureau_staff).post(
        f"/api/v1/evaluation/periods/{entered.pk}/preview/", {"beta": "0.0", "kind": "tiers"}, format="json"
    )
    assert r.status_code == 200, r.content
    rows = {row["school"]: row for row in r.json()["rows"]}
    lead = rows[eval_schools["lead"].pk]
    assert (D(lead["current_score"]), D(lead["new_score"])) == (D("72.00"), D("80.00"))
    assert sum(D(row["new_award"]) for row in rows.values()) == D("240000.00")
    assert list(SchoolResult.objects.values_list("school_id", "final_score", "award_preview")) == before


def test_only_the_bureau_proposes(entered, principal, auditor):
    for user in (principal, auditor):
        with pytest.raises(PermissionDenied):
            services.publication_propose(actor=user, period=entered)


def test_the_award_policy_is_fixed_once_the_year_is_proposed(entered, bureau_staff, open_year, api_as, client):
    policy = AwardPolicy.objects.create(county=entered.county, school_year=entered.school_year)
    url = f"/api/v1/evaluation/award-policies/{policy.pk}/"
    api = api_as(bureau_staff)
    # while the year is open the policy changes
    assert api.patch(url, {"pass_threshold": "50.00"}, format="json").status_code == 200
    # when the year's results are proposed
    services.evaluation_run()
    services.publication_propose(actor=bureau_staff, period=entered)
    # then a change or a deletion is refused with the reason, and nothing is written
    r = api.patch(url, {"pass_threshold": "70.00"}, format="json")
    assert r.status_code == 400 and "can no longer be changed" in str(r.json())
    r = api.delete(url)
    assert r.status_code == 400 and "can no longer be changed" in str(r.json())
    policy.refresh_from_db()
    assert policy.pass_threshold == D("50.00")
    # and the admin shows it with no way to save or delete it
    client.force_login(bureau_staff)
    page = client.get(f"/admin/evaluation/awardpolicy/{policy.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"/admin/evaluation/awardpolicy/{policy.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AwardPolicy.objects.filter(pk=policy.pk).exists()

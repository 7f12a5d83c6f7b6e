"""The evaluation API's writes: input serializer → service → output serializer. Bad input is a
400 with a message, never a 500; lists give summaries; the what-if preview's figures are
decimal strings."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from evaluation import services
from evaluation.models import Indicator

from .factories_evaluation import enter, two_manual_indicators


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def entered(bureau_staff, year_period, simple_rubric, eval_schools):
    for key, (q, c) in {"lead": (100, 50), "a": (50, 75), "other_lead": (100, 75), "b": (50, 25)}.items():
        enter(bureau_staff, year_period, simple_rubric, eval_schools[key], quality=q, care=c)
    services.evaluation_run()
    return year_period


@pytest.mark.parametrize("school_year", ["abc", [1], None, {"id": 1}])
def test_a_rubric_with_a_school_year_that_is_no_id_is_a_400(bureau_staff, api_as, school_year):
    body = {"school_year": school_year, "dimensions": []}
    r = api_as(bureau_staff).post("/api/v1/evaluation/rubrics/", body, format="json")
    assert r.status_code == 400, r.content
    assert "school_year" in r.json()


def test_a_rubric_of_a_year_that_has_one_is_a_400(bureau_staff, api_as, simple_rubric, school_year):
    r = api_as(bureau_staff).post("/api/v1/evaluation/rubrics/default/", {"school_year": school_year.pk})
    assert r.status_code == 400
    assert "already has a rubric" in str(r.json())


def test_a_rubric_is_created_through_the_api(bureau_staff, api_as, school_year):
    dims = [
        {**d, "indicators": [{**i, "max_points": str(i["max_points"]), "value_min": "0", "value_max": "100"}
                             for i in d["indicators"]]}
        for d in two_manual_indicators()
    ]  # fmt: skip
    r = api_as(bureau_staff).post(
        "/api/v1/evaluation/rubrics/", {"school_year": school_year.pk, "dimensions": dims}, format="json"
    )
    assert r.status_code == 201, r.content
    assert [i["code"] for i in r.json()["dimensions"][0]["indicators"]] == ["quality", "care"]


@pytest.mark.parametrize("indicator", ["abc", [1], None])
def test_a_correction_naming_no_indicator_id_is_a_400(entered, bureau_staff, api_as, member_school, indicator):
    r = api_as(bureau_staff).post(
        f"/api/v1/evaluation/periods/{entered.pk}/correct/",
        {"reason": "录入错误", "corrections": [{"indicator": indicator, "school": member_school.pk, "value": "80"}]},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert "indicator" in str(r.json())


def test_a_value_is_entered_through_the_input_serializer(entered, assessor, api_as, member_school, other_school):
    quality = Indicator.objects.get(dimension__rubric__county=entered.county, code="quality")
    api = api_as(assessor)
    r = api.post(
        "/api/v1/evaluation/values/",
        {"period": entered.pk, "indicator": quality.pk, "school": member_school.pk, "value": "77"},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert D(r.json()["value"]) == D(77)
    # the same value again updates it (no duplicate refusal)
    r = api.post(
        "/api/v1/evaluation/values/",
        {"period": entered.pk, "indicator": quality.pk, "school": member_school.pk, "value": "78"},
        format="json",
    )
    assert r.status_code == 201 and D(r.json()["value"]) == D(78)
    for bad in ({"value": "abc"}, {"indicator": "abc"}, {"school": [1]}, {"value": "1000"}):
        body = {"period": entered.pk, "indicator": quality.pk, "school": member_school.pk, "value": "70", **bad}
        r = api.post("/api/v1/evaluation/values/", body, format="json")
        assert r.status_code == 400, (bad, r.content)
    # a school not assigned to her is not offered
    body = {"period": entered.pk, "indicator": quality.pk, "school": other_school.pk, "value": "70"}
    assert api.post("/api/v1/evaluation/values/", body, format="json").status_code == 400


def test_an_appeal_is_filed_through_the_input_serializer(entered, bureau_staff, principal, api_as):
    services.publication_propose(actor=bureau_staff, period=entered)
    quality = Indicator.objects.get(dimension__rubric__county=entered.county, code="quality")
    api = api_as(principal)
    r = api.post("/api/v1/evaluation/appeals/", {"period": entered.pk, "indicator": quality.pk, "reason": " "})
    assert r.status_code == 400 and r.json() == {"reason": ["Give the reason for the appeal."]}
    r = api.post("/api/v1/evaluation/appeals/", {"period": entered.pk, "indicator": "x", "reason": "样本少"})
    assert r.status_code == 400
    r = api.post("/api/v1/evaluation/appeals/", {"period": entered.pk, "indicator": quality.pk, "reason": "样本少"})
    assert r.status_code == 201, r.content
    assert r.json()["school"] == principal.school_id


def test_results_list_summaries_and_the_detail_the_trace(entered, bureau_staff, api_as):
    api = api_as(bureau_staff)
    listed = api.get("/api/v1/evaluation/results/").json()["results"]
    assert listed and all("trace" not in r for r in listed)
    detail = api.get(f"/api/v1/evaluation/results/{listed[0]['id']}/").json()
    assert detail["trace"]["own_total"] == listed[0]["own_total"]


def test_the_what_if_preview_answers_decimal_strings(entered, bureau_staff, api_as, open_year):
    services.evaluation_run()
    r = api_as(bureau_staff).post(
        f"/api/v1/evaluation/periods/{entered.pk}/preview/", {"beta": "0.2", "kind": "tiers"}, format="json"
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["beta"] == "0.20" and isinstance(body["pool"], str)
    for row in body["rows"]:
        for key in ("current_score", "new_score", "current_award", "new_award"):
            assert isinstance(row[key], str), (key, row[key])
            D(row[key])


def test_award_policies_are_written_through_the_service(bureau_staff, other_bureau_staff, api_as, school_year):
    api = api_as(bureau_staff)
    body = {"county": school_year.county_id, "school_year": school_year.pk, "kind": "proportional"}
    r = api.post("/api/v1/evaluation/award-policies/", body, format="json")
    assert r.status_code == 201, r.content
    url = f"/api/v1/evaluation/award-policies/{r.json()['id']}/"
    r = api.patch(url, {"pass_threshold": "60.00"}, format="json")
    assert r.status_code == 200 and r.json()["pass_threshold"] == "60.00"
    assert api.delete(url).status_code == 204
    r = api.post("/api/v1/evaluation/award-policies/", body, format="json")
    url = f"/api/v1/evaluation/award-policies/{r.json()['id']}/"
    other = api_as(other_bureau_staff)  # the same client, now signed in as county Y's bureau
    assert other.patch(url, {"pass_threshold": "1"}, format="json").status_code == 404

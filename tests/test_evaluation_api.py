"""The evaluation API and admin as users reach them: scoping, query counts, the award sheet."""

import csv
import io
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import include, path

from evaluation import services
from evaluation.models import SchoolResult

from .factories_evaluation import enter

urlpatterns = [path("", include("evaluation.urls")), path("", include("config.urls"))]


@pytest.fixture
def evaluated(bureau_staff, year_period, simple_rubric, eval_schools, open_year):
    for key, (q, c) in {"lead": (100, 50), "a": (50, 75), "other_lead": (100, 75), "b": (50, 25)}.items():
        enter(bureau_staff, year_period, simple_rubric, eval_schools[key], quality=q, care=c)
    services.evaluation_run()
    return year_period


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/evaluation/results/",
        "/api/v1/evaluation/rubrics/",
        "/api/v1/evaluation/indicators/",
        "/api/v1/evaluation/periods/",
        "/api/v1/evaluation/values/",
        "/api/v1/evaluation/alliance-results/",
        "/api/v1/evaluation/runs/",
        "/api/v1/evaluation/appeals/",
        "/api/v1/evaluation/warnings/",
        "/api/v1/evaluation/publications/",
        "/api/v1/evaluation/award-policies/",
    ],
)
def test_lists_do_not_query_per_row(evaluated, bureau_staff, api_as, url, django_assert_max_num_queries):
    api = api_as(bureau_staff)
    with django_assert_max_num_queries(8):
        r = api.get(url)
    assert r.status_code == 200


def test_results_scoping(evaluated, bureau_staff, other_bureau_staff, auditor, principal, assessor, api_as):
    counts = {}
    for user in (bureau_staff, other_bureau_staff, auditor, principal, assessor):
        counts[user.username] = api_as(user).get("/api/v1/evaluation/results/").json()["count"]
    # the bureau and the auditor see the county's working figures; others nothing before the proposal
    assert counts == {"bureau": 4, "bureau_y": 0, "auditor": 4, "principal": 0, "assessor": 0}


def test_only_bureau_proposes_through_the_api(evaluated, principal, bureau_staff, api_as):
    assert api_as(principal).post(f"/api/v1/evaluation/periods/{evaluated.pk}/propose/").status_code == 403
    r = api_as(bureau_staff).post(f"/api/v1/evaluation/periods/{evaluated.pk}/propose/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "proposed"


def test_award_sheet_adds_up_to_the_pool(evaluated, tmp_path, eval_schools, bureau_staff):
    # when
    out = tmp_path / "awards.csv"
    call_command("export_awards", "--year", "2025", "--output", str(out), "--user", bureau_staff.username)
    raw = out.read_bytes()
    # then UTF-8 with a BOM, the preview marker, one row per school, a remainder row and the pool last
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    body, pool_row = rows[2:-1], rows[-1]
    assert len(body) == 5  # four schools and the remainder
    assert sum(D(r[5]) for r in body) == D(pool_row[5]) == D("240000.00")
    assert [r[0] for r in body[:4]] == sorted(s.code for s in eval_schools.values())


def test_admin_pages_render_for_the_bureau(evaluated, bureau_staff):
    client = Client()
    client.force_login(bureau_staff)
    result = SchoolResult.objects.first()
    for url in (
        "/admin/evaluation/rubric/",
        "/admin/evaluation/schoolresult/",
        f"/admin/evaluation/schoolresult/{result.pk}/change/",
        "/admin/evaluation/evaluationperiod/",
        f"/admin/evaluation/evaluationperiod/{evaluated.pk}/preview/?beta=0.2&kind=tiers",
        "/admin/evaluation/evaluationrun/",
        "/admin/evaluation/appeal/",
        "/admin/evaluation/indicatorvalue/",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
    r = client.get(f"/admin/evaluation/schoolresult/{result.pk}/change/")
    assert 'class="trace-table"' in r.content.decode()  # the trace as tables, not JSON


def test_admin_export_action_downloads_the_sheet(evaluated, bureau_staff):
    client = Client()
    client.force_login(bureau_staff)
    r = client.post(
        "/admin/evaluation/evaluationperiod/", {"action": "export_awards", "_selected_action": [evaluated.pk]}
    )
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")


def test_the_old_my_result_address_leads_to_the_portals_result_page(evaluated, bureau_staff, principal):
    # given a principal whose school's result is proposed
    client = Client()
    client.force_login(principal)
    services.publication_propose(actor=bureau_staff, period=evaluated)

    # when it opens the old address
    response = client.get("/evaluation/my-result/", follow=True)

    # then it is led to the portal's result page of its own school
    assert response.redirect_chain[0] == ("/result/", 301)
    page = response.content.decode()
    assert response.templates[0].name == "portal/result.html"
    assert "东山小学" in page and "西岭小学" not in page

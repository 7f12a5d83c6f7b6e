"""Under faults and abuse, every API error is JSON (never Django's HTML error page), and no
input makes a 500: deep JSON, huge bodies, malformed ids and filters."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path
from rest_framework.test import APIClient

from config import urls as root_urls


def _json(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content[:200])
    return response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/no-such-thing/", "/api/nothing", "/api/v1/schools/1/nope/", "/api/v9/"])
def test_unknown_api_urls_are_a_json_404(url, client, bureau_staff):
    # anonymous and signed in alike
    for c in (Client(), client):
        if c is client:
            c.force_login(bureau_staff)
        response = c.get(url)
        assert response.status_code == 404
        assert _json(response)["detail"]


@pytest.mark.django_db
def test_an_unknown_page_outside_the_api_is_still_html(client, bureau_staff):
    client.force_login(bureau_staff)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_method_not_allowed_is_json(client, bureau_staff):
    client.force_login(bureau_staff)
    # a DRF view and a plain Django view of the API
    assert _json(client.delete("/api/v1/counties/"))["detail"]
    response = client.put("/api/auth/logout/")
    assert response.status_code == 405
    assert "detail" in _json(response)
    assert "Allow" in response


@pytest.mark.django_db
def test_a_csrf_failure_on_the_api_is_json(bureau_staff):
    # a browser session without the CSRF token, posting to the API's session login
    c = Client(enforce_csrf_checks=True)
    response = c.post("/api/auth/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "CSRF" in _json(response)["detail"]
    # and on a DRF view with a session
    c.force_login(bureau_staff)
    response = c.post("/api/v1/schools/", {"code": "X"})
    assert response.status_code == 403
    assert _json(response)["detail"]


def _boom(request):
    raise RuntimeError("boom")


@pytest.fixture
def boom_urls(settings):
    """The root URLconf plus two views that crash: one under /api/ and one outside it."""

    class Urls:
        urlpatterns = [path("api/boom/", _boom), path("boom/", _boom), *root_urls.urlpatterns]
        handler404 = root_urls.handler404
        handler500 = root_urls.handler500

    settings.ROOT_URLCONF = Urls
    return Urls


@pytest.mark.django_db
def test_a_500_under_the_api_is_json_and_html_elsewhere(boom_urls):
    c = Client(raise_request_exception=False)
    response = c.get("/api/boom/")
    assert response.status_code == 500
    assert _json(response)["detail"]
    response = c.get("/boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_deeply_nested_json_is_a_400_not_a_recursion_error():
    # given ~50 KB of "[[[[" posted anonymously to the token endpoint
    body = "[" * 50_000 + "]" * 50_000
    response = APIClient().post("/api/auth/token/", body, content_type="application/json")
    # then a 400 that says why
    assert response.status_code == 400
    assert "32" in _json(response)["detail"]


@pytest.mark.django_db
def test_nesting_within_the_bound_still_parses(api_as, bureau_staff):
    body = '{"name": ' + "[" * 30 + "]" * 30 + "}"
    response = api_as(bureau_staff).post("/api/v1/schools/", body, content_type="application/json")
    assert response.status_code == 400
    assert "name" in _json(response)


@pytest.mark.django_db
def test_a_body_over_the_size_limit_is_refused(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"username": "' + "x" * 4096 + '"}'
    response = APIClient().post("/api/auth/token/", body, content_type="application/json")
    assert response.status_code in (400, 413)
    assert _json(response)["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/schools/abc/",
        "/api/v1/schools/1.5/",
        "/api/v1/schools/99999999999999999999999/",
        "/api/v1/schools/-1/",
        "/api/v1/schools/%00/",
        "/api/v1/schools/?county=abc",
        "/api/v1/schools/?active=maybe",
        "/api/v1/schools/?page=abc",
        "/api/v1/schools/?page=99999",
        "/api/v1/schools/?ordering=nope",
        "/api/v1/memberships/?alliance=x&school=99999999999999999999",
        "/api/v1/exchanges/?teacher=%27%3B--",
        "/api/v1/terms/?school_year=1e3",
    ],
)
def test_malformed_ids_and_filters_are_never_a_500(url, api_as, bureau_staff, school_year):
    response = api_as(bureau_staff).get(url)
    assert response.status_code in (200, 400, 404), (url, response.status_code)
    _json(response)

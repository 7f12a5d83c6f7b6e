"""The API's pages: the same counts and links as DRF's, without a COUNT(*) (the last page knows
its total, and an earlier one reads it with its rows), and one query for the token, its user and
the user's role."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .factories import SchoolFactory


@pytest.fixture
def token_client(bureau_staff):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=bureau_staff).key}")
    return client


@pytest.mark.django_db
def test_counts_and_links_over_several_pages(token_client, county):
    SchoolFactory.create_batch(120, county=county)
    first = token_client.get("/api/v1/schools/").json()
    assert first["count"] == 120 and len(first["results"]) == 50 and first["next"] and first["previous"] is None
    last = token_client.get("/api/v1/schools/?page=3").json()
    assert last["count"] == 120 and len(last["results"]) == 20 and last["next"] is None
    assert token_client.get("/api/v1/schools/?page=4").status_code == 404
    assert token_client.get("/api/v1/schools/?page=0").status_code == 404
    assert token_client.get("/api/v1/schools/?page=x").status_code == 404
    assert token_client.get("/api/v1/schools/?page=last").json()["count"] == 120


@pytest.mark.django_db
def test_a_short_list_takes_two_queries(token_client, county):
    SchoolFactory.create_batch(7, county=county)
    with CaptureQueriesContext(connection) as queries:
        body = token_client.get("/api/v1/schools/").json()
    assert body["count"] == 7 and len(body["results"]) == 7
    # the token with its user and role, then the rows: no COUNT(*), no separate role query
    assert len(queries) == 2, [q["sql"][:80] for q in queries.captured_queries]


@pytest.mark.django_db
def test_a_list_longer_than_a_page_takes_two_queries_too(token_client, county):
    SchoolFactory.create_batch(60, county=county)
    with CaptureQueriesContext(connection) as queries:
        body = token_client.get("/api/v1/schools/").json()
    assert body["count"] == 60 and len(body["results"]) == 50 and body["next"]
    # the token with its user and role, then the rows with the list's total (COUNT(*) OVER ())
    assert len(queries) == 2, [q["sql"][:80] for q in queries.captured_queries]


@pytest.mark.django_db
def test_an_empty_list_is_a_page_of_nothing(token_client):
    body = token_client.get("/api/v1/schools/").json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/schools/", "/api/v1/mentor-meetings/", "/api/v1/ledger-entries/"])
@pytest.mark.parametrize("page", [2**57, 2**63, 4310095368069713405935616])
def test_a_page_beyond_the_databases_offset_is_not_found_not_a_server_error(token_client, county, path, page):
    # Found by schemathesis: an OFFSET past PostgreSQL's bigint was a 500 ("bigint out of range").
    SchoolFactory.create_batch(3, county=county)
    response = token_client.get(path, {"page": page})
    assert response.status_code == 404, response.content[:200]
    assert response.json()["detail"]

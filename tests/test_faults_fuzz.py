"""A bounded fuzz over every endpoint of the API router: malformed bodies, anonymous and signed
in, on the list and on a row. Nothing may answer 5xx, and every answer is JSON."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from config.urls import router

# Bodies no client should send: truncated, wrong types at the top, deep, huge, odd encodings.
RAW_BODIES = [
    ("", "application/json"),
    ("{", "application/json"),
    ("null", "application/json"),
    ("[]", "application/json"),
    ('"text"', "application/json"),
    ("12", "application/json"),
    ('{"a": NaN}', "application/json"),
    ("[" * 40 + "]" * 40, "application/json"),
    ('{"id": {"$gt": 0}}', "application/json"),
    ("\xff\xfe{", "application/json"),
    ("a=1&b=%ZZ", "application/x-www-form-urlencoded"),
    ('--x\r\nContent-Disposition: form-data; name="f"\r\n\r\n', "multipart/form-data; boundary=x"),
    ("<xml/>", "application/xml"),
]
# Values every field of a serializer gets in turn.
ODD_VALUES = [None, [], {}, "x" * 5000, -1, 10**30, 1e308, "1e3", True, "2025-02-30", ["1", "a"], {"id": "a"}, "\x00"]


def _endpoints():
    for prefix, viewset, _basename in router.registry:
        yield pytest.param(prefix, viewset, id=prefix)


def _field_bodies(viewset) -> list[str]:
    try:
        names = [n for n, f in viewset.serializer_class().fields.items() if not f.read_only]
    except Exception:
        names = []
    if not names:
        return []
    return [json.dumps(dict.fromkeys(names, v)) for v in ODD_VALUES]


@pytest.fixture
def fuzz_world(approved_plan, principal, bureau_staff, assessor, auditor):
    """County X with alliances, a funded and open year, an approved plan, and its users."""
    return {"bureau": bureau_staff, "principal": principal}


def _row_id(prefix: str, user) -> str:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/{prefix}/")
    if response.status_code == 200:
        rows = response.json()
        rows = rows.get("results", rows) if isinstance(rows, dict) else rows
        if rows and isinstance(rows[0], dict) and "id" in rows[0]:
            return str(rows[0]["id"])
    return "1"


@pytest.mark.django_db
@pytest.mark.parametrize("prefix,viewset", list(_endpoints()))
def test_malformed_bodies_never_make_a_5xx(prefix, viewset, fuzz_world):
    failures = []
    bodies = RAW_BODIES + [(b, "application/json") for b in _field_bodies(viewset)]
    for who in (None, "bureau"):
        client = APIClient(raise_request_exception=False)
        if who:
            client.force_authenticate(fuzz_world[who])
        row = _row_id(prefix, fuzz_world["bureau"])
        for url in (f"/api/v1/{prefix}/", f"/api/v1/{prefix}/{row}/", f"/api/v1/{prefix}/x%27/"):
            for method in ("post", "put", "patch"):
                for body, content_type in bodies:
                    response = getattr(client, method)(url, body, content_type=content_type)
                    ok_type = response.get("Content-Type", "").startswith("application/json")
                    if response.status_code >= 500 or not ok_type:
                        failures.append((who, method, url, body[:40], response.status_code, response.content[:120]))
    assert failures == [], "\n".join(map(str, failures[:20]))

"""The OpenAPI schema documents every status an endpoint answers, with its body; a bounded
schemathesis run as every demo role against a live server finds no 5xx and only answers the
schema describes."""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token

from alliance.models import User
from demo import data as demo_data

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "2"))
# The whole run, every role: about a minute each on a small machine.
BUDGET_SECONDS = float(os.environ.get("SCHEMATHESIS_SECONDS", "240"))
COMMON = {"400", "401", "403", "404", "503"}
# One demo user per role.
ROLE_USERS = list({role: username for username, role, *_ in reversed(demo_data.USERS)}.items())


def _schema(user) -> dict:
    client = Client()
    client.force_login(user)
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_every_operation_documents_its_error_answers(bureau_staff):
    schema = _schema(bureau_staff)
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            wanted = COMMON | ({"412"} if method in ("put", "patch") else set())
            if not wanted <= codes:
                missing.append((method, path, sorted(wanted - codes)))
            for code in wanted:
                assert operation["responses"][code]["content"]["application/json"]["schema"], (method, path, code)
    assert missing == []
    assert "ErrorDetail" in schema["components"]["schemas"]


@pytest.fixture
def demo_loaded(transactional_db):
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    yield


def _run(schema_dict: dict, base_url: str, token: str, deadline: float) -> tuple[list[str], Counter]:
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hsettings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_dict(schema_dict)
    headers = {"Authorization": f"Token {token}"}
    failures: list[str] = []
    statuses: Counter = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        if time.monotonic() > deadline:
            statuses["operations left untried (time budget)"] += 1
            continue

        @hsettings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case):
            try:
                response = case.call(base_url=base_url, headers=headers, timeout=30)
            except requests.Timeout:
                # A shared test machine stalls now and then: a second slow answer is a failure.
                response = case.call(base_url=base_url, headers=headers, timeout=60)
            statuses[f"{response.status_code // 100}xx"] += 1
            try:
                case.validate_response(response, checks=checks)
            except Exception as exc:
                text = str(exc).strip().splitlines()
                failures.append(f"{case.operation.label} -> {response.status_code}: {' | '.join(text[:6])}")

        try:
            call()
        except (Exception, BaseExceptionGroup) as exc:  # a failure hypothesis re-raised: collected too
            text = [line for line in str(exc).strip().splitlines() if line.strip()]
            failures.append(f"{operation.label}: {' | '.join(text[:8])}")
    return failures, statuses


@pytest.mark.schemathesis
@pytest.mark.parametrize("role,username", ROLE_USERS, ids=[r for r, _ in ROLE_USERS])
def test_schemathesis_finds_no_5xx_and_no_answer_outside_the_schema(role, username, demo_loaded, live_server):
    user = User.objects.get(username=username)
    token = Token.objects.get_or_create(user=user)[0].key
    deadline = time.monotonic() + BUDGET_SECONDS / len(ROLE_USERS)
    failures, statuses = _run(_schema(user), live_server.url, token, deadline)
    print(role, dict(statuses), len(failures), "failures")
    assert failures == [], "\n".join(failures[:40])

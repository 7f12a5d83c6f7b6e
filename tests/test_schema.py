"""The OpenAPI schema documents every status an endpoint answers, with its body; a schemathesis
run as every demo role against a live server tries every operation, and finds no 5xx and only
answers the schema describes."""

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
# The time for the whole run, every role, in which each operation gets EXAMPLES generated cases;
# past it each operation still gets one, so a slow machine never leaves an operation untried (a
# budget that skipped operations hid a 500 on a huge ?page=).
BUDGET_SECONDS = float(os.environ.get("SCHEMATHESIS_SECONDS", "240"))
# A shared test machine stalls now and then; the same request is sent again, with more patience.
TIMEOUTS = (30, 60, 120)
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


def _reason(exc: BaseException) -> list[str]:
    """The lines that say why: hypothesis wraps the real failure (FlakyFailure, schemathesis'
    FailureGroup), and their own text only says that something failed."""
    inner = list(getattr(exc, "exceptions", ()))
    if inner:
        return [line for sub in inner for line in _reason(sub)]
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return [f"{type(exc).__name__}: {lines[0] if lines else ''}", *lines[1:]]


def _call(case, base_url: str, headers: dict, statuses: Counter):
    """The case's answer; a stalled or broken connection is tried again (and counted) with a
    longer timeout, and the last try's error is raised."""
    import requests

    transport = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
    for timeout in TIMEOUTS[:-1]:
        try:
            return case.call(base_url=base_url, headers=headers, timeout=timeout)
        except transport:
            statuses["transport errors"] += 1
    return case.call(base_url=base_url, headers=headers, timeout=TIMEOUTS[-1])


def _run(schema_dict: dict, base_url: str, token: str, deadline: float) -> tuple[list[str], Counter]:
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
        statuses["operations"] += 1
        examples = EXAMPLES if time.monotonic() < deadline else 1

        @hsettings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case):
            # Every failure is collected here, none re-raised: hypothesis would otherwise replay
            # the case, and a stall that does not come back reads as "unreliable results".
            try:
                response = _call(case, base_url, headers, statuses)
            except Exception as exc:
                failures.append(f"{case.operation.label}: no answer: {_reason(exc)[0]}")
                return
            statuses[f"{response.status_code // 100}xx"] += 1
            try:
                case.validate_response(response, checks=checks)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
                failures.append(f"{case.operation.label} -> {response.status_code}: {' | '.join(_reason(exc)[:6])}")

        try:
            call()
        except (Exception, BaseExceptionGroup) as exc:  # hypothesis' own errors (e.g. no case could be made)
            failures.append(f"{operation.label}: {' | '.join(_reason(exc)[:8])}")
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


def test_a_wrapped_failure_shows_the_reason_inside_it():
    """FlakyFailure and schemathesis' FailureGroup only say that something failed; the run's
    message shows what failed inside them."""
    from hypothesis.errors import FlakyFailure

    inner = BaseExceptionGroup("2 failures", [ValueError("bigint out of range"), KeyError("detail")])
    flaky = FlakyFailure("Failed on the first call but did not on a subsequent one", [inner])
    assert _reason(flaky) == ["ValueError: bigint out of range", "KeyError: 'detail'"]
    assert _reason(RuntimeError("plain\nsecond line")) == ["RuntimeError: plain", "second line"]


def test_a_stalled_request_is_sent_again_with_more_patience_and_the_last_error_is_raised():
    import requests

    class Case:
        def __init__(self, stalls):
            self.stalls, self.timeouts = stalls, []

        def call(self, *, base_url, headers, timeout):
            self.timeouts.append(timeout)
            if len(self.timeouts) <= self.stalls:
                raise requests.ReadTimeout(f"stalled at {timeout} s")
            return "answer"

    statuses: Counter = Counter()
    case = Case(stalls=2)
    assert _call(case, "http://testserver", {}, statuses) == "answer"
    assert case.timeouts == list(TIMEOUTS) and statuses["transport errors"] == 2
    with pytest.raises(requests.ReadTimeout, match="stalled at 120 s"):
        _call(Case(stalls=3), "http://testserver", {}, statuses)

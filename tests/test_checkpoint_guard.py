"""Who may do what is decided in the access checkpoint only (``alliance/access.py``).

A role compared by hand anywhere else (``role_of(``, ``Role.BUREAU == ...``, ``user.is_superuser``)
is a second copy of a rule that the next page or report would copy a third time. The group
permission table (``alliance/roles.py``) is the checkpoint's own and assigns, not checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT = {"alliance/access.py", "alliance/roles.py"}
# Role names may be *assigned* (demo users, the bench's synthetic users), never compared.
ASSIGNERS = ("demo/", "bench/")

HAND_WRITTEN = [
    (re.compile(r"\brole_of\("), "role_of( outside the checkpoint"),
    (re.compile(r"\bRole\.(BUREAU|LEAD_PRINCIPAL|MEMBER_PRINCIPAL|ASSESSOR|AUDITOR)\b"), "a role compared by hand"),
    (re.compile(r"(?<!access)\.is_superuser\b(?!\s*\()"), "is_superuser read by hand"),
    (re.compile(r"groups\.(filter|get)\(\s*name"), "a role looked up by group name"),
    (
        re.compile(
            r"\b(COUNTY_READERS|PRINCIPALS)\b(?!\s*[,}\]])(?=.*\bin\b)|\bin\s+(access\.)?(COUNTY_READERS|PRINCIPALS)\b"
        ),
        "membership in a role set tested by hand",
    ),
]


def _sources() -> list[Path]:
    skip = {".venv", "tests", "migrations", "node_modules", ".git"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts)]


def _offences() -> list[str]:
    found = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        if rel in CHECKPOINT:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for pattern, what in HAND_WRITTEN:
                if pattern.search(code) and not (rel.startswith(ASSIGNERS) and "role_of" not in code):
                    found.append(f"{rel}:{number}: {what}: {line.strip()}")
    return found


def test_no_access_decision_outside_the_checkpoint():
    # given every source file of the portal but the checkpoint's own
    # when it is searched for role checks written by hand
    offences = _offences()
    # then there are none
    assert offences == [], "\n".join(offences)


@pytest.mark.parametrize(
    "line",
    [
        "if role_of(user) == Role.BUREAU:",
        "return request.user.is_superuser or x",
        "user.groups.filter(name='auditor').exists()",
        "if role in access.COUNTY_READERS:",
    ],
)
def test_the_guard_sees_a_hand_written_check(line):
    # given a line that decides access by hand; then at least one pattern catches it
    assert any(p.search(line) for p, _ in HAND_WRITTEN)


def test_the_guard_lets_calls_into_the_checkpoint_pass():
    for line in ("if access.is_superuser(request.user):", "action_roles = {'approve': access.BUREAU_ONLY}"):
        assert not any(p.search(line) for p, _ in HAND_WRITTEN), line

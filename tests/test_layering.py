"""Imports go one way: a lower app never imports an app above it (DEVELOPERS.md: evaluation →
funding, staffing → alliance). The apps at the top (portal, reports, imports, demo, config)
may import any of them. A lower app that must tell a higher one something sends a signal
(``alliance.signals``) or is extended by it when the higher app is ready (``audit.history``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# app → the project's packages it may import (besides itself).
MAY_IMPORT = {
    "pgtools": set(),
    "alliance": {"pgtools"},
    "staffing": {"alliance", "pgtools"},
    "funding": {"alliance", "pgtools"},
    "evaluation": {"alliance", "staffing", "funding", "pgtools"},
    "audit": {"alliance", "pgtools"},
}
PROJECT = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & PROJECT


def violations(app: str) -> list[str]:
    allowed = MAY_IMPORT[app] | {app}
    return [
        f"{path.relative_to(ROOT)} imports {other}"
        for path in sorted((ROOT / app).rglob("*.py"))
        for other in sorted(imported(path) - allowed)
    ]


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_a_lower_app_imports_no_app_above_it(app):
    assert violations(app) == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    package = tmp_path / "alliance"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "admin.py").write_text("from audit.history import HistoryMixin\nimport evaluation.models\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert violations("alliance") == ["alliance/admin.py imports audit", "alliance/admin.py imports evaluation"]

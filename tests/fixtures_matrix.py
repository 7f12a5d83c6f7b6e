"""Rows of the later apps for the permission matrix's world (tests/test_permission_matrix.py)."""

from __future__ import annotations

from typing import Any


def extend(w: Any) -> None:
    """Adds each app's A-side and B-side rows to the world; grows with the apps."""

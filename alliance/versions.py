"""A row's version: a short hash of its stored field values, read from the database.

The API sends it as the ``ETag`` of a detail response and checks ``If-Match`` against it; the
admin's change form carries it in a hidden field. An edit made from a stale read is refused
instead of overwriting what another user saved in between. Many-to-many links are not part of
the row and do not change its version.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models


def row_version(model: type[models.Model], pk: Any) -> str | None:
    """The version of the stored row, or None if there is none."""
    names = [f.attname for f in model._meta.concrete_fields]
    row = model._base_manager.filter(pk=pk).values_list(*names).first()
    if row is None:
        return None
    return hashlib.sha256(repr(row).encode()).hexdigest()[:32]


def etag(version: str) -> str:
    return f'"{version}"'


def if_match_versions(header: str) -> set[str] | None:
    """The versions an ``If-Match`` header names (weak or strong); None for ``*`` or no header."""
    header = (header or "").strip()
    if not header or header == "*":
        return None
    tags = set()
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tags.add(tag.strip('"'))
    return tags

"""Model fields of the evaluation."""

from __future__ import annotations

from typing import Any

from django.db import models


class JSONTextField(models.JSONField):
    """A JSONField stored as the text it was written as (``text``, not PostgreSQL's ``jsonb``).

    For the results' traces: the nightly job writes one per school of a province, and
    PostgreSQL parsing each into ``jsonb`` cost four times as much as the rest of writing the
    rows (bench/README.md). Nothing queries inside a trace; it is read whole and shown. The
    text comes back as written, byte for byte, so a digest of it stays checkable. Values are
    read and validated as JSON as with any JSONField; lookups into keys are not supported."""

    def db_type(self, connection: Any) -> str:
        return "text"

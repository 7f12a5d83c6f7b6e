"""The audit trail: who changed which row, when, from where, and what it was before and after.

Its own app because it belongs to none of the others and watches them all: the capture is
PostgreSQL triggers on the tables of ``alliance``, ``staffing``, ``funding`` and
``evaluation`` (so admin bulk actions, raw SQL and COPY are recorded too), the records form
one hash-chained, append-only table that no other app writes, and auditors read it apart
from the rows it describes. The other apps do not import it, except for the one-line
``audit.services.record_event`` calls of the exports (the import points up, as for a page or
report app). See docs/adr/0005-audit-trail.md.
"""

"""Running an import: read the file, check every row, then write them all in one transaction.

``import_run`` is the dry run and the real import alike. It first reads the file and checks each
row's cells and the file as a whole (duplicate keys); a bad row is reported by its row number and
nothing is written. Then it calls each row's write (the owning app's services) in a transaction,
each row in a savepoint of its own so that every bad row is found, not only the first; a dry run,
or a run with any bad row, rolls the whole transaction back. Only a clean run that was asked to
commit keeps its writes, and records one "import" event in the audit trail (the rows themselves
are recorded by the trail's triggers).

Between the preview and the confirmation the file waits server-side (``pending_save``) under a
generated name, with its SHA-256; the confirmation imports that very file, never what a browser
says the preview showed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance import access
from alliance.models import County
from audit.models import AuditRecord
from audit.services import record_event

from . import reading
from .kinds import CREATE, KINDS, UNCHANGED, UPDATE, Context, Kind, chinese, header_names, normal

PENDING_DIR = "imports/pending"


@dataclass
class RowReport:
    """One unit of the import (a row; an alliance's rows) and what became of it."""

    rows: list[int]
    key: str
    action: str = ""  # create / update / unchanged; "" for a bad row
    changes: tuple[str, ...] = ()
    errors: list[str] = field(default_factory=list)

    @property
    def row_label(self) -> str:
        return "、".join(str(n) for n in self.rows)


@dataclass
class Report:
    kind: str
    file_name: str
    sha256: str
    committed: bool = False
    file_errors: list[str] = field(default_factory=list)
    rows: list[RowReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and not any(r.errors for r in self.rows)

    @property
    def bad_rows(self) -> list[RowReport]:
        return [r for r in self.rows if r.errors]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(r.action for r in self.rows if not r.errors)
        return {CREATE: found[CREATE], UPDATE: found[UPDATE], UNCHANGED: found[UNCHANGED], "bad": len(self.bad_rows)}

    def lines(self) -> list[str]:
        """The report as text (the command prints it; the page shows the same in a table)."""
        words = {CREATE: _("create"), UPDATE: _("change"), UNCHANGED: _("unchanged")}
        error = _("Error")
        out = [f"{error}: {e}" for e in self.file_errors]
        for r in self.rows:
            head = _("row %(rows)s") % {"rows": r.row_label}
            if r.errors:
                out.extend(f"{head} · {r.key}: {e}" for e in r.errors)
            else:
                detail = f" ({'; '.join(r.changes)})" if r.changes else ""
                out.append(f"{head} · {r.key}: {words[r.action]}{detail}")
        c = self.counts
        out.append(
            _("%(create)d to create, %(update)d to change, %(unchanged)d unchanged, %(bad)d bad.")
            % {"create": c[CREATE], "update": c[UPDATE], "unchanged": c[UNCHANGED], "bad": c["bad"]}
        )
        if self.committed:
            out.append(_("Imported."))
        elif self.ok:
            out.append(_("Nothing was written (a dry run)."))
        else:
            out.append(_("Nothing was imported: correct the rows above and upload the file again."))
        return out


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        out = []
        for name, errors in error.error_dict.items():
            for e in errors:
                for message in e.messages:
                    out.append(message if name == "__all__" else f"{name}: {message}")
        return out
    return list(error.messages)


def import_county(actor: Any, county_code: str | None = None) -> County:
    """The county an import writes into: the importer's own; a superuser (of no county) names
    one. A code naming another county than the importer's is refused by ``require_import``."""
    if county_code:
        county = County.objects.filter(code=county_code).first()
        if county is None:
            raise ValidationError(_("No county with code %(code)s.") % {"code": county_code})
        return county
    if getattr(actor, "county_id", None) is None:
        raise ValidationError(_("Name the county to import into."))
    return County.objects.get(pk=actor.county_id)


def _columns(kind: Kind, header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Column key → position in the file, and the errors (missing or repeated columns)."""
    positions: dict[str, int] = {}
    errors = []
    for column in kind.columns:
        names = header_names(column)
        found = [i for i, h in enumerate(header) if normal(h) in names]
        if len(found) > 1:
            errors.append(_("The column %(column)s appears twice.") % {"column": chinese(column.label)})
        elif found:
            positions[column.key] = found[0]
        elif column.required:
            errors.append(_("The column %(column)s is missing.") % {"column": chinese(column.label)})
    return positions, errors


def _parse_rows(kind: Kind, table: reading.Table, positions: dict[str, int]) -> tuple[list, dict[int, list[str]]]:
    parsed: list[tuple[int, dict[str, Any]]] = []
    errors: dict[int, list[str]] = {}
    for number, cells in table.rows:
        values: dict[str, Any] = {}
        for column in kind.columns:
            position = positions.get(column.key)
            raw = cells[position] if position is not None and position < len(cells) else None
            if raw in (None, ""):
                if column.required:
                    errors.setdefault(number, []).append(
                        _("%(column)s: this cell is empty.") % {"column": chinese(column.label)}
                    )
                values[column.key] = column.default
                continue
            try:
                values[column.key] = column.parse(raw)
            except ValidationError as exc:
                for message in exc.messages:
                    errors.setdefault(number, []).append(f"{chinese(column.label)}: {message}")
        parsed.append((number, values))
    return parsed, errors


def _duplicates(kind: Kind, parsed: list[tuple[int, dict[str, Any]]], errors: dict[int, list[str]]) -> None:
    """The same key twice in the file (for alliances: the same school twice in one alliance)."""
    first: dict[str, int] = {}
    for number, values in parsed:
        if number in errors:
            continue
        key = kind.key(values)
        if kind.grouped:
            key = f"{key} · {values.get('school_code')}"
        if key in first:
            errors.setdefault(number, []).append(
                _("%(key)s is already in row %(row)d of this file.") % {"key": key, "row": first[key]}
            )
        else:
            first[key] = number


class _Rollback(Exception):
    pass


def import_run(
    *,
    actor: Any,
    kind: str,
    data: bytes,
    file_name: str,
    commit: bool = False,
    county: County | None = None,
    request: Any = None,
) -> Report:
    """Check and (with ``commit``) import a file of ``kind``; returns what each row did or why it
    cannot. Raises ``PermissionDenied`` when the actor may not import into the county."""
    spec = KINDS[kind]
    county = county or import_county(actor)
    access.require_import(actor, kind, county.pk)
    report = Report(kind=kind, file_name=file_name, sha256=hashlib.sha256(data).hexdigest())
    try:
        table = reading.read_table(data, file_name, sheet_names=(chinese(spec.sheet), str(spec.name)))
    except ValidationError as exc:
        report.file_errors = list(exc.messages)
        return report
    positions, column_errors = _columns(spec, table.header)
    if column_errors:
        report.file_errors = column_errors
        return report
    if not table.rows:
        report.file_errors = [_("The file has no rows below its header.")]
        return report
    parsed, errors = _parse_rows(spec, table, positions)
    _duplicates(spec, parsed, errors)
    good = [(n, v) for n, v in parsed if n not in errors]
    for number, _values in parsed:
        if number in errors:
            report.rows.append(RowReport(rows=[number], key="", errors=errors[number]))
    if errors:
        report.rows.sort(key=lambda r: r.rows[0])
        return report  # nothing is looked up, nothing written

    ctx = Context(actor=actor, county=county)
    try:
        with transaction.atomic():
            for unit in spec.units(good):
                row = RowReport(rows=unit.rows, key=unit.key)
                try:
                    with transaction.atomic():
                        outcome = spec.write(ctx, unit)
                    row.action, row.changes = outcome.action, outcome.changes
                except ValidationError as exc:
                    row.errors = _messages(exc)
                except PermissionDenied as exc:
                    row.errors = [str(exc) or _("You may not change this row.")]
                except IntegrityError:
                    row.errors = [_("The database refused this row (it clashes with another).")]
                report.rows.append(row)
            if not (commit and report.ok):
                raise _Rollback
            record_event(
                AuditRecord.Action.IMPORT,
                request=request,
                user=actor,
                model=f"imports.{kind}",
                object_id=report.sha256[:16],
                detail={"file": file_name, "sha256": report.sha256, "county": county.code, **report.counts},
            )
            report.committed = True
    except _Rollback:
        pass
    return report


# --- the file between preview and confirmation ---------------------------------------------


PENDING_HOURS = 24


def pending_sweep() -> None:
    """Forget files previewed but never confirmed for a day."""
    if not default_storage.exists(PENDING_DIR):
        return
    cutoff = timezone.now() - dt.timedelta(hours=PENDING_HOURS)
    for name in default_storage.listdir(PENDING_DIR)[1]:
        path = f"{PENDING_DIR}/{name}"
        with contextlib.suppress(OSError, NotImplementedError):
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)


def pending_save(data: bytes) -> str:
    """Store the uploaded file under a generated name; returns the name (a token)."""
    pending_sweep()
    token = uuid.uuid4().hex
    default_storage.save(f"{PENDING_DIR}/{token}", ContentFile(data))
    return token


def pending_load(token: str, sha256: str) -> bytes:
    """The stored file of ``token``, checked against the SHA-256 the preview computed."""
    if not (len(token) == 32 and all(c in "0123456789abcdef" for c in token)):
        raise ValidationError(_("The uploaded file has expired; upload it again."))
    name = f"{PENDING_DIR}/{token}"
    if not default_storage.exists(name):
        raise ValidationError(_("The uploaded file has expired; upload it again."))
    with default_storage.open(name, "rb") as stored:
        data = stored.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValidationError(_("The uploaded file has changed since its preview; upload it again."))
    return data


def pending_delete(token: str) -> None:
    name = f"{PENDING_DIR}/{token}"
    if default_storage.exists(name):
        default_storage.delete(name)

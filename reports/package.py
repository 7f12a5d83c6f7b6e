"""The auditor's package: one ZIP of a county's school year that an auditor can later prove
unchanged and reconcile.

It holds every registered report as CSV (and XLSX where ``reports.formats`` writes it), the
award notices and the yearly summary as PDF, and ``manifest.json``: each file's SHA-256 and
size, the ledger's totals per account kind (with ``ledger_check``'s findings), the published
pool and awards, the audit trail's head at that moment (the last seal's hash and whether
records wait unsealed after it), the time and the user. ``manifest.sig`` is the manifest's
HMAC-SHA256 under the trail's key (``audit.chain``), so a manifest rewritten to match altered
files is caught by anyone holding the key; the manifest's own SHA-256 goes into the trail with
the package's export record, so the trail itself says which package was handed out.

``verify`` (``manage.py verify_package``) recomputes every file's hash against the manifest and
names the first file that is altered, missing or extra.

Each file is written to a spooled temporary file, then hashed as it is copied into the ZIP: a
million-row report passes through in bounded memory, and a formatter may seek (XLSX).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib
import json
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import IO, Any, cast

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from alliance import access
from alliance.models import County, SchoolYear
from audit import chain
from audit.models import AuditRecord, AuditSeal
from audit.services import record_event
from evaluation.export import _pool, _published_awards
from evaluation.models import SchoolResult
from funding.bookcheck import check_year
from funding.metrics import year_summary
from funding.models import Account, FundingYear, LedgerLine

from . import pdf
from .registry import REPORTS, Params

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FORMAT = 1
SPOOL = 8 * 1024 * 1024  # bytes a file may keep in memory before it spills to disk
ZERO = Decimal("0.00")


def _copy_hashed(source: IO[bytes], target: IO[bytes]) -> tuple[str, int]:
    """Copies ``source`` from its start into ``target``; returns the SHA-256 and size of what
    was copied."""
    sha, size = hashlib.sha256(), 0
    source.seek(0)
    while chunk := source.read(1 << 20):
        sha.update(chunk)
        size += len(chunk)
        target.write(chunk)
    return sha.hexdigest(), size


def _sign(manifest: bytes) -> str:
    return hmac.new(chain._key(), manifest, hashlib.sha256).hexdigest()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def audit_head() -> dict[str, Any]:
    """The trail's head: the last seal (its sequence, record and hash) and the records after it
    that no seal covers yet (written since the last sealing job, or while it waited)."""
    head = AuditSeal.objects.order_by("-seq").first()
    last_record = head.record_id if head else 0
    tail = AuditRecord.objects.filter(pk__gt=last_record).order_by().aggregate(n=Count("pk"))["n"]
    return {
        "sealed": head.seq if head else 0,
        "head_hash": head.hash if head else chain.GENESIS,
        "head_record": head.record_id if head else None,
        "unsealed_tail": tail,
    }


def ledger_totals(funding_year: FundingYear | None) -> dict[str, Any]:
    """The year's balance per account kind (every kind, zero where none; they add up to zero,
    the books being double-entry), its summary and what ``ledger_check`` finds."""
    if funding_year is None:
        return {"funding_year": None}
    by_kind = dict(
        LedgerLine.objects.filter(account__funding_year=funding_year)
        .order_by()
        .values("account__kind")
        .annotate(total=Sum("amount"))
        .values_list("account__kind", "total")
    )
    return {
        "funding_year": funding_year.pk,
        "status": funding_year.status,
        "totals_by_account_kind": {kind: _money(by_kind.get(kind, ZERO)) for kind in Account.Kind.values},
        "summary": {key: _money(value) for key, value in year_summary(funding_year).items()},
        "ledger_check": [str(p) for p in check_year(funding_year)],
    }


def published_awards(params: Params) -> dict[str, Any]:
    """The school year's published pool and awards, as the award sheet reads them: the latest
    publication's awards as the ledger booked them, and the pool the ledger allocated."""
    county = County.objects.get(pk=params.county_id)
    school_year = SchoolYear.objects.get(pk=params.school_year_id)
    period = pdf._year_period(county, school_year)
    publication = pdf._latest_publication(period)
    if period is None or publication is None:
        return {"published": False, "period": period.pk if period else None}
    booked = _published_awards(publication)
    codes = dict(SchoolResult.objects.filter(period=period).values_list("school_id", "school__code"))
    total = sum(booked.values(), ZERO)
    pool = _pool(period)
    return {
        "published": True,
        "period": period.pk,
        "publication": publication.pk,
        "revision": publication.revision,
        "approved_at": publication.approved_at.isoformat(),
        "ledger_entry": publication.ledger_entry_id,
        "pool": _money(pool),
        "award_total": _money(total),
        "not_awarded": _money(pool - total) if pool is not None else None,
        "awards_by_school": {codes.get(s, str(s)): _money(a) for s, a in sorted(booked.items())},
    }


@dataclass(frozen=True)
class _File:
    name: str
    write: Callable[[IO[bytes]], Any]


def _files(user: Any, params: Params) -> Iterator[_File]:
    # The CSV and XLSX formatters' module, imported when a package is made.
    formats: Any = importlib.import_module("reports.formats")
    write_xlsx = getattr(formats, "write_xlsx", None)
    for code in sorted(REPORTS):
        report = REPORTS[code]
        yield _File(f"{code}.csv", partial(formats.write_csv, report, user, params))
        if write_xlsx is not None:
            yield _File(f"{code}.xlsx", partial(write_xlsx, report, user, params))
    yield _File("award_notices.pdf", partial(_notices, user, params))
    yield _File("county_summary.pdf", partial(_summary, user, params))


def _notices(user: Any, params: Params, out: IO[bytes]) -> None:
    pdf.write_award_notices(user, params, out, record=False)


def _summary(user: Any, params: Params, out: IO[bytes]) -> None:
    pdf.write_county_summary(user, params, out, record=False)


def build_package(
    user: Any, county: County, school_year: SchoolYear, out: IO[bytes], *, request: Any = None, seal: bool | None = None
) -> dict:
    """Writes the county's school-year package as a ZIP to ``out`` (a binary file; it need not
    seek) and returns its manifest. Only the county's readers may (``PermissionDenied``); the
    export is recorded in the trail with the manifest's SHA-256. A document that cannot exist
    yet (the award notices before publication) is left out and the manifest says why.

    ``seal``: seal the trail first, so that its head covers every record before the package
    (default: unless called inside a transaction, where the seal's lock on the trail would be
    held until that transaction ends, stalling every write of the portal meanwhile)."""
    access.require_export_document(user, "audit_package", county.pk)
    if school_year.county_id != county.pk:
        raise ValidationError("the school year is not the county's", code="wrong_county")
    params = Params(county_id=county.pk, school_year_id=school_year.pk)
    # If a writer holds the trail's table the head is the last seal, and the tail says what waits.
    if seal is None:
        seal = not connection.in_atomic_block
    if seal:
        with contextlib.suppress(chain.Busy):
            chain.seal()
    head = audit_head()
    created_at = timezone.now()
    entries: list[dict[str, Any]] = []
    omitted: dict[str, str] = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in _files(user, params):
            with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
                try:
                    file.write(cast(IO[bytes], spool))
                except ValidationError as exc:
                    omitted[file.name] = " ".join(exc.messages)
                    continue
                with archive.open(file.name, "w", force_zip64=True) as member:
                    sha256, size = _copy_hashed(cast(IO[bytes], spool), member)
            entries.append({"name": file.name, "sha256": sha256, "size": size})
        funding_year = FundingYear.objects.filter(county=county, school_year=school_year).first()
        manifest = {
            "format": FORMAT,
            "county": {"id": county.pk, "code": county.code, "name": county.name},
            "school_year": {"id": school_year.pk, "start_year": school_year.start_year},
            "created_at": created_at.isoformat(),
            "created_by": (
                {"id": user.pk, "username": user.get_username(), "role": access.role_value(user)} if user.pk else None
            ),
            "files": entries,
            "omitted": omitted,
            "ledger": ledger_totals(funding_year),
            "awards": published_awards(params),
            "audit_trail": head,
        }
        body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
        archive.writestr(MANIFEST, body)
        archive.writestr(SIGNATURE, _sign(body) + "\n")
    digest = hashlib.sha256(body).hexdigest()
    record_event(
        "export",
        request=request,
        user=None if request is not None else pdf._real(user),
        model="alliance.schoolyear",
        object_id=school_year.pk,
        detail={
            "report": "audit_package",
            "format": "zip",
            "county": county.pk,
            "school_year": school_year.pk,
            "manifest_sha256": digest,
            "files": [e["name"] for e in entries],
        },
    )
    return {**manifest, "manifest_sha256": digest}


# --- verifying ---------------------------------------------------------------------------------


@dataclass
class Verdict:
    ok: bool
    problem: str = ""
    file: str = ""
    manifest_sha256: str = ""
    files: int = 0


def _hash_member(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with archive.open(name) as member:
        while chunk := member.read(1 << 20):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def verify(path_or_file: Any, *, check_signature: bool = True) -> Verdict:
    """Checks a package: its manifest and its signature, then every file the manifest lists
    (present, of its size and SHA-256), then that no other file is there. The verdict names the
    first problem found."""
    try:
        archive = zipfile.ZipFile(path_or_file)
    except (zipfile.BadZipFile, OSError) as exc:
        return Verdict(False, f"not a readable ZIP: {exc}")
    with archive:
        names = archive.namelist()
        if len(names) != len(set(names)):
            duplicate = next(n for n in names if names.count(n) > 1)
            return Verdict(False, f"{duplicate} is in the package twice", duplicate)
        if MANIFEST not in names:
            return Verdict(False, f"{MANIFEST} is missing", MANIFEST)
        try:
            body = archive.read(MANIFEST)
            manifest = json.loads(body)
            listed = [(f["name"], f["sha256"], int(f["size"])) for f in manifest["files"]]
        except (zipfile.BadZipFile, ValueError, KeyError, TypeError) as exc:
            return Verdict(False, f"{MANIFEST} cannot be read: {exc}", MANIFEST)
        digest = hashlib.sha256(body).hexdigest()
        if check_signature:
            if SIGNATURE not in names:
                return Verdict(False, f"{SIGNATURE} is missing", SIGNATURE, digest)
            try:
                signature = archive.read(SIGNATURE).decode().strip()
            except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
                return Verdict(False, f"{SIGNATURE} cannot be read: {exc}", SIGNATURE, digest)
            if not hmac.compare_digest(signature, _sign(body)):
                return Verdict(False, f"{MANIFEST} was altered (its signature does not match)", MANIFEST, digest)
        for name, sha256, size in listed:
            if name not in names:
                return Verdict(False, f"{name} is missing", name, digest)
            try:
                got_sha, got_size = _hash_member(archive, name)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:  # a changed byte fails the CRC
                return Verdict(False, f"{name} was altered ({exc})", name, digest)
            if (got_sha, got_size) != (sha256, size):
                return Verdict(False, f"{name} was altered (SHA-256 {got_sha[:12]}…, size {got_size})", name, digest)
        known = {name for name, _sha, _size in listed} | {MANIFEST, SIGNATURE}
        for name in names:
            if name not in known:
                return Verdict(False, f"{name} is not in the manifest", name, digest)
    return Verdict(True, manifest_sha256=digest, files=len(listed))

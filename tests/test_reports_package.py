"""The auditor's package: one ZIP with every report, the PDFs and a manifest (hashes, ledger
totals, the published awards, the trail's head); ``verify_package`` passes on a fresh package and
names the first file altered by one byte, removed or added."""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import json
import sys
import types
import zipfile
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from audit import chain
from audit.models import AuditRecord
from funding.bookcheck import check_year
from funding.models import Account, LedgerLine
from reports import package
from reports.registry import REPORTS, Column, Report

# --- a report of the tests' own, and a CSV writer until reports.formats is merged ----------------


def _school_rows(user, params):
    from alliance.models import School

    yield from School.objects.visible_to(user).filter(county_id=params.county_id).values_list("code", "name")


DUMMY = Report(
    code="zz_test_schools",
    title="Schools (test)",
    columns=(Column("code", "Code"), Column("name", "Name")),
    rows_fn=_school_rows,
)


def _stand_in_write_csv(report, user, params, out):
    """Only while ``reports.formats`` is not merged: UTF-8 with BOM, a header, the rows."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([str(c.label) for c in report.columns])
    writer.writerows(report.rows(user, params))
    out.write(("\ufeff" + text.getvalue()).encode())


def _stand_in_write_xlsx(report, user, params, out):
    """Only while ``reports.formats`` is not merged: a ZIP as an XLSX is, written as zipfile
    writes one (seeking back to fill in each member's header)."""
    text = io.BytesIO()
    _stand_in_write_csv(report, user, params, text)
    with zipfile.ZipFile(out, "w") as book:
        book.writestr("sheet.csv", text.getvalue())


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def reports_registered(monkeypatch):
    monkeypatch.setitem(REPORTS, DUMMY.code, DUMMY)
    try:
        import reports.formats  # noqa: F401  (the real formatters, once merged)
    except ImportError:
        monkeypatch.setitem(
            sys.modules,
            "reports.formats",
            types.SimpleNamespace(write_csv=_stand_in_write_csv, write_xlsx=_stand_in_write_xlsx),
        )


@pytest.fixture
def built(published, auditor, tmp_path):
    path = tmp_path / "package.zip"
    with open(path, "wb") as out:
        # sealed as outside a transaction (a test runs inside one)
        manifest = package.build_package(auditor, published.county, published.school_year, out, seal=True)
    return path, manifest


def rezip(path, *, change=None, drop=None, add=None):
    """A copy of the package rewritten as a tamperer would: one file's bytes changed, one file
    left out, or one added (the ZIP itself stays well formed)."""
    out = path.with_name("tampered.zip")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == drop:
                continue
            data = src.read(info.filename)
            if info.filename == change:
                data = data[:-1] + bytes([data[-1] ^ 0x01])
            dst.writestr(info.filename, data)
        if add:
            dst.writestr(add, b"x")
    return out


def test_the_package_holds_every_report_the_pdfs_and_a_manifest_of_them(built):
    path, manifest = built
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        listed = {f["name"]: f for f in manifest["files"]}
        assert names == set(listed) | {"manifest.json", "manifest.sig"}
        assert {f"{code}.csv" for code in REPORTS} <= names
        if hasattr(importlib.import_module("reports.formats"), "write_xlsx"):
            assert {f"{code}.xlsx" for code in REPORTS} <= names
            assert zipfile.is_zipfile(io.BytesIO(archive.read("zz_test_schools.xlsx")))
        assert {"award_notices.pdf", "county_summary.pdf"} <= names
        for name, entry in listed.items():
            assert entry["size"] == len(archive.read(name))
        assert json.loads(archive.read("manifest.json")) == {
            k: v for k, v in manifest.items() if k != "manifest_sha256"
        }
        rows = list(csv.reader(io.StringIO(archive.read("zz_test_schools.csv").decode("utf-8-sig"))))
    assert rows[0] == ["Code", "Name"]
    assert manifest["created_by"]["username"] == "auditor"
    assert manifest["omitted"] == {}


def test_the_manifests_award_total_is_the_published_pools_awards_to_the_fen(built, published):
    _path, manifest = built
    publication = published.publications.get()
    awards = manifest["awards"]
    assert awards["published"] is True
    assert D(awards["award_total"]) == sum((D(a) for a in publication.awards.values()), D("0.00"))
    assert D(awards["award_total"]) + D(awards["not_awarded"]) == D(awards["pool"]) == D("240000.00")
    assert sum(D(a) for a in awards["awards_by_school"].values()) == D(awards["award_total"])
    assert awards["revision"] == publication.revision


def test_the_manifests_ledger_totals_are_the_books(built, open_year):
    _path, manifest = built
    ledger = manifest["ledger"]
    for kind in Account.Kind.values:
        lines = LedgerLine.objects.filter(account__funding_year=open_year, account__kind=kind)
        assert D(ledger["totals_by_account_kind"][kind]) == sum((line.amount for line in lines), D("0.00"))
    assert sum(D(v) for v in ledger["totals_by_account_kind"].values()) == 0  # double entry
    assert ledger["ledger_check"] == [str(p) for p in check_year(open_year)] == []


def test_the_manifest_notes_the_trails_head_and_the_package_is_recorded(built):
    _path, manifest = built
    head = manifest["audit_trail"]
    assert head["sealed"] > 0
    assert head["unsealed_tail"] == 0  # the package sealed the trail first
    assert chain.verify(expect_head=(head["sealed"], head["head_hash"])).ok
    record = AuditRecord.objects.filter(action="export", after__report="audit_package").get()
    assert record.username == "auditor"
    assert record.after["manifest_sha256"] == manifest["manifest_sha256"]


def test_an_unsealed_tail_is_reported_as_such(published, auditor):
    # given records written since the last seal (the fixtures'), and a package made inside a
    # transaction, which does not seal
    chain.seal()
    AuditRecord.objects.create(at=published.approved_at, action="export", model="x", db_user="app")
    manifest = package.build_package(auditor, published.county, published.school_year, io.BytesIO())
    head = manifest["audit_trail"]
    # then the head is the last seal, and the record after it is the tail (the package's own
    # export records follow it)
    assert head["unsealed_tail"] == 1
    unsealed = chain.verify(expect_head=(head["sealed"], head["head_hash"])).unsealed
    assert unsealed[0] == AuditRecord.objects.filter(model="x").get().pk
    assert AuditRecord.objects.filter(after__report="audit_package").get().pk in unsealed


def test_verify_package_passes_on_a_fresh_package(built):
    path, manifest = built
    out = io.StringIO()
    call_command("verify_package", str(path), stdout=out)
    assert manifest["manifest_sha256"] in out.getvalue()
    assert "recorded" in out.getvalue()


@pytest.mark.parametrize("name", ["award_notices.pdf", "zz_test_schools.csv", "county_summary.pdf"])
def test_verify_package_fails_after_one_byte_changes_in_one_file(built, name):
    path, _manifest = built
    with pytest.raises(CommandError, match=rf"{name} was altered"):
        call_command("verify_package", str(rezip(path, change=name)))


def test_verify_package_fails_when_a_byte_of_the_zip_itself_changes(built):
    path, _manifest = built
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("award_notices.pdf")
    data[info.header_offset + len(info.FileHeader()) + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CommandError, match=r"award_notices\.pdf was altered"):
        call_command("verify_package", str(path))


def test_verify_package_fails_when_a_file_is_removed_or_added(built):
    path, _manifest = built
    with pytest.raises(CommandError, match=r"county_summary\.pdf is missing"):
        call_command("verify_package", str(rezip(path, drop="county_summary.pdf")))
    with pytest.raises(CommandError, match=r"extra\.csv is not in the manifest"):
        call_command("verify_package", str(rezip(path, add="extra.csv")))


def test_a_manifest_rewritten_to_match_an_altered_file_fails_its_signature(built):
    path, _manifest = built
    tampered = rezip(path, change="zz_test_schools.csv")
    with zipfile.ZipFile(tampered) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        entry["sha256"] = hashlib.sha256(files[entry["name"]]).hexdigest()
    files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(CommandError, match=r"manifest\.json was altered"):
        call_command("verify_package", str(tampered))
    # without the key the files agree with the rewritten manifest: the signature is what caught it
    call_command("verify_package", str(tampered), "--no-signature", stdout=io.StringIO())


def test_the_command_writes_the_package(published, tmp_path, auditor):
    path = tmp_path / "p.zip"
    out = io.StringIO()
    call_command(
        "audit_package", "--county", "330100", "--year", "2025", "--output", str(path), "--user", "auditor", stdout=out
    )
    assert "manifest SHA-256" in out.getvalue()
    assert package.verify(path).ok
    # without --user it is built as the command, and the trail says so
    call_command("audit_package", "--county", "330100", "--year", "2025", "--output", str(path), stdout=out)
    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    assert manifest["created_by"] is None
    record = AuditRecord.objects.filter(action="export", after__report="audit_package").order_by("-id").first()
    assert record.user_id is None
    assert record.source.startswith("manage.py audit_package")


def test_only_the_countys_readers_build_a_package(published, principal, lead_principal, assessor, other_bureau_staff):
    for user in (principal, lead_principal, assessor, other_bureau_staff):
        with pytest.raises(PermissionDenied):
            package.build_package(user, published.county, published.school_year, io.BytesIO())
    with pytest.raises(CommandError):
        call_command(
            "audit_package", "--county", "330100", "--year", "2025", "--output", "/dev/null", "--user", "principal"
        )


def test_before_publication_the_notices_are_left_out_and_the_manifest_says_why(
    year_period, bureau_staff, open_year, tmp_path
):
    path = tmp_path / "p.zip"
    with open(path, "wb") as out:
        manifest = package.build_package(bureau_staff, year_period.county, year_period.school_year, out)
    assert "award_notices.pdf" in manifest["omitted"]
    assert manifest["awards"]["published"] is False
    assert package.verify(path).ok

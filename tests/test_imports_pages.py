"""The import page (upload → preview → confirm) and the ``import_data`` command: bureau staff of
the county only, the confirmation imports the very file the preview read, and a bureau user
never imports into another county."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from alliance.models import School
from audit.models import AuditRecord
from imports.services import PENDING_DIR, import_run

from .imports_files import xlsx

pytestmark = pytest.mark.django_db

HEADER = ["学校代码", "学校名称", "学段", "城乡", "办学类别"]
GOOD = xlsx([HEADER, ["N001", "北山小学", "小学", "农村", "薄弱"], ["N002", "南湖小学", "小学", "城区", "优质"]])
BAD = xlsx([HEADER, ["N001", "北山小学", "小学", "农村", "薄弱"], ["N001", "重复", "小学", "农村", "薄弱"]])


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client, data=GOOD, name="学校.xlsx", kind="schools"):
    return client.post("/imports/", {"kind": kind, "file": SimpleUploadedFile(name, data)})


def test_upload_previews_then_confirm_imports(bureau_staff, county):
    client = _client(bureau_staff)
    # when the bureau uploads a file
    preview = _upload(client)
    # then the preview lists what would be created, and nothing is written yet
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "预览" in page and "新增" in page and 'name="token"' in page
    assert not School.objects.filter(code__in=["N001", "N002"]).exists()
    token = preview.context["token"]
    # when it confirms, the stored file is imported, once
    done = client.post("/imports/confirm/", {"token": token})
    assert done.status_code == 200 and "已导入" in done.content.decode()
    assert School.objects.filter(county=county, code__in=["N001", "N002"]).count() == 2
    assert AuditRecord.objects.filter(action="import", username="bureau", model="imports.schools").count() == 1
    assert client.post("/imports/confirm/", {"token": token}).status_code == 404
    # and the same file again is all "unchanged"
    again = _upload(client)
    assert again.context["report"].counts == {"create": 0, "update": 0, "unchanged": 2, "bad": 0}


def test_a_bad_file_shows_its_rows_and_offers_no_confirmation(bureau_staff):
    response = _upload(_client(bureau_staff), BAD)
    assert response.status_code == 400
    page = response.content.decode()
    assert "N001 与本文件第 2 行重复" in page and 'name="token"' not in page
    assert not School.objects.filter(code="N001").exists()


def test_confirm_needs_this_sessions_unchanged_file(bureau_staff, second_bureau_staff):
    client = _client(bureau_staff)
    token = _upload(client).context["token"]
    # another user (even of the same bureau) cannot confirm this session's upload
    assert _client(second_bureau_staff).post("/imports/confirm/", {"token": token}).status_code == 404
    # a stored file changed behind the preview's back is refused
    name = f"{PENDING_DIR}/{token}"
    default_storage.delete(name)
    default_storage.save(name, ContentFile(BAD))
    response = client.post("/imports/confirm/", {"token": token})
    assert response.status_code == 400 and "预览后已改变" in response.content.decode()
    assert not School.objects.filter(code__in=["N001", "N002"]).exists()


@pytest.mark.parametrize("role", ["principal", "lead_principal", "assessor", "auditor"])
def test_other_roles_cannot_import(request, role):
    client = _client(request.getfixturevalue(role))
    assert client.get("/imports/").status_code == 403
    assert _upload(client).status_code == 403
    assert client.post("/imports/confirm/", {"token": "0" * 32}).status_code == 403
    assert client.get("/imports/template/schools.xlsx").status_code == 403
    assert not School.objects.filter(code="N001").exists()


def test_the_service_refuses_another_county(bureau_staff, other_county, auditor, principal):
    for user, county in ((bureau_staff, other_county), (auditor, auditor.county), (principal, principal.county)):
        with pytest.raises(PermissionDenied):
            import_run(actor=user, kind="schools", data=GOOD, file_name="学校.xlsx", commit=True, county=county)
    assert not School.objects.filter(code="N001").exists()


@pytest.mark.parametrize(("kind", "fmt"), [("schools", "xlsx"), ("teachers", "csv"), ("quotas", "xlsx")])
def test_templates_download(bureau_staff, kind, fmt):
    response = _client(bureau_staff).get(f"/imports/template/{kind}.{fmt}")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"PK\x03\x04" if fmt == "xlsx" else "\ufeff".encode())
    assert _client(bureau_staff).get("/imports/template/users.csv").status_code == 404


def test_the_overview_links_the_imports_for_the_bureau_only(bureau_staff, auditor):
    assert 'id="imports-link"' in _client(bureau_staff).get("/").content.decode()
    assert 'id="imports-link"' not in _client(auditor).get("/overview/").content.decode()


def test_the_command_dry_runs_then_commits(bureau_staff, county, tmp_path, capsys):
    path = tmp_path / "学校.xlsx"
    path.write_bytes(GOOD)
    call_command("import_data", "schools", str(path), "--user", "bureau")
    out = capsys.readouterr().out
    assert "第 2 行 · N001: 新增" in out and "预览" in out
    assert not School.objects.filter(code="N001").exists()
    call_command("import_data", "schools", str(path), "--user", "bureau", "--commit")
    assert "已导入" in capsys.readouterr().out
    assert School.objects.filter(county=county, code__in=["N001", "N002"]).count() == 2
    event = AuditRecord.objects.get(action="import")
    assert event.username == "bureau" and event.source.startswith("manage.py import_data")


def test_the_command_names_bad_rows_and_refuses_other_users(bureau_staff, principal, other_county, tmp_path, capsys):
    bad, good = tmp_path / "bad.xlsx", tmp_path / "good.xlsx"
    bad.write_bytes(BAD)
    good.write_bytes(GOOD)
    with pytest.raises(CommandError):
        call_command("import_data", "schools", str(bad), "--user", "bureau", "--commit")
    assert "第 3 行" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("import_data", "schools", str(good), "--user", "principal", "--commit")
    with pytest.raises(CommandError):
        call_command("import_data", "schools", str(good), "--user", "bureau", "--commit", "--county", "330200")
    assert not School.objects.filter(code__in=["N001", "N002"]).exists()

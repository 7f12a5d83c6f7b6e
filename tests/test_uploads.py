"""Uploads: PNG, JPEG and PDF only (by content and name), at most 10 MB, stored under generated
names, served only through the access checkpoint with safe headers; never from /media/."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alliance.models import Pairing
from alliance.uploads import MAX_UPLOAD_BYTES, validate_upload
from staffing.models import ActivityAttachment

from .factories_staffing import ActivityFactory

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
# Name, content: what must be refused.
BAD_FILES = [
    ("page.html", b"<html><script>alert(1)</script></html>"),
    ("page.pdf", b"<html><script>alert(1)</script></html>"),  # a PDF by name only
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("setup.exe", b"MZ\x90\x00\x03" + b"\x00" * 64),
    ("setup.png", b"MZ\x90\x00\x03" + b"\x00" * 64),
    ("big.pdf", b"%PDF-1.4\n" + b"0" * (30 * 1024 * 1024)),
]


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize("name,content", [("a.pdf", PDF), ("a.PNG", PNG), ("a.jpg", JPEG), ("a.jpeg", JPEG)])
def test_pdf_png_and_jpeg_are_accepted(name, content):
    validate_upload(upload(name, content))


@pytest.mark.parametrize("name,content", BAD_FILES, ids=[n for n, _ in BAD_FILES])
def test_anything_else_is_refused(name, content):
    with pytest.raises(ValidationError):
        validate_upload(upload(name, content))


def test_the_limit_is_ten_megabytes():
    validate_upload(upload("a.pdf", PDF + b"0" * (MAX_UPLOAD_BYTES - len(PDF))))
    with pytest.raises(ValidationError):
        validate_upload(upload("a.pdf", PDF + b"0" * (MAX_UPLOAD_BYTES - len(PDF) + 1)))


@pytest.fixture
def activity(member_school, principal):
    return ActivityFactory(host_school=member_school)


@pytest.mark.django_db
@pytest.mark.parametrize("name,content", BAD_FILES, ids=[n for n, _ in BAD_FILES])
def test_the_api_refuses_bad_files(name, content, api_as, principal, activity):
    response = api_as(principal).post(
        "/api/v1/activity-attachments/", {"activity": activity.pk, "file": upload(name, content)}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert response.json()["file"]
    assert not ActivityAttachment.objects.exists()


@pytest.mark.django_db
def test_a_pdf_is_stored_under_a_generated_name_and_served_to_its_readers_only(
    api_as, principal, other_school_principal, activity
):
    # given a principal uploads a receipt through the API
    response = api_as(principal).post(
        "/api/v1/activity-attachments/",
        {"activity": activity.pk, "file": upload("../../收据 2025.pdf", PDF), "caption": "收据"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    attachment = ActivityAttachment.objects.get()
    # then it is stored under a generated name, not the uploader's
    assert re.fullmatch(r"activities/\d{4}/[0-9a-f]{32}\.pdf", attachment.file.name), attachment.file.name
    # and the API names the guarded address, never /media/
    url = response.json()["file"]
    assert "/media/" not in url
    path = url.split("testserver", 1)[-1]
    assert path == f"/files/staffing.activityattachment/{attachment.pk}/file/"
    # the owner reads it, as an attachment that is not sniffed
    owner = Client()
    owner.force_login(principal)
    served = owner.get(path)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PDF
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"].startswith("attachment")
    assert served["X-Content-Type-Options"] == "nosniff"
    # with a token as well
    token = Token.objects.create(user=principal)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(path).status_code == 200
    # another school's principal is told it does not exist
    other = Client()
    other.force_login(other_school_principal)
    assert other.get(path).status_code == 404
    # anonymous: sent to the login page; a bad token: 401
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    assert bad.get(path).status_code == 401
    # and there is no public /media/ address
    assert owner.get(f"/media/{attachment.file.name}").status_code == 404


@pytest.mark.django_db
def test_images_are_inline_and_accel_redirect_is_used_when_configured(client, principal, activity, settings):
    attachment = ActivityAttachment.objects.create(activity=activity, file=upload("photo.png", PNG))
    client.force_login(principal)
    path = f"/files/staffing.activityattachment/{attachment.pk}/file/"
    served = client.get(path)
    assert served["Content-Disposition"].startswith("inline")
    assert served["Content-Type"] == "image/png"
    settings.MEDIA_ACCEL_REDIRECT = "/protected/"
    served = client.get(path)
    assert served.status_code == 200
    assert served["X-Accel-Redirect"] == f"/protected/{attachment.file.name}"
    assert served.content == b""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/files/alliance.school/1/name/",
        "/files/alliance.user/1/password/",
        "/files/nope.nothing/1/file/",
        "/files/staffing.activityattachment/999/file/",
        "/files/staffing.activityattachment/1/caption/",
    ],
)
def test_only_protected_file_fields_are_served(path, client, principal):
    client.force_login(principal)
    assert client.get(path).status_code == 404


def _pairing_form(client, pairing) -> dict:
    response = client.get(f"/admin/alliance/pairing/{pairing.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {n: form[n].value() for n in form.fields if form[n].value() not in (None, "", False)}
    data.pop("agreement_document", None)
    data["focus_areas"] = "[]"
    for formset in response.context["inline_admin_formsets"]:
        mgmt = formset.formset.management_form
        for name in mgmt.fields:
            data[f"{mgmt.prefix}-{name}"] = mgmt[name].value()
    return data


@pytest.fixture
def pairing(alliance, lead_school, member_school):
    return Pairing.objects.create(
        alliance=alliance, helper_school=lead_school, helped_school=member_school, start_date="2025-09-01"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name,content", BAD_FILES, ids=[n for n, _ in BAD_FILES])
def test_the_admin_refuses_bad_files(name, content, client, bureau_staff, pairing):
    client.force_login(bureau_staff)
    data = _pairing_form(client, pairing)
    data["agreement_document"] = upload(name, content)
    response = client.post(f"/admin/alliance/pairing/{pairing.pk}/change/", data)
    assert response.status_code == 200
    assert "agreement_document" in response.context["adminform"].form.errors
    pairing.refresh_from_db()
    assert not pairing.agreement_document


@pytest.mark.django_db
def test_the_admin_stores_a_pdf_and_links_the_guarded_address(client, bureau_staff, pairing):
    client.force_login(bureau_staff)
    data = _pairing_form(client, pairing)
    data["agreement_document"] = upload("协议.pdf", PDF)
    response = client.post(f"/admin/alliance/pairing/{pairing.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    pairing.refresh_from_db()
    assert re.fullmatch(r"pairings/\d{4}/[0-9a-f]{32}\.pdf", pairing.agreement_document.name)
    page = client.get(f"/admin/alliance/pairing/{pairing.pk}/change/")
    assert f"/files/alliance.pairing/{pairing.pk}/agreement_document/".encode() in page.content
    assert b"/media/" not in page.content

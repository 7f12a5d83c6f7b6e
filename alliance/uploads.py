"""Uploaded files (agreements, receipts, attachments, evidence): what is accepted, where it is
stored and how it is served.

- Accepted: PNG, JPEG and PDF only, recognised by their content (magic bytes) *and* their name,
  at most ``MAX_UPLOAD_BYTES``: ``validate_upload(file)`` for any caller (forms, services, the
  portal's pages), and the default validator of every ``ProtectedFileField``.
- Stored under a generated name (``UploadTo``: ``<prefix>/<year>/<uuid>.<ext>``); the uploader's
  file name is never a path on disk.
- Served only by ``serve_upload``, which asks the access checkpoint whether the user may read
  the owning row (404 otherwise), as an attachment (images inline) with ``nosniff``; through
  the web server's ``X-Accel-Redirect`` when ``MEDIA_ACCEL_REDIRECT`` names its internal
  location. There is no public /media/ URL.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import reverse
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from . import access

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Extension -> (content type, the bytes every such file starts with).
KINDS = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}
IMAGE_TYPES = {"image/png", "image/jpeg"}


def _extension(name: str) -> str:
    return os.path.splitext(name or "")[1].lower()


def _head(file: Any, size: int = 16) -> bytes:
    position = file.tell() if hasattr(file, "tell") else None
    try:
        file.seek(0)
        return file.read(size) or b""
    finally:
        if position is not None:
            file.seek(position)


def validate_upload(file: Any) -> None:
    """Refuse anything but a PNG, JPEG or PDF of at most 10 MB, judged by content and name.
    A file already stored (an unchanged field of a row being edited) is not read again."""
    if not file or (isinstance(file, FieldFile) and getattr(file, "_committed", False)):
        return
    size = getattr(file, "size", None)
    if size is None or size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is larger than %(limit)d MB.") % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)},
            code="file_too_large",
        )
    kind = KINDS.get(_extension(getattr(file, "name", "")))
    if kind is None:
        raise ValidationError(_("Only PDF, PNG and JPEG files are accepted."), code="file_type")
    head = _head(file)
    if not any(head.startswith(magic) for magic in kind[1]):
        raise ValidationError(_("The file's content is not the PDF, PNG or JPEG its name says."), code="file_content")


@deconstructible
class UploadTo:
    """``upload_to`` that stores ``<prefix>/<year>/<uuid><ext>`` (the extension as validated)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.strip("/")

    def __call__(self, instance: models.Model, filename: str) -> str:
        return f"{self.prefix}/{timezone.localdate():%Y}/{uuid.uuid4().hex}{_extension(filename)}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UploadTo) and other.prefix == self.prefix


class ProtectedFieldFile(FieldFile):
    @property
    def url(self) -> str:
        """The checkpoint-guarded address of the file, never the storage's public one."""
        self._require_file()  # type: ignore[attr-defined]  # FieldFile's own check, not in the stubs
        if self.instance.pk is None:
            raise AttributeError("an unsaved row's file has no address yet")
        return upload_url(self.instance, self.field.name)


class ProtectedFileField(models.FileField):
    """A FileField whose uploads are validated (``validate_upload``), stored under generated
    names (pass ``upload_to=UploadTo(...)``) and served only through ``serve_upload``."""

    attr_class = ProtectedFieldFile
    default_validators = [validate_upload]


def upload_url(instance: models.Model, field: str) -> str:
    return reverse("upload", kwargs={"label": instance._meta.label_lower, "pk": instance.pk, "field": field})


def _protected_field(label: str, field: str) -> tuple[type[models.Model], ProtectedFileField]:
    try:
        model = apps.get_model(label)
        model_field = model._meta.get_field(field)
    except (LookupError, ValueError, FieldDoesNotExist) as exc:
        raise Http404 from exc
    if not isinstance(model_field, ProtectedFileField) or not hasattr(model, "scope"):
        raise Http404
    return model, model_field


def file_response(field_file: FieldFile) -> HttpResponse | FileResponse:
    name = field_file.name or ""
    content_type = KINDS.get(_extension(name), ("application/octet-stream", ()))[0]
    filename = os.path.basename(name)
    inline = content_type in IMAGE_TYPES
    prefix = getattr(settings, "MEDIA_ACCEL_REDIRECT", "")
    response: HttpResponse | FileResponse
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{field_file.name}"
        response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    else:
        response = FileResponse(
            field_file.open("rb"), content_type=content_type, as_attachment=not inline, filename=filename
        )
        if inline:
            response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _token_user(request: HttpRequest) -> Any:
    """The user of an ``Authorization: Token ...`` header, for API clients (DRF's own check)."""
    from rest_framework.authentication import TokenAuthentication
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework.request import Request

    try:
        found = TokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def serve_upload(request: HttpRequest, label: str, pk: int, field: str) -> HttpResponse | FileResponse:
    """GET /files/<app.model>/<pk>/<field>/: the file of a row the user may read (session or API
    token); 404 for a row it may not read, or one without a file. Anonymous: the login page
    (a browser) or 401 (a client that sent a token that is not valid)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    user = request.user
    if request.headers.get("Authorization"):
        user = _token_user(request)
        if user is None:
            return HttpResponse(status=401, headers={"WWW-Authenticate": "Token"})
    if not getattr(user, "is_authenticated", False):
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    model, _field = _protected_field(label, field)
    row = access.visible(model._default_manager.filter(pk=pk), user).first()
    field_file = getattr(row, field, None) if row is not None else None
    if not field_file:
        raise Http404
    return file_response(field_file)

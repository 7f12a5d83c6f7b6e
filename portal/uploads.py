"""What a receipt may be: an image (PNG or JPEG) or a PDF, told by its first bytes rather than
its name or the browser's word, and at most ``MAX_RECEIPT_BYTES``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

MAX_RECEIPT_BYTES = 10 * 1024 * 1024
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"%PDF-", "application/pdf"),
)


def receipt_kind(upload: UploadedFile) -> str | None:
    """The receipt's type by its content, or None when it is none of the accepted ones."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def check_receipt(upload: UploadedFile) -> UploadedFile:
    assert upload.size is not None  # an uploaded file's size is known
    if upload.size > MAX_RECEIPT_BYTES:
        raise ValidationError(_("The receipt may be at most 10 MB."), code="too_large")
    if receipt_kind(upload) is None:
        raise ValidationError(_("The receipt must be a photo (PNG or JPEG) or a PDF."), code="bad_type")
    return upload

"""The upload form: which import and the file; the file's content is ``reading``'s to judge."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .kinds import KINDS
from .reading import MAX_FILE_BYTES


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"), choices=[(k.name, k.title) for k in KINDS.values()])
    file = forms.FileField(label=_("File (.xlsx or .csv)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size is None or upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB."), params={"mb": MAX_FILE_BYTES >> 20}, code="too_large"
            )
        return upload

"""The downloadable templates: one per import, as XLSX and as CSV, with the columns named in
Chinese (a * marks a required column; English names are accepted too) and, in the XLSX, a
second sheet that explains each column and its allowed values."""

from __future__ import annotations

import csv
import io

from django.utils import translation
from django.utils.translation import gettext as _

from .kinds import Kind, allowed, chinese

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _header(kind: Kind) -> list[str]:
    return [chinese(c.label) + ("*" if c.required else "") for c in kind.columns]


def blank_csv(kind: Kind) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow(_header(kind))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM: Excel then reads it as UTF-8


def blank_xlsx(kind: Kind) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = chinese(kind.sheet)
    sheet.append(_header(kind))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(kind.columns):
        sheet.column_dimensions[chr(ord("A") + index)].width = max(12, 2 * len(chinese(column.label)) + 4)
    with translation.override("zh-hans"):
        notes = workbook.create_sheet(_("Notes"))
        notes.append([_("Column"), _("Required"), _("English name"), _("Allowed values")])
        for column in kind.columns:
            with translation.override("en"):
                english = str(column.label)
            notes.append([chinese(column.label), _("yes") if column.required else _("no"), english, allowed(column)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

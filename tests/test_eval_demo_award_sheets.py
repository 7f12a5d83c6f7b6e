"""The demo's award sheets are the same as before the sheet read the publication and the ledger
(``tests/data/demo_award_sheets``, exported before that change), apart from the preview marker
that now opens a sheet not yet published. Since a year's pool is paid only by the periods its
award policy names (by default the school year's), the term sheet's awards and pool are 0.00."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from alliance.models import User
from evaluation.export import write_award_csv
from evaluation.models import EvaluationPeriod

pytestmark = pytest.mark.django_db

SHEETS = Path(__file__).parent / "data" / "demo_award_sheets"


def test_the_demo_award_sheets_are_unchanged_but_for_the_preview_marker():
    # given the demo loaded, its periods computed but not published
    call_command("load_demo", stdout=io.StringIO())
    bureau = User.objects.get(username="demo-bureau")
    with translation.override("zh-hans"):
        for period in EvaluationPeriod.objects.filter(county__code="430422", subject="school").order_by("pk"):
            # when the bureau exports each period's sheet
            buffer = io.StringIO()
            write_award_csv(period, buffer, user=bureau)
            lines = buffer.getvalue().removeprefix("\ufeff").splitlines()
            # then its first row says it is a preview, with the time it was computed
            assert lines[0].startswith("预览"), lines[0]
            assert period.computed_at is not None
            # and the rest is the sheet as exported before
            before = (SHEETS / f"{period.kind}.csv").read_text(encoding="utf-8-sig").splitlines()
            assert lines[1:] == before, period


def test_the_demo_imports_the_apps_plainly():
    demo = Path(__file__).resolve().parent.parent / "demo"
    for part in ("evaluation_part.py", "funding_part.py"):
        source = (demo / part).read_text(encoding="utf-8")
        assert "importlib" not in source and "hasattr(" not in source, part

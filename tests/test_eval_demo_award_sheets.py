"""The demo's award sheets are the same as before the sheet read the publication and the ledger
(``tests/data/demo_award_sheets``, exported before that change), apart from the preview marker
that now opens a sheet not yet published. Since a year's pool is paid only by the periods its
award policy names (by default the school year's), the term sheet's awards and pool are 0.00.

The stored sheets were exported again when the Hengnan demo became seed 000's 27 schools in 11
paired alliances; ``test_the_stored_sheets_add_up_and_recompute_by_hand`` checks them against
the policy by hand, so a regression of the export still shows as a difference."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from alliance.models import User
from demo import data, evaluation_part
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


def read_sheet(kind: str) -> tuple[list[list[str]], Decimal, Decimal]:
    """A stored sheet's school rows, its remainder and its pool total."""
    rows = list(csv.reader((SHEETS / f"{kind}.csv").read_text(encoding="utf-8-sig").splitlines()))
    body = rows[1:]
    assert [r[1] for r in body[-2:]] == ["未分配（留在资金池）", "资金池合计"]
    return body[:-2], Decimal(body[-2][-1]), Decimal(body[-1][-1])


GRADES = {"优秀": "excellent", "良好": "good", "合格": "pass", "不合格": "fail"}


def by_hand(pool: Decimal, sheet: list[list[str]]) -> dict[str, Decimal]:
    """The demo's tiered policy by hand: weight = the grade's coefficient × the school's 30 %
    share (60,000.00 each: every quota is 200,000.00), nothing under 60; the pool in fen split
    by the largest remainder, ties to the higher score, then the sheet's order."""
    weights = {
        r[0]: Fraction(evaluation_part.TIERS[GRADES[r[4]]]) * 60000 if Decimal(r[3]) >= 60 else Fraction(0)
        for r in sheet
    }
    total, fen = sum(weights.values()), int(pool * 100)
    if total == 0:
        return {code: Decimal("0.00") for code in weights}
    codes = [r[0] for r in sheet]
    exact = {code: fen * w / total for code, w in weights.items()}
    floors = {code: int(x) for code, x in exact.items()}
    score = {r[0]: Decimal(r[3]) for r in sheet}
    order = sorted(codes, key=lambda c: (-(exact[c] - floors[c]), -score[c], codes.index(c)))
    for code in order[: fen - sum(floors.values())]:
        floors[code] += 1
    return {code: Decimal(f) / 100 for code, f in floors.items()}


@pytest.mark.parametrize(("kind", "pool"), [("year", Decimal("1620000.00")), ("term", Decimal("0.00"))])
def test_the_stored_sheets_add_up_and_recompute_by_hand(kind, pool):
    # given a stored sheet of the demo county
    sheet, remainder, total = read_sheet(kind)
    # then it has a row per school of the county, in code order
    assert [r[0] for r in sheet] == sorted(f.code for f in data.SCHOOLS)
    # and the year's pool is 30 % of 27 × 200,000.00 (the terms pay nothing), the awards and
    # the remainder adding up to it to the fen
    assert total == pool
    assert sum(Decimal(r[-1]) for r in sheet) + remainder == total
    # and each grade is the one of its score's band (≥90, ≥75, ≥60)
    for r in sheet:
        score = Decimal(r[3])
        band = "优秀" if score >= 90 else "良好" if score >= 75 else "合格" if score >= 60 else "不合格"
        assert r[4] == band, r
    # and every award is the policy's, recomputed by hand to the fen
    assert {r[0]: Decimal(r[-1]) for r in sheet} == by_hand(total, sheet)

"""The award sheet is exported as a user, through the access checkpoint; once published it reads
the publication and the funding ledger, before that it is the preview and its first row says
so; several periods come as a ZIP of one sheet each."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evaluation import services
from evaluation.export import award_sheet_rows
from evaluation.models import EvaluationPeriod, SchoolResult

from .factories import TermFactory
from .factories_evaluation import enter


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def scored(bureau_staff, year_period, simple_rubric, eval_schools, open_year):
    for key, (q, c) in {"lead": (100, 50), "a": (50, 75), "other_lead": (100, 75), "b": (50, 25)}.items():
        enter(bureau_staff, year_period, simple_rubric, eval_schools[key], quality=q, care=c)
    services.evaluation_run(county=year_period.county, start_year=2025)
    year_period.refresh_from_db()
    return year_period


@pytest.fixture
def published(scored, bureau_staff, second_bureau_staff):
    period = services.publication_propose(actor=bureau_staff, period=scored)
    EvaluationPeriod.objects.filter(pk=period.pk).update(notice_ends_at=timezone.now() - dt.timedelta(minutes=1))
    services.publication_approve(actor=second_bureau_staff, period=period)
    period.refresh_from_db()
    return period


def awards(rows) -> dict[str, D]:
    return {r[0]: D(r[5]) for r in rows if r[0] and r[0] != "School code" and len(r) == 6}


def test_before_publication_the_first_row_says_it_is_a_preview(scored, bureau_staff):
    rows = award_sheet_rows(scored, user=bureau_staff)
    local = timezone.localtime(scored.computed_at).strftime("%Y-%m-%d %H:%M")
    assert rows[0] == [f"Preview (not published): results computed at {local}."]
    assert rows[1][0] == "School code"
    assert sum(awards(rows).values()) + rows[-2][5] == rows[-1][5] == D("240000.00")


def test_once_published_the_sheet_reads_the_publication_and_the_ledger(published, bureau_staff, auditor):
    publication = published.publications.get()
    expected = {
        code: D(0) for code in SchoolResult.objects.filter(period=published).values_list("school__code", flat=True)
    }
    for school_id, amount in publication.awards.items():
        expected[SchoolResult.objects.get(period=published, school_id=int(school_id)).school.code] = D(amount)
    # given the result rows' award and trace changed behind the sheet's back
    SchoolResult.objects.filter(period=published).update(award=D("1.00"), award_preview=D("2.00"), trace={})
    # when the bureau or the auditor exports it
    for user in (bureau_staff, auditor):
        rows = award_sheet_rows(published, user=user)
        # then no preview marker, and the awards are the ledger's, adding up to the pool
        assert rows[0][0] == "School code"
        assert awards(rows) == expected
        assert rows[-1][5] == D("240000.00") == sum(expected.values()) + rows[-2][5]
    assert publication.ledger_entry.kind == "award"


def test_schools_and_other_counties_may_not_export(scored, principal, assessor, other_bureau_staff):
    for user in (principal, assessor, other_bureau_staff):
        with pytest.raises(PermissionDenied):
            award_sheet_rows(scored, user=user)


def test_two_periods_selected_in_the_admin_come_as_a_zip_of_both(scored, bureau_staff, school_year):
    term = TermFactory(school_year=school_year)
    term_period = services.period_create(actor=bureau_staff, school_year=school_year, term=term)
    services.evaluation_run(county=scored.county, start_year=2025)
    client = Client()
    client.force_login(bureau_staff)
    response = client.post(
        reverse("admin:evaluation_evaluationperiod_changelist"),
        {"action": "export_awards", "_selected_action": [scored.pk, term_period.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    assert names == sorted(["330100-awards-2025.csv", f"330100-awards-2025-term-{term.pk}.csv"])
    for name in names:
        rows = list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
        assert rows[0][0].startswith("Preview (not published)")


def test_the_admin_refuses_clearly_when_a_sheet_cannot_be_made(scored, bureau_staff):
    # given awards that no longer fit the pool
    SchoolResult.objects.filter(period=scored).update(award_preview=D("999999.00"))
    client = Client()
    client.force_login(bureau_staff)
    response = client.post(
        reverse("admin:evaluation_evaluationperiod_changelist"),
        {"action": "export_awards", "_selected_action": [scored.pk]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "No award sheet was exported: The awards do not add up to the pool; recompute the period first."
    ]


def test_the_command_exports_as_the_user_it_names(scored, bureau_staff, principal, tmp_path):
    out = tmp_path / "awards.csv"
    call_command("export_awards", "--year", "2025", "--output", str(out), "--user", bureau_staff.username)
    assert out.read_text(encoding="utf-8-sig").startswith("Preview (not published)")
    with pytest.raises(CommandError, match=r"Your role may not export this report\."):
        call_command("export_awards", "--year", "2025", "--output", str(out), "--user", principal.username)
    with pytest.raises(CommandError, match=r"No active user named nobody\."):
        call_command("export_awards", "--year", "2025", "--output", str(out), "--user", "nobody")

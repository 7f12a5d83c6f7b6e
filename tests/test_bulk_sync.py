"""pgtools.bulk.sync_rows on PostgreSQL: a model's rows within a scope become exactly the rows
given (new ones inserted, changed ones updated, unchanged ones left alone, the scope's other
rows deleted), through COPY, whatever the text.

The rows are DeclineWarning and SchoolResult rows of three periods of county X: the two term
periods are the scope of each sync, the year period is another scope value whose rows must
not be touched. Whether a row was rewritten is read from its ``xmin`` system column (the id
of the transaction that wrote the row's current version): each sync runs in its own
savepoint, so a row it rewrites gets a new xmin and a row it leaves alone keeps its own.
"""

import datetime as dt
import json
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from evaluation import services
from evaluation.models import DeclineWarning, SchoolResult
from evaluation.services import SCHOOL_RESULT_FIELDS
from pgtools.bulk import sync_rows

from .factories import TermFactory

KEYS = ("period_id", "school_id")
WARNING_FIELDS = ("falls", "scores")
RESULT_FIELDS = SCHOOL_RESULT_FIELDS
# Every character COPY's text format treats specially, quotes, and Chinese.
NASTY = "tab\there new\nline cr\rx back\\slash \"dq\" 'sq' 校联体，评价"
XMIN = {
    DeclineWarning: "SELECT xmin::text FROM evaluation_declinewarning WHERE id = %s",
    SchoolResult: "SELECT xmin::text FROM evaluation_schoolresult WHERE id = %s",
}


@pytest.fixture
def periods(bureau_staff, school_year, year_period):
    """County X's two term periods (the scope of the syncs) and its year period (outside it)."""
    t1 = TermFactory(school_year=school_year, number=1)
    t2 = TermFactory(school_year=school_year, number=2, start_date=dt.date(2026, 2, 20), end_date=dt.date(2026, 7, 10))
    return {
        "t1": services.period_create(actor=bureau_staff, school_year=school_year, term=t1),
        "t2": services.period_create(actor=bureau_staff, school_year=school_year, term=t2),
        "year": year_period,
    }


@pytest.fixture
def warnings(periods, eval_schools):
    """t1: the lead school, school A and the other lead; t2: school B; the year: lead and B."""
    s = eval_schools
    rows = [
        ("t1", "lead", 1, ["80.00", "70.00"]),
        ("t1", "a", 1, ["60.00", "55.00"]),
        ("t1", "other_lead", 2, ["90.00", "85.00", "80.00"]),
        ("t2", "b", 1, ["50.00", "40.00"]),
        ("year", "lead", 1, ["75.00", "70.00"]),
        ("year", "b", 3, ["9.00", "8.00", "7.00", "6.00"]),
    ]
    with transaction.atomic():
        return {
            (p, school): DeclineWarning.objects.create(period=periods[p], school=s[school], falls=falls, scores=scores)
            for p, school, falls, scores in rows
        }


def warning(period, school, falls, scores):
    return {"period_id": period.pk, "school_id": school.pk, "falls": falls, "scores": scores}


def result(period, school, rubric, *, total="80.00", grade="good", rubric_hash="a" * 64, trace=None):
    return {
        "period_id": period.pk,
        "school_id": school.pk,
        "alliance_id": None,
        "own_total": D(total),
        "final_score": D(total),
        "grade": grade,
        "award_preview": None,
        "rubric_id": rubric.pk,
        "rubric_version": rubric.version,
        "rubric_hash": rubric_hash,
        "trace": trace if trace is not None else {"format": 2, "own_total": total},
    }


def sync(model, rows, scope, *, digest=None):
    """One sync of ``model``'s rows within the periods ``scope``, in its own savepoint."""
    update = WARNING_FIELDS if model is DeclineWarning else RESULT_FIELDS
    within = ("period_id", [p.pk for p in scope])
    with transaction.atomic():
        sync_rows(model, rows, keys=KEYS, update=update, within=within, digest=digest)


@pytest.fixture(params=[None, "row_digest"], ids=["compared-in-postgresql", "by-digest"])
def digest(request):
    """School results are synced both ways: rows compared in PostgreSQL, and by the digest of
    what was last written (``sync_rows(digest=…)``, as the nightly job does)."""
    return request.param


def stored_warnings():
    return {(w.period_id, w.school_id): (w.pk, w.falls, w.scores) for w in DeclineWarning.objects.all()}


def xmin(model, pk):
    with connection.cursor() as cursor:
        cursor.execute(XMIN[model], [pk])
        return cursor.fetchone()[0]


def test_sync_inserts_updates_and_deletes_within_the_scope_only(periods, warnings, eval_schools):
    s, t1, t2, year = eval_schools, periods["t1"], periods["t2"], periods["year"]
    before = stored_warnings()
    # when t1 is given the lead school unchanged, school A changed and school B new (the other
    # lead is left out), and t2 only school A (school B is left out)
    sync(
        DeclineWarning,
        [
            warning(t1, s["lead"], 1, ["80.00", "70.00"]),
            warning(t1, s["a"], 2, ["60.00", "55.00", "50.00"]),
            warning(t1, s["b"], 1, ["45.00", "30.00"]),
            warning(t2, s["a"], 1, ["55.00", "50.00"]),
        ],
        [t1, t2],
    )
    # then the scope holds exactly the rows given: kept and changed rows in place (same ids),
    # the new ones added, the ones left out deleted
    after = stored_warnings()
    scope = {key: row[1:] for key, row in after.items() if key[0] in (t1.pk, t2.pk)}
    assert scope == {
        (t1.pk, s["lead"].pk): (1, ["80.00", "70.00"]),
        (t1.pk, s["a"].pk): (2, ["60.00", "55.00", "50.00"]),
        (t1.pk, s["b"].pk): (1, ["45.00", "30.00"]),
        (t2.pk, s["a"].pk): (1, ["55.00", "50.00"]),
    }
    assert after[(t1.pk, s["lead"].pk)][0] == warnings[("t1", "lead")].pk
    assert after[(t1.pk, s["a"].pk)][0] == warnings[("t1", "a")].pk
    assert not DeclineWarning.objects.filter(pk__in=[warnings[("t1", "other_lead")].pk, warnings[("t2", "b")].pk])
    # and the year period's rows, outside the scope, are untouched
    assert {k: v for k, v in after.items() if k[0] == year.pk} == {k: v for k, v in before.items() if k[0] == year.pk}


def test_an_empty_sync_deletes_the_whole_scope(periods, warnings):
    # when the scope is given no rows
    sync(DeclineWarning, [], [periods["t1"], periods["t2"]])
    # then its rows are gone, the year period's are not
    assert set(DeclineWarning.objects.values_list("period_id", flat=True)) == {periods["year"].pk}
    assert DeclineWarning.objects.count() == 2


def test_an_unchanged_row_is_not_rewritten(periods, warnings, eval_schools):
    s, t1, t2 = eval_schools, periods["t1"], periods["t2"]
    ids = {key: w.pk for key, w in warnings.items()}
    before = {key: xmin(DeclineWarning, pk) for key, pk in ids.items()}
    rows = [
        warning(t1, s["lead"], 1, ["80.00", "70.00"]),  # as stored (a new list, equal)
        warning(t1, s["a"], 1, ["60.00", "56.00"]),  # one score changed
        warning(t1, s["other_lead"], 3, ["90.00", "85.00", "80.00"]),  # the falls changed
        warning(t2, s["b"], 1, ["50.00", "40.00"]),  # as stored
    ]
    # when
    sync(DeclineWarning, rows, [t1, t2])
    # then the rows given as stored keep their version; the changed ones were rewritten
    after = {key: xmin(DeclineWarning, pk) for key, pk in ids.items()}
    assert after[("t1", "lead")] == before[("t1", "lead")]
    assert after[("t2", "b")] == before[("t2", "b")]
    assert after[("t1", "a")] != before[("t1", "a")]
    assert after[("t1", "other_lead")] != before[("t1", "other_lead")]
    assert after[("t1", "a")] == after[("t1", "other_lead")]  # both by the sync's savepoint
    # and rows outside the scope were not touched either
    assert after[("year", "lead")] == before[("year", "lead")]
    assert after[("year", "b")] == before[("year", "b")]
    # when the same rows are synced again
    sync(DeclineWarning, rows, [t1, t2])
    # then nothing is rewritten
    assert {key: xmin(DeclineWarning, pk) for key, pk in ids.items()} == after


def test_text_with_copy_specials_quotes_and_chinese_round_trips(periods, simple_rubric, eval_schools, digest):
    s, t1 = eval_schools, periods["t1"]
    trace = {
        "format": 2,
        "note": NASTY,
        NASTY: [NASTY, None, "1.00"],  # as a key too
        "nested": {"list": [NASTY, "\\N", "", "\\t", "end\\"]},
    }
    rows = [
        result(t1, s["lead"], simple_rubric, rubric_hash=NASTY, trace=trace),
        # a char field holding COPY's null marker as text, and an empty one: text, not NULL
        result(t1, s["a"], simple_rubric, rubric_hash="\\N", grade="", trace={"empty": "", "marker": "\\N"}),
    ]
    assert len(NASTY) <= 64
    # when
    sync(SchoolResult, rows, [t1], digest=digest)
    # then every value reads back exactly as given
    stored = {r["school_id"]: r for r in SchoolResult.objects.filter(period=t1).values(*KEYS, *RESULT_FIELDS)}
    assert stored == {row["school_id"]: row for row in rows}
    # and so do the JSON and the char column of another model's rows
    sync(DeclineWarning, [warning(t1, s["b"], 1, [NASTY, "\\N", ""])], [t1])
    assert DeclineWarning.objects.get(period=t1, school=s["b"]).scores == [NASTY, "\\N", ""]
    # and the same text synced again is seen as unchanged (COPY's text equals the stored text)
    lead = SchoolResult.objects.get(period=t1, school=s["lead"]).pk
    version = xmin(SchoolResult, lead)
    sync(SchoolResult, rows, [t1], digest=digest)
    assert xmin(SchoolResult, lead) == version
    # and a changed text is written
    sync(SchoolResult, [{**rows[0], "trace": {**trace, "note": NASTY + "\n"}}, rows[1]], [t1], digest=digest)
    assert SchoolResult.objects.get(pk=lead).trace["note"] == NASTY + "\n"
    assert xmin(SchoolResult, lead) != version


def test_traces_are_stored_as_the_text_written(periods, simple_rubric, eval_schools):
    """A result's trace column is text (evaluation.fields.JSONTextField), not jsonb: the JSON
    comes back byte for byte as sync_rows wrote it (keys in their order, no spaces added),
    and reads as the same value through the ORM."""
    s, t1 = eval_schools, periods["t1"]
    trace = {"z": 1, "a": [NASTY, None, "1.00"], "format": 2}
    sync(SchoolResult, [result(t1, s["lead"], simple_rubric, trace=trace)], [t1], digest="row_digest")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'evaluation_schoolresult' AND column_name = 'trace'"
        )
        assert cursor.fetchone()[0] == "text"
        cursor.execute("SELECT trace FROM evaluation_schoolresult WHERE period_id = %s", [t1.pk])
        assert cursor.fetchone()[0] == json.dumps(trace, ensure_ascii=False, separators=(",", ":"))
    stored = SchoolResult.objects.get(period=t1, school=s["lead"])
    assert stored.trace == trace and list(stored.trace) == ["z", "a", "format"]
    # and a trace saved through the ORM reads back the same way
    stored.trace = {"b": NASTY}
    stored.save()
    stored.refresh_from_db()
    assert stored.trace == {"b": NASTY}

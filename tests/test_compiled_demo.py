"""Every compiled query of the portal (alliance.compiled) against its QuerySet, for every demo
login, several schools, periods and terms, on the demo county (``load_demo``)."""

import datetime as dt

import pytest

from alliance import compiled
from alliance.models import County, School, Term, User
from evaluation.models import EvaluationPeriod, Rubric
from portal import summaries, views

DEFINED_IN = (summaries, views)  # the modules whose compiled queries are checked (imported for them)

pytestmark = pytest.mark.django_db


def test_every_compiled_query_gives_its_querysets_rows(loaded_once, db):
    terms = list(Term.objects.order_by("start_date"))
    schools = list(School.objects.order_by("pk").values_list("pk", flat=True))
    periods = list(EvaluationPeriod.objects.order_by("pk"))
    rubrics = list(Rubric.objects.order_by("pk").values_list("pk", flat=True))
    county = County.objects.order_by("pk").values_list("pk", flat=True).first()
    assert terms and len(schools) > 3 and periods and rubrics
    queries = [q for q in compiled.QUERIES if not q.__module__.startswith("tests.")]
    assert len(queries) >= 25
    checked = non_empty = 0
    for user in User.objects.filter(is_active=True).order_by("pk"):
        picks = [
            (user.school_id or schools[0], terms[-1], periods[-1]),
            (schools[1], terms[0], periods[0]),
            (schools[-1], None, periods[len(periods) // 2]),
        ]
        for school, term, period in picks:
            given = {
                "today": term.end_date if term else dt.date(2000, 1, 1),
                "school": school,
                "school_year": term.school_year_id if term else None,
                "start": term.start_date if term else None,
                "end": term.end_date if term else None,
                "since": dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                "now": dt.datetime.now(dt.UTC),
                "period": period.pk,
                "rubric": rubrics[-1],
                "county": county,
                "subject": period.subject,
            }
            for query in queries:
                values = {name: given[name] for name in query.kinds}
                try:
                    expected = list(query.build(user, **values))
                except ValueError:  # a None its builder does not take (its callers never pass one)
                    assert None in values.values()
                    with pytest.raises(ValueError):
                        query(user, **values)
                    continue
                rows = query(user, **values)
                assert rows == expected, (user.username, query.__name__, values)
                checked += 1
                non_empty += bool(rows)
    assert checked > 3000 and non_empty > 1000  # (4,160 and 1,242 on the demo)

"""The principal's home's compiled queries (alliance.compiled) against their QuerySets, for
every demo login and several schools, on the demo county (``load_demo``)."""

import datetime as dt

import pytest

from alliance.models import School, Term, User
from portal import summaries
from portal import views as portal_views

pytestmark = pytest.mark.django_db

HOME_QUERIES = [
    summaries._span_term,
    summaries._home_alliances,
    summaries._home_pairings,
    summaries._home_tasks,
    summaries._home_exchanges,
    summaries._home_hosts,
    summaries._home_mentors,
    summaries._home_activities,
    summaries._home_money,
    summaries._latest_and_proposed_rows,
    summaries._notice_union,
    summaries.programmes_of,
    portal_views._own_school_row,
]


def _taken(query) -> tuple[str, ...]:
    """The values the compiled query takes (its builder's arguments after the user)."""
    code = query.__wrapped__.__code__
    return code.co_varnames[1 : code.co_argcount]


def test_each_compiled_query_of_the_home_gives_its_querysets_rows(loaded_once, db):
    terms = list(Term.objects.order_by("start_date"))
    schools = list(School.objects.order_by("pk").values_list("pk", flat=True))
    assert terms and len(schools) > 3
    since = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    checked = non_empty = 0
    for user in User.objects.filter(is_active=True).order_by("pk"):
        for school in {user.school_id or schools[0], schools[1], schools[-1]}:
            for term in (terms[0], terms[-1], None):
                given = {
                    "today": term.end_date if term else dt.date(2000, 1, 1),
                    "school": school,
                    "school_year": term.school_year_id if term else None,
                    "start": term.start_date if term else None,
                    "end": term.end_date if term else None,
                    "since": since,
                }
                for query in HOME_QUERIES:
                    values = {name: given[name] for name in _taken(query)}
                    rows = query(user, **values)
                    assert rows == list(query.build(user, **values)), (user.username, query.__name__, values)
                    checked += 1
                    non_empty += bool(rows)
    assert checked > 1000 and non_empty > 300

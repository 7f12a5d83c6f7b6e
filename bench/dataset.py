"""The benchmark's synthetic data set, built by the child inside its own database: schools,
alliances, teachers, exchanges, activities, mentoring, pairing tasks and funding, set-based
(``INSERT … SELECT generate_series``), then the default rubric, an open year period and the
entered values of every county (``build_evaluation``)."""

from __future__ import annotations

import datetime as dt

from funding.querysets import APPROVED_PLAN
from staffing.querysets import ACTIVITY_KINDS, COUNTED_EXCHANGE_STATUSES

YEAR_START = dt.date(2025, 9, 1)
YEAR_END = dt.date(2026, 7, 15)
# The staffing and funding apps' vocabulary, defined once there (plain values, importable
# before Django is set up): which exchanges count, the activity kinds, an approved plan.
COUNTED = COUNTED_EXCHANGE_STATUSES
# The activity metrics of the default rubric (evaluation.services.default_rubric_structure).
RUBRIC_ACTIVITY_KINDS = ("term_meeting", "resource_sharing", "teaching_research", "online_lesson", "culture_sports")


def build(cursor, *, n: int, county_size: int, teachers: int, activities: int, meetings: int) -> dict[str, int]:
    """Schools 1..n with explicit ids: counties of ``county_size`` schools, alliances of four
    (school 4k+1 leads 4k+2..4k+4), every school with teachers, exchanges, activities, a
    mentoring pair with meetings, a pairing with tasks, a quota booked through the ledger, plan
    lines with spending records booked through the ledger, and manual and survey values."""
    assert n % 4 == 0 and county_size % 4 == 0, "schools and county size must be multiples of 4"
    k = -(-n // county_size)
    p = {
        "n": n,
        "c": county_size,
        "k": k,
        "a": n // 4,
        "t": teachers,
        "act": activities,
        "m": meetings,
        "y0": YEAR_START,
        "y1": YEAR_END,
        "kinds": list(ACTIVITY_KINDS),
        "approved": APPROVED_PLAN,
    }

    def run(sql: str) -> None:
        cursor.execute(sql, p)

    # school i: county (i-1)/c+1, alliance (i-1)/4+1, r = (i-1)%4 (0 = lead), lead = i-r.
    run(
        "INSERT INTO alliance_user (id, password, is_superuser, username, first_name, last_name, email,"
        " is_staff, is_active, date_joined) VALUES (1, '!', true, 'bench', '', '', '', true, true, now())"
    )
    run(
        "INSERT INTO alliance_county (id, code, name, province)"
        " SELECT g, 'B' || lpad(g::text, 6, '0'), '基准县' || g, '基准省' FROM generate_series(1, %(k)s) g"
    )
    run(
        "INSERT INTO alliance_schoolyear (id, county_id, start_year, start_date, end_date)"
        " SELECT g, g, 2025, %(y0)s, %(y1)s FROM generate_series(1, %(k)s) g"
    )
    run(
        "INSERT INTO alliance_school (id, county_id, code, name, stage, location, strength, students, teachers,"
        " classes, active)"
        " SELECT i, (i-1)/%(c)s+1, 'S' || lpad(i::text, 7, '0'), '基准学校' || i,"
        " (ARRAY['primary','junior','nine_year'])[i%%3+1],"
        " CASE WHEN (i-1)%%4=0 THEN 'urban' WHEN i%%2=0 THEN 'township' ELSE 'rural' END,"
        " CASE WHEN (i-1)%%4=0 THEN 'strong' ELSE 'weak' END, 200 + i%%800, %(t)s, 6 + i%%18, true"
        " FROM generate_series(1, %(n)s) i"
    )
    run(
        "INSERT INTO alliance_alliance (id, school_year_id, kind, name, description)"
        " SELECT a, ((a-1)*4)/%(c)s+1, 'community', '基准教共体' || a, '' FROM generate_series(1, %(a)s) a"
    )
    run(
        "INSERT INTO alliance_membership (id, alliance_id, school_id, role, school_year_id, kind)"
        " SELECT i, (i-1)/4+1, i, CASE WHEN (i-1)%%4=0 THEN 'lead' ELSE 'member' END, (i-1)/%(c)s+1, 'community'"
        " FROM generate_series(1, %(n)s) i"
    )
    # A pairing lead → member for every member school, three tasks each: on time, sometimes late, open.
    run(
        "INSERT INTO alliance_pairing (id, alliance_id, helper_school_id, helped_school_id, agreement_date,"
        " agreement_document, focus_areas, start_date, end_date)"
        " SELECT i, (i-1)/4+1, i-(i-1)%%4, i, %(y0)s, '', '[\"teaching_research\"]'::jsonb, %(y0)s, NULL"
        " FROM generate_series(1, %(n)s) i WHERE (i-1)%%4 <> 0"
    )
    run(
        "INSERT INTO alliance_pairingtask (id, pairing_id, title, due_date, responsible_person, status,"
        " completed_on, progress_notes, evidence, milestone)"
        " SELECT (p.id-1)*3+j, p.id, '帮扶任务' || j, %(y0)s + (j*90 + p.id::int%%20),"
        " '负责人', CASE WHEN j=3 THEN 'in_progress' ELSE 'done' END,"
        " CASE WHEN j=3 THEN NULL WHEN j=2 AND p.id%%3=0 THEN %(y0)s + (j*90 + p.id::int%%20 + 7)"
        "      ELSE %(y0)s + (j*90 + p.id::int%%20 - 3) END, '', '', ''"
        " FROM alliance_pairing p, generate_series(1, 3) j"
    )
    # Teachers: the first has served 20 years (a mentor), then a mix below and above six years.
    run(
        "INSERT INTO staffing_teacher (id, school_id, name, gender, subject, title, years_of_service,"
        " is_key_teacher, active)"
        " SELECT (i-1)*%(t)s+j, i, '教师' || ((i-1)*%(t)s+j), CASE WHEN j%%2=0 THEN 'male' ELSE 'female' END,"
        " (ARRAY['chinese','math','english','science','pe'])[j%%5+1],"
        " CASE WHEN j=1 THEN 'senior' ELSE 'first' END, CASE WHEN j=1 THEN 20 ELSE (i*7+j*3)%%25 END,"
        " j=1, true FROM generate_series(1, %(n)s) i, generate_series(1, %(t)s) j"
    )
    # Two postings per school (teachers 1 and 2), hosted within the alliance; one in ten is still planned.
    run(
        "INSERT INTO staffing_exchange (id, kind, teacher_id, origin_school_id, subject, class_count, classes,"
        " weekly_periods, start_date, end_date, status, cross_alliance, approved_at, cancel_reason,"
        " approved_by_id, logged_by_id)"
        " SELECT (i-1)*2+j, CASE WHEN (i-1)%%4=0 THEN 'dispatched' WHEN j=1 THEN 'shadowing' ELSE 'rotation' END,"
        " (i-1)*%(t)s+j, i, 'math', 2, '三(1)班, 三(2)班', 10,"
        " %(y0)s + (i*13+j*29)%%200, %(y0)s + (i*13+j*29)%%200 + 30 + (i*17+j)%%110,"
        " CASE WHEN i%%10=0 AND j=2 THEN 'planned' WHEN j=1 THEN 'completed' ELSE 'active' END,"
        " false, now(), '', 1, 1 FROM generate_series(1, %(n)s) i, generate_series(1, 2) j"
    )
    run(
        "INSERT INTO staffing_exchangehost (id, exchange_id, school_id)"
        " SELECT e.id, e.id, CASE WHEN (e.origin_school_id-1)%%4=0 THEN e.origin_school_id + 1 + (e.id%%2)"
        " ELSE e.origin_school_id - (e.origin_school_id-1)%%4 END FROM staffing_exchange e"
    )
    # Activities: each school hosts ``act``, of every kind in turn; a lead's first ones are visits
    # to its members. Each involves the host and a partner in the alliance (every fifth only the partner).
    run(
        "INSERT INTO staffing_activity (id, kind, date, host_school_id, title, participants, person_times,"
        " description, donation_amount, goods_description, goods_count, goods_value, resource_count)"
        " SELECT (i-1)*%(act)s+j,"
        " CASE WHEN (i-1)%%4=0 AND j <= 1 + ((i-1)/4)%%3 THEN 'visit' ELSE (%(kinds)s::text[])[(i+j)%%9+1] END,"
        " %(y0)s + ((i*7+j*23)%%300), i, '活动' || j, '教师', 20 + (i+j)%%80, '', NULL, '', NULL, NULL, NULL"
        " FROM generate_series(1, %(n)s) i, generate_series(1, %(act)s) j"
    )
    run(
        "INSERT INTO staffing_activity_schools (activity_id, school_id)"
        " SELECT a.id, a.host_school_id FROM staffing_activity a WHERE a.id%%5 <> 0"
        " UNION ALL"
        " SELECT a.id, CASE WHEN (a.host_school_id-1)%%4=0 THEN a.host_school_id + 1 + ((a.id-1)%%%(act)s)%%3"
        " ELSE a.host_school_id - (a.host_school_id-1)%%4 END FROM staffing_activity a"
    )
    # Mentoring: one pair per school (a member's mentee sits at the lead school), ``m`` meetings each.
    run(
        "INSERT INTO staffing_mentorpair (id, mentor_id, mentee_id, start_date, end_date, goals)"
        " SELECT i, (i-1)*%(t)s+1,"
        " CASE WHEN (i-1)%%4=0 OR i%%2=0 THEN (i-1)*%(t)s+%(t)s ELSE (i-(i-1)%%4-1)*%(t)s+%(t)s-1 END,"
        " %(y0)s, %(y1)s, '一年站稳讲台' FROM generate_series(1, %(n)s) i"
    )
    run(
        "INSERT INTO staffing_mentormeeting (id, pair_id, date, kind, notes)"
        " SELECT (i-1)*%(m)s+j, i, %(y0)s + (j*40 + i%%30)%%310,"
        " (ARRAY['lesson_preparation','observation','demonstration','review'])[j%%4+1], ''"
        " FROM generate_series(1, %(n)s) i, generate_series(1, %(m)s) j WHERE j <= %(m)s - i%%3"
    )
    # Funding: an open year per county; quota 200,000 per school booked 70/30 (one balanced
    # allocation entry per school, as funding_year_open books it).
    run(
        "INSERT INTO funding_fundingyear (id, county_id, school_year_id, base_quota, lead_share, pool_share,"
        " status, opened_at, opened_by_id) SELECT g, g, g, 200000, 0.70, 0.30, 'open', now(), 1"
        " FROM generate_series(1, %(k)s) g"
    )
    run(
        "INSERT INTO funding_fundingquota (id, funding_year_id, school_id, alliance_id, quota)"
        " SELECT i, (i-1)/%(c)s+1, i, (i-1)/4+1, 200000 FROM generate_series(1, %(n)s) i"
    )
    # Accounts: appropriation g, pool k+g, alliance fund 2k+a, school spending 2k+n/4+i.
    run(
        "INSERT INTO funding_account (id, funding_year_id, kind, alliance_id, school_id)"
        " SELECT g, g, 'appropriation', NULL::bigint, NULL::bigint FROM generate_series(1, %(k)s) g UNION ALL"
        " SELECT %(k)s+g, g, 'pool', NULL, NULL FROM generate_series(1, %(k)s) g UNION ALL"
        " SELECT 2*%(k)s+a, ((a-1)*4)/%(c)s+1, 'alliance_fund', a, NULL FROM generate_series(1, %(a)s) a UNION ALL"
        " SELECT 2*%(k)s+%(a)s+i, (i-1)/%(c)s+1, 'school_spending', NULL, i FROM generate_series(1, %(n)s) i"
    )
    run(
        "INSERT INTO funding_ledgerentry (id, funding_year_id, kind, school_id, spending_record_id, reverses_id,"
        " reason, memo, created_by_id, created_at)"
        " SELECT i, (i-1)/%(c)s+1, 'allocation', i, NULL, NULL, '', '2025 quota', 1, now()"
        " FROM generate_series(1, %(n)s) i"
    )
    run(
        "INSERT INTO funding_ledgerline (id, entry_id, account_id, amount)"
        " SELECT (i-1)*3+1, i, 2*%(k)s+(i-1)/4+1, 140000 FROM generate_series(1, %(n)s) i UNION ALL"
        " SELECT (i-1)*3+2, i, %(k)s+(i-1)/%(c)s+1, 60000 FROM generate_series(1, %(n)s) i UNION ALL"
        " SELECT (i-1)*3+3, i, (i-1)/%(c)s+1, -200000 FROM generate_series(1, %(n)s) i"
    )
    # The 70 % side: an approved plan per alliance, two lines per member school, two spending
    # records per line (30-100 % of it), each booked fund → school spending.
    run(
        "INSERT INTO funding_spendingplan (id, funding_year_id, alliance_id, lead_school_id, revision, previous_id,"
        " status, notes, return_reason, created_by_id, created_at, submitted_at, decided_by_id, decided_at)"
        " SELECT a, ((a-1)*4)/%(c)s+1, a, (a-1)*4+1, 1, NULL, %(approved)s, '', '', 1, now(), now(), 1, now()"
        " FROM generate_series(1, %(a)s) a"
    )
    run(
        "INSERT INTO funding_planline (id, plan_id, school_id, category, amount, notes)"
        " SELECT (i-1)*2+c, (i-1)/4+1, i, (ARRAY['teaching_research','training'])[c], 80000, ''"
        " FROM generate_series(1, %(n)s) i, generate_series(1, 2) c WHERE (i-1)%%4 <> 0"
    )
    run(
        "INSERT INTO funding_spendingrecord (id, plan_line_id, date, amount, payee, description, receipt,"
        " recorded_at, recorded_by_id)"
        " SELECT (l.id-1)*2+r, l.id, %(y0)s + ((l.id*11+r*97)%%300)::int,"
        " round(40000 * (30 + (l.id*37+r*5)%%71) / 100.0, 2), '供应商', '', '', now(), 1"
        " FROM funding_planline l, generate_series(1, 2) r"
    )
    run(
        "INSERT INTO funding_ledgerentry (id, funding_year_id, kind, school_id, spending_record_id, reverses_id,"
        " reason, memo, created_by_id, created_at)"
        " SELECT %(n)s + s.id, (l.school_id-1)/%(c)s+1, 'spending', l.school_id, s.id, NULL, '', s.payee, 1, now()"
        " FROM funding_spendingrecord s JOIN funding_planline l ON l.id = s.plan_line_id"
    )
    run(
        "INSERT INTO funding_ledgerline (id, entry_id, account_id, amount)"
        " SELECT 3*%(n)s + (s.id-1)*2+1, %(n)s + s.id, 2*%(k)s+%(a)s+l.school_id, s.amount"
        " FROM funding_spendingrecord s JOIN funding_planline l ON l.id = s.plan_line_id UNION ALL"
        " SELECT 3*%(n)s + (s.id-1)*2+2, %(n)s + s.id, 2*%(k)s+(l.school_id-1)/4+1, -s.amount"
        " FROM funding_spendingrecord s JOIN funding_planline l ON l.id = s.plan_line_id"
    )
    for table in (
        "alliance_user",
        "alliance_county",
        "alliance_schoolyear",
        "alliance_school",
        "alliance_alliance",
        "alliance_membership",
        "alliance_pairing",
        "alliance_pairingtask",
        "staffing_teacher",
        "staffing_exchange",
        "staffing_exchangehost",
        "staffing_activity",
        "staffing_mentorpair",
        "staffing_mentormeeting",
        "funding_fundingyear",
        "funding_fundingquota",
        "funding_account",
        "funding_ledgerentry",
        "funding_ledgerline",
        "funding_spendingplan",
        "funding_planline",
        "funding_spendingrecord",
    ):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return {"counties": k, "alliances": n // 4}


def build_evaluation(cursor, *, counties: int) -> None:
    """The default rubric (seed 003's seven dimensions) per county through the service, an
    open year period per county, and a value for every manual and survey indicator."""
    # Imported here, not at the top: the child sets Django up after this module is loaded.
    from alliance.models import County, SchoolYear
    from evaluation import services

    years = {y.county_id: y for y in SchoolYear.objects.all()}
    for county in County.objects.order_by("pk"):
        services.rubric_create_default(county=county, school_year=years[county.pk])
    cursor.execute(
        "INSERT INTO evaluation_evaluationperiod (kind, county_id, school_year_id, term_id, start_date, end_date,"
        " status, notice_days) SELECT 'year', y.county_id, y.id, NULL, y.start_date, y.end_date, 'open', 7"
        " FROM alliance_schoolyear y"
    )
    # Manual values 55-100, survey satisfaction 70-100 %, varying by school and indicator.
    cursor.execute(
        "INSERT INTO evaluation_indicatorvalue (period_id, indicator_id, school_id, value, comment, evidence,"
        " entered_at, entered_by_id)"
        " SELECT p.id, ind.id, s.id,"
        " CASE WHEN ind.method = 'survey' THEN 70 + (s.id*7 + ind.id*3)%31 ELSE 55 + (s.id*11 + ind.id*5)%46 END,"
        " '', '', now(), 1"
        " FROM evaluation_indicator ind"
        " JOIN evaluation_dimension d ON d.id = ind.dimension_id"
        " JOIN evaluation_rubric r ON r.id = d.rubric_id"
        " JOIN evaluation_evaluationperiod p ON p.county_id = r.county_id AND p.school_year_id = r.school_year_id"
        " JOIN alliance_school s ON s.county_id = r.county_id"
        " WHERE ind.method IN ('manual', 'survey')"
    )
    cursor.execute("UPDATE evaluation_rubric SET locked = true")


def empty_tables(cursor) -> list[str]:
    """The tables that hold no row yet: what a first evaluation run fills is among them."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace"
        " WHERE ns.nspname = 'public' AND c.relkind = 'r' ORDER BY 1"
    )
    out = []
    for (name,) in cursor.fetchall():
        cursor.execute(f'SELECT NOT EXISTS (SELECT 1 FROM "{name}")')
        if cursor.fetchone()[0]:
            out.append(name)
    return out


def forget_results(untouched: list[str]) -> None:
    """Back to the database before the first evaluation run: empty again the tables that were
    empty then (the results, the run records, the rubric snapshots), and analyse them as empty,
    as the first run found them. The other tables the evaluation only reads."""
    from django.db import connection  # once Django is set up (see build_evaluation)

    with connection.cursor() as cursor:
        filled = [t for t in untouched if t not in empty_tables(cursor)]
        names = ", ".join(f'"{t}"' for t in filled)
        # CASCADE: a county's nightly schedule points at its last run (evaluation 0008).
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        cursor.execute(f"ANALYZE {names}")


def row_counts(cursor) -> dict[str, int]:
    tables = (
        "alliance_school",
        "staffing_teacher",
        "staffing_exchange",
        "staffing_activity",
        "staffing_activity_schools",
        "staffing_mentormeeting",
        "alliance_pairingtask",
        "funding_planline",
        "funding_spendingrecord",
        "funding_ledgerline",
        "evaluation_indicatorvalue",
    )
    out = {}
    for t in tables:
        cursor.execute(f"SELECT count(*) FROM {t}")
        out[t] = cursor.fetchone()[0]
    return out

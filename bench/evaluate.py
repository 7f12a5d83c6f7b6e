"""The evaluation benchmark: the nightly evaluation against one bare SQL pass over the same rows.

    make bench                                    # 2,000 and 20,000 schools
    make bench BENCH_ARGS="--schools 2000 20000 200000"

``make bench`` starts a throwaway PostgreSQL (scripts/services.sh) and exports DATABASE_URL.
This script migrates a template database once, then for each size copies it, builds a
synthetic data set directly in PostgreSQL (set-based ``INSERT … SELECT generate_series``),
and measures, in a child process of its own (so peak memory is that size's):

* ``evaluation_run()``: the service behind the nightly task and ``manage.py evaluate``: a
  first run inserts the results (the first night), a later one finds them and rewrites what
  changed (every night after the first);
* the bare pass: the GROUP BY queries that compute the same metrics and read the same inputs,
  on a plain psycopg2 connection, without Django, writing nothing.

Each of the three is timed ``--repeat`` times (3) and the best run counts, the same for all
three (between two first runs the tables the first run filled are emptied again).

It prints a table (schools, seconds, ratio, peak memory, cost per school) and writes it with
the raw figures to ``bench/out/``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "bench" / "out"
GOAL_RATIO = 3.0
# Cost per school may vary this much between the smallest and the largest size and still count
# as "roughly constant" (linear growth): caches, plan choices and fixed costs move it a little.
LINEAR_TOLERANCE = 1.5

YEAR_START = dt.date(2025, 9, 1)
YEAR_END = dt.date(2026, 7, 15)
COUNTED = ("approved", "active", "completed")
ROTATION_KINDS = ("dispatched", "shadowing", "rotation", "itinerant", "posting", "substitute")
ACTIVITY_KINDS = (
    "teaching_research",
    "training",
    "visit",
    "term_meeting",
    "donation",
    "resource_sharing",
    "culture_sports",
    "online_lesson",
    "supervision_visit",
)
# The activity metrics of the default rubric (evaluation.services.default_rubric_structure).
RUBRIC_ACTIVITY_KINDS = ("term_meeting", "resource_sharing", "teaching_research", "online_lesson", "culture_sports")


def log(msg: str) -> None:
    print(f"[bench {dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """The process's peak resident memory since ``reset_peak_rss`` (Linux: VmHWM), else since it
    started (getrusage)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Start the peak over (Linux: writing 5 to /proc/self/clear_refs resets VmHWM), so that
    the warm-up bare pass, which fetches every row into Python, does not count as the
    evaluation's peak."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


# =========================================================================================
# The synthetic data set, built by the child inside its own database.
# =========================================================================================


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
        " completed_on, progress_notes)"
        " SELECT (p.id-1)*3+j, p.id, '帮扶任务' || j, %(y0)s + (j*90 + p.id::int%%20),"
        " '负责人', CASE WHEN j=3 THEN 'in_progress' ELSE 'done' END,"
        " CASE WHEN j=3 THEN NULL WHEN j=2 AND p.id%%3=0 THEN %(y0)s + (j*90 + p.id::int%%20 + 7)"
        "      ELSE %(y0)s + (j*90 + p.id::int%%20 - 3) END, ''"
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
        " SELECT a, ((a-1)*4)/%(c)s+1, a, (a-1)*4+1, 1, NULL, 'approved', '', '', 1, now(), now(), 1, now()"
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
    from django.db import connection

    with connection.cursor() as cursor:
        filled = [t for t in untouched if t not in empty_tables(cursor)]
        names = ", ".join(f'"{t}"' for t in filled)
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY")
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


# =========================================================================================
# The bare pass: the same metrics as plain GROUP BY queries, all schools at once.
# =========================================================================================

BARE_QUERIES: dict[str, str] = {
    # inputs the evaluation reads besides the metrics
    "memberships": "SELECT alliance_id, school_id, role FROM alliance_membership",
    "entered_values": "SELECT period_id, school_id, indicator_id, value FROM evaluation_indicatorvalue",
    "quotas": "SELECT funding_year_id, school_id, quota FROM funding_fundingquota",
    "pool_shares": """
        SELECT e.funding_year_id, e.school_id, sum(l.amount) FROM funding_ledgerline l
        JOIN funding_ledgerentry e ON e.id = l.entry_id JOIN funding_account a ON a.id = l.account_id
        WHERE e.kind = 'allocation' AND a.kind = 'pool' GROUP BY 1, 2""",
    # metrics.exchange_days_sent
    "exchange_days_sent": """
        SELECT origin_school_id, sum(LEAST(end_date, %(y1)s) - GREATEST(start_date, %(y0)s) + 1)
        FROM staffing_exchange WHERE status = ANY(%(counted)s) AND start_date <= %(y1)s AND end_date >= %(y0)s
        GROUP BY 1""",
    # metrics.exchange_days_hosted
    "exchange_days_hosted": """
        SELECT h.school_id, sum(LEAST(e.end_date, %(y1)s) - GREATEST(e.start_date, %(y0)s) + 1)
        FROM staffing_exchangehost h JOIN staffing_exchange e ON e.id = h.exchange_id
        WHERE e.status = ANY(%(counted)s) AND e.start_date <= %(y1)s AND e.end_date >= %(y0)s GROUP BY 1""",
    # metrics.rotation_ratio
    "rotation_ratio": """
        SELECT t.school_id,
               100.0 * count(DISTINCT t.id) FILTER (WHERE e.id IS NOT NULL) / count(DISTINCT t.id)
        FROM staffing_teacher t
        LEFT JOIN staffing_exchange e ON e.teacher_id = t.id AND e.status = ANY(%(counted)s)
             AND e.kind = ANY(%(rotation)s) AND e.start_date <= %(y1)s AND e.end_date >= %(y0)s
        WHERE t.active AND t.years_of_service >= 6 GROUP BY 1""",
    # metrics.activities_<kind> for the rubric's five kinds: schools involved, plus hosts not involved
    "activities_involved": """
        SELECT s.school_id, a.kind, count(DISTINCT a.id) FROM staffing_activity_schools s
        JOIN staffing_activity a ON a.id = s.activity_id
        WHERE a.kind = ANY(%(rubric_kinds)s) AND a.date BETWEEN %(y0)s AND %(y1)s GROUP BY 1, 2""",
    "activities_hosted_only": """
        SELECT a.host_school_id, a.kind, count(*) FROM staffing_activity a
        WHERE a.kind = ANY(%(rubric_kinds)s) AND a.date BETWEEN %(y0)s AND %(y1)s AND NOT EXISTS (
            SELECT 1 FROM staffing_activity_schools s WHERE s.activity_id = a.id AND s.school_id = a.host_school_id)
        GROUP BY 1, 2""",
    # metrics.training_person_times
    "training_person_times": """
        SELECT host_school_id, sum(person_times) FROM staffing_activity
        WHERE kind = 'training' AND date BETWEEN %(y0)s AND %(y1)s GROUP BY 1""",
    # metrics.lead_visit_share
    "lead_visit_share": """
        WITH visits AS (
            SELECT DISTINCT a.host_school_id AS host, s.school_id FROM staffing_activity_schools s
            JOIN staffing_activity a ON a.id = s.activity_id
            WHERE a.kind = 'visit' AND a.date BETWEEN %(y0)s AND %(y1)s)
        SELECT l.school_id, 100.0 * count(v.school_id) / count(*)
        FROM alliance_membership l
        JOIN alliance_membership m ON m.alliance_id = l.alliance_id AND m.role = 'member'
        LEFT JOIN visits v ON v.host = l.school_id AND v.school_id = m.school_id
        WHERE l.role = 'lead' GROUP BY 1""",
    # metrics.pairing_tasks_on_time
    "pairing_tasks_on_time": """
        SELECT school, 100.0 * count(*) FILTER (WHERE status = 'done' AND completed_on <= due_date) / count(*)
        FROM (SELECT p.helper_school_id AS school, t.status, t.completed_on, t.due_date
              FROM alliance_pairingtask t JOIN alliance_pairing p ON p.id = t.pairing_id
              WHERE t.due_date BETWEEN %(y0)s AND %(y1)s AND t.status <> 'dropped'
              UNION ALL
              SELECT p.helped_school_id, t.status, t.completed_on, t.due_date
              FROM alliance_pairingtask t JOIN alliance_pairing p ON p.id = t.pairing_id
              WHERE t.due_date BETWEEN %(y0)s AND %(y1)s AND t.status <> 'dropped') x
        GROUP BY 1""",
    # metrics.mentoring_meetings
    "mentoring_meetings": """
        SELECT school, count(*) FROM (
            SELECT tm.school_id AS school FROM staffing_mentormeeting mm
            JOIN staffing_mentorpair p ON p.id = mm.pair_id JOIN staffing_teacher tm ON tm.id = p.mentor_id
            WHERE mm.date BETWEEN %(y0)s AND %(y1)s
            UNION ALL
            SELECT te.school_id FROM staffing_mentormeeting mm
            JOIN staffing_mentorpair p ON p.id = mm.pair_id JOIN staffing_teacher tm ON tm.id = p.mentor_id
            JOIN staffing_teacher te ON te.id = p.mentee_id
            WHERE mm.date BETWEEN %(y0)s AND %(y1)s AND te.school_id <> tm.school_id) x
        GROUP BY 1""",
    # metrics.plan_execution_rate (funding.metrics.execution_rates)
    "plan_execution_rate": """
        SELECT pl.school_id, sum(pl.amount), coalesce(sum(sp.spent), 0)
        FROM funding_planline pl JOIN funding_spendingplan p ON p.id = pl.plan_id AND p.status = 'approved'
        LEFT JOIN (
            SELECT r.plan_line_id, sum(r.amount) AS spent FROM funding_spendingrecord r
            WHERE NOT EXISTS (SELECT 1 FROM funding_ledgerentry e JOIN funding_ledgerentry rev ON rev.reverses_id = e.id
                              WHERE e.spending_record_id = r.id)
            GROUP BY 1) sp ON sp.plan_line_id = pl.id
        GROUP BY 1""",
}


def bare_pass(database_url: str) -> tuple[float, dict[str, int]]:
    """Every query of the bare pass on a fresh psycopg2 connection; rows fetched into Python."""
    import psycopg2

    params = {
        "y0": YEAR_START,
        "y1": YEAR_END,
        "counted": list(COUNTED),
        "rotation": list(ROTATION_KINDS),
        "rubric_kinds": list(RUBRIC_ACTIVITY_KINDS),
    }
    conn = psycopg2.connect(database_url)
    try:
        rows: dict[str, int] = {}
        started = time.perf_counter()
        with conn.cursor() as cur:
            for name, sql in BARE_QUERIES.items():
                cur.execute(sql, params)
                rows[name] = len(cur.fetchall())
        conn.rollback()
        return time.perf_counter() - started, rows
    finally:
        conn.close()


# =========================================================================================
# The child: one size in one database.
# =========================================================================================


class QueryClock:
    """Counts the evaluation's queries and the time spent waiting for PostgreSQL, on every
    connection: the run's own, and those its readers open meanwhile (``watch``). With
    parallel readers the seconds are summed over the connections, and may exceed the run's."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.by_statement: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def watch(self):
        from django.db import connection
        from django.db.backends.signals import connection_created

        def attach(sender, connection, **kwargs):
            connection.execute_wrappers.append(self)

        connection_created.connect(attach, weak=False)
        try:
            with connection.execute_wrapper(self):
                yield
        finally:
            connection_created.disconnect(attach)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self.count += 1
                self.seconds += elapsed
                entry = self.by_statement.setdefault(sql, [0, 0.0])
                entry[0] += 1
                entry[1] += elapsed

    def slowest(self, n: int = 8) -> list[dict]:
        rows = sorted(self.by_statement.items(), key=lambda kv: -kv[1][1])[:n]
        return [{"seconds": round(t, 3), "calls": c, "sql": sql[:600]} for sql, (c, t) in rows]


class ThreadProfiles:
    """cProfile of the run's own thread and, merged, of the threads it starts while profiling
    (the readers of ``pgtools.snapshots``): ``threading.setprofile`` hooks every new thread,
    which then enables a profiler of its own at its first call."""

    def __init__(self) -> None:
        self.main = cProfile.Profile()
        self.others: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _start_in_thread(self, *_args: object) -> None:
        profiler = cProfile.Profile()
        with self._lock:
            self.others.append(profiler)
        profiler.enable()  # replaces this hook in the thread

    def __enter__(self) -> ThreadProfiles:
        threading.setprofile(self._start_in_thread)
        self.main.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        self.main.disable()
        threading.setprofile(None)  # the readers' threads have ended with the run

    def write(self, out_dir: Path, stem: str) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        parts = [("", [self.main])] + ([("-readers", self.others)] if self.others else [])
        for suffix, profilers in parts:
            buf = io.StringIO()
            pstats.Stats(*profilers, stream=buf).sort_stats("cumulative").print_stats(45)
            buf.write("\n\n--- by own time ---\n")
            pstats.Stats(*profilers, stream=buf).sort_stats("tottime").print_stats(30)
            (out_dir / f"{stem}{suffix}.txt").write_text(buf.getvalue())


def child(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.read_connections is not None:
        os.environ["EVALUATION_READ_CONNECTIONS"] = str(args.read_connections)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction

    from evaluation import services
    from evaluation.models import SchoolResult

    n = args.child
    result: dict = {
        "schools": n,
        "county_size": args.county_size,
        "read_connections": settings.EVALUATION_READ_CONNECTIONS,
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        shape = build(
            cursor,
            n=n,
            county_size=args.county_size,
            teachers=args.teachers,
            activities=args.activities,
            meetings=args.meetings,
        )
    with transaction.atomic(), connection.cursor() as cursor:
        build_evaluation(cursor, counties=shape["counties"])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        result["rows"] = row_counts(cursor)
    result.update(shape)
    result["build_seconds"] = round(time.perf_counter() - started, 2)
    log(f"{n} schools: data built in {result['build_seconds']} s: {result['rows']}")

    # Warm PostgreSQL's cache the same way for both sides: one untimed bare pass first.
    bare_pass(args.database_url)

    with connection.cursor() as cursor:
        untouched = empty_tables(cursor)
    rss_before = rss_mb()
    reset_peak_rss()
    for label in ("first", "second"):
        timings = []
        best = None
        # With --profile, one more run comes first, profiled and not timed (cProfile slows it).
        profiled_runs = 1 if args.profile else 0
        for attempt in range(profiled_runs + args.repeat):
            if label == "first" and attempt:
                forget_results(untouched)  # each first run starts from a database without results
            clock = QueryClock()
            profiler = ThreadProfiles() if args.profile and not attempt else None
            t0 = time.perf_counter()
            with clock.watch(), profiler or contextlib.nullcontext():
                run = services.evaluation_run(trigger="bench")
            seconds = time.perf_counter() - t0
            assert run.status == "succeeded" and run.schools_count == n, (run.status, run.schools_count, run.error)
            if profiler:
                profiler.write(OUT_DIR, f"profile-{n}-{label}")
                log(f"{n} schools: evaluation ({label} run, profiled, not counted) {seconds:.2f} s")
                continue
            timings.append(seconds)
            if best is None or seconds < best[0]:
                best = (seconds, clock)
            log(
                f"{n} schools: evaluation ({label} run {len(timings)}/{args.repeat}) {seconds:.2f} s,"
                f" {clock.count} queries, {clock.seconds:.2f} s in DB"
            )
        seconds, clock = best
        result[f"eval_{label}_seconds"] = round(seconds, 3)
        result[f"eval_{label}_seconds_all"] = [round(t, 3) for t in timings]
        result[f"eval_{label}_queries"] = clock.count
        result[f"eval_{label}_db_seconds"] = round(clock.seconds, 3)
        result[f"eval_{label}_slowest_statements"] = clock.slowest()
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["rss_before_eval_mb"] = round(rss_before, 1)
    assert SchoolResult.objects.count() == n

    timings = []
    for _ in range(args.repeat):
        seconds, rows = bare_pass(args.database_url)
        timings.append(seconds)
    result["bare_seconds"] = round(min(timings), 3)
    result["bare_seconds_all"] = [round(t, 3) for t in timings]
    result["bare_rows"] = rows
    log(f"{n} schools: bare pass {result['bare_seconds']} s (best of {args.repeat})")

    if args.tracemalloc:
        tracemalloc.start()
        services.evaluation_run(trigger="bench-tracemalloc")
        result["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
        log(f"{n} schools: tracemalloc peak {result['tracemalloc_peak_mb']} MB")
    print("RESULT " + json.dumps(result), flush=True)


# =========================================================================================
# The parent: template database, one child per size, the table.
# =========================================================================================


def admin_sql(server_url: str, *statements: str) -> None:
    import psycopg2

    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


def table(results: list[dict]) -> str:
    head = (
        f"{'schools':>8} {'counties':>8} {'eval 1st s':>10} {'eval 2nd s':>10} {'bare s':>8} {'ratio':>6} "
        f"{'peak RSS MB':>11} {'ms/school':>9} {'queries':>8} {'DB s':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r['schools']:>8} {r['counties']:>8} {r['eval_first_seconds']:>10.2f} {r['eval_second_seconds']:>10.2f} "
            f"{r['bare_seconds']:>8.2f} {r['ratio']:>6.2f} {r['peak_rss_mb']:>11.0f} {r['ms_per_school']:>9.3f} "
            f"{r['eval_second_queries']:>8} {r['eval_second_db_seconds']:>6.2f}"
        )
    return "\n".join(lines)


def verdict(results: list[dict]) -> list[str]:
    out = []
    worst = max(results, key=lambda r: r["ratio"])
    ok_ratio = worst["ratio"] <= GOAL_RATIO
    out.append(
        f"ratio goal (evaluation ≤ {GOAL_RATIO:g}× the bare pass): {'HOLDS' if ok_ratio else 'DOES NOT HOLD'}"
        f" (worst {worst['ratio']:.2f}× at {worst['schools']} schools)"
    )
    if len(results) > 1:
        costs = [r["ms_per_school"] for r in results]
        spread = max(costs) / min(costs)
        ok_linear = spread <= LINEAR_TOLERANCE
        out.append(
            f"linear goal (cost per school roughly constant, max/min ≤ {LINEAR_TOLERANCE:g}):"
            f" {'HOLDS' if ok_linear else 'DOES NOT HOLD'} ({' → '.join(f'{c:.3f}' for c in costs)} ms/school,"
            f" max/min {spread:.2f})"
        )
    return out


def parent(args: argparse.Namespace) -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("DATABASE_URL must point at PostgreSQL: run `make bench`.", file=sys.stderr)
        return 2
    server = with_db(url, "postgres")
    template = "bench_template"
    admin_sql(server, f"DROP DATABASE IF EXISTS {template}", f"CREATE DATABASE {template}")
    log("migrating the template database")
    env = {**os.environ, "DATABASE_URL": with_db(url, template), "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    env.setdefault("SECURE_SSL_REDIRECT", "false")
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=BASE_DIR, env=env, check=True)
    results = []
    for n in args.schools:
        name = f"bench_{n}"
        admin_sql(server, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name} TEMPLATE {template}")
        cmd = [
            sys.executable,
            __file__,
            "--child",
            str(n),
            "--database-url",
            with_db(url, name),
            "--county-size",
            str(args.county_size),
            "--teachers",
            str(args.teachers),
            "--activities",
            str(args.activities),
            "--meetings",
            str(args.meetings),
            "--repeat",
            str(args.repeat),
        ]
        cmd += ["--read-connections", str(args.read_connections)] if args.read_connections is not None else []
        cmd += ["--profile"] if args.profile else []
        cmd += ["--tracemalloc"] if args.tracemalloc else []
        log(f"{n} schools: building and measuring in {name}")
        proc = subprocess.run(cmd, cwd=BASE_DIR, capture_output=True, text=True, check=False)  # noqa: S603
        sys.stderr.write(proc.stderr)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            print(proc.stdout, file=sys.stderr)
            print(f"the {n}-school run failed ({proc.returncode})", file=sys.stderr)
            return 1
        r = json.loads(line[len("RESULT ") :])
        slowest = max(r["eval_first_seconds"], r["eval_second_seconds"])
        r["ratio"] = round(slowest / r["bare_seconds"], 2)
        r["ms_per_school"] = round(1000 * slowest / n, 4)
        results.append(r)
        if not args.keep:
            admin_sql(server, f"DROP DATABASE IF EXISTS {name}")
    admin_sql(server, f"DROP DATABASE IF EXISTS {template}")

    text = table(results)
    lines = verdict(results)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
    machine = f"{platform.node()} · {os.cpu_count()} CPUs · {platform.platform()} · Python {platform.python_version()}"
    report = "\n".join(
        [
            f"evaluation benchmark, {stamp}",
            machine,
            f"{args.county_size} schools per county, {args.teachers} teachers, {args.activities} activities and "
            f"{args.meetings} mentoring meetings per school; ratio and ms/school use the slower evaluation run",
            f"the evaluation reads on {results[0]['read_connections'] if results else '?'} extra connections "
            "(EVALUATION_READ_CONNECTIONS; 0 = its own only), the bare pass on one; DB s adds up every connection's",
            "",
            text,
            "",
            *lines,
        ]
    )
    print(report)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tag = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"evaluate-{tag}.txt").write_text(report + "\n")
    (OUT_DIR / f"evaluate-{tag}.json").write_text(
        json.dumps({"date": stamp, "machine": machine, "args": vars(args), "results": results}, indent=2) + "\n"
    )
    (OUT_DIR / "latest.txt").write_text(report + "\n")
    log(f"written to {OUT_DIR}/evaluate-{tag}.txt and .json")
    return 0


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, nargs="+", default=[2000, 20000], help="sizes (multiples of 4)")
    parser.add_argument("--county-size", type=int, default=200, help="schools per county (a multiple of 4)")
    parser.add_argument("--teachers", type=int, default=10, help="teachers per school (at least 3)")
    parser.add_argument("--activities", type=int, default=12, help="activities hosted per school in the year")
    parser.add_argument("--meetings", type=int, default=6, help="meetings per mentoring pair")
    parser.add_argument(
        "--repeat",
        type=positive,
        default=3,
        help="timed runs of each kind: bare passes, first and later evaluation runs (the best of each counts)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="one more run of each kind, profiled and not timed, into bench/out/ (the readers' threads apart)",
    )
    parser.add_argument("--tracemalloc", action="store_true", help="one more run under tracemalloc (its peak)")
    parser.add_argument("--keep", action="store_true", help="keep the bench_<n> databases")
    parser.add_argument(
        "--read-connections",
        type=int,
        help="EVALUATION_READ_CONNECTIONS for the evaluation (default: the setting's, 2; 0 = one connection)",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.teachers < 3:
        parser.error("--teachers must be at least 3")
    for n in [*args.schools, args.county_size]:
        if n % 4:
            parser.error(f"{n} is not a multiple of 4 (alliances of four schools)")
    if args.child:
        child(args)
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())

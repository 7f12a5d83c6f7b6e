"""The bare pass: the metrics and inputs the evaluation reads, as plain GROUP BY queries over
all schools at once, on a psycopg2 connection without Django, writing nothing: the yardstick
the evaluation is measured against."""

from __future__ import annotations

import time

import psycopg2

from bench.dataset import COUNTED, RUBRIC_ACTIVITY_KINDS, YEAR_END, YEAR_START
from funding.querysets import APPROVED_PLAN
from staffing.querysets import ROTATION_ELIGIBLE_YEARS, ROTATION_KINDS

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
        WHERE t.active AND t.years_of_service >= %(eligible)s GROUP BY 1""",
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
        FROM funding_planline pl JOIN funding_spendingplan p ON p.id = pl.plan_id AND p.status = %(approved)s
        LEFT JOIN (
            SELECT r.plan_line_id, sum(r.amount) AS spent FROM funding_spendingrecord r
            WHERE NOT EXISTS (SELECT 1 FROM funding_ledgerentry e JOIN funding_ledgerentry rev ON rev.reverses_id = e.id
                              WHERE e.spending_record_id = r.id)
            GROUP BY 1) sp ON sp.plan_line_id = pl.id
        GROUP BY 1""",
}


def bare_pass(database_url: str) -> tuple[float, dict[str, int]]:
    """Every query of the bare pass on a fresh psycopg2 connection; rows fetched into Python."""

    params = {
        "y0": YEAR_START,
        "y1": YEAR_END,
        "counted": list(COUNTED),
        "rotation": list(ROTATION_KINDS),
        "rubric_kinds": list(RUBRIC_ACTIVITY_KINDS),
        "eligible": ROTATION_ELIGIBLE_YEARS,
        "approved": APPROVED_PLAN,
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

"""Export benchmark: a million ledger lines through the reports' CSV and XLSX writers, against
PostgreSQL's own ``COPY (the same query) TO STDOUT`` in the same run.

``make bench`` runs it on the throwaway PostgreSQL of ``scripts/services.sh``. The parent
migrates a database of its own (``bench_export``), a child loads one county (``bench.dataset``,
200 schools) and ``--rows`` synthetic ledger lines (balanced two-line entries, loaded with
pgtools' COPY helpers, triggers off for the load), then one child per measurement — COPY once to
warm the cache, then COPY, CSV and XLSX — exports the county's ledger report
(``reports.catalogue.funding.ledger_lines``, as the county's bureau staff) to a file on disk. Each
child prints its seconds and its own peak resident memory (VmHWM: the interpreter and Django
included); the parent prints rows/s, each writer's ratio to COPY and the verdict against the
goals (CSV ≥ 0.5 × COPY, XLSX ≥ 0.2 × COPY, peak < 150 MB), and writes them to
``bench/out/export-<timestamp>.txt``. The ledger report is one query, so the writers measured
are ``reports.pgcopy``'s (PostgreSQL formats the rows); COPY reads the raw fields."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.evaluate import admin_sql, with_db  # noqa: E402
from bench.measure import OUT_DIR, log, peak_rss_mb  # noqa: E402

GOALS = {"csv": 0.5, "xlsx": 0.2}
PEAK_GOAL_MB = 150
SCHOOLS = 200
BUREAU_ID = 2


def _django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def load(rows: int) -> dict:
    """One county of ``SCHOOLS`` schools, its bureau user, and ``rows`` more ledger lines."""
    from django.db import connection, transaction

    from bench.dataset import build
    from funding.models import LedgerEntry, LedgerLine
    from pgtools.bulk import _copy_lines, _Lines

    with transaction.atomic(), connection.cursor() as cursor:
        build(cursor, n=SCHOOLS, county_size=SCHOOLS, teachers=4, activities=1, meetings=1)
        cursor.execute(
            "INSERT INTO alliance_user (id, password, is_superuser, username, first_name, last_name, email,"
            " is_staff, is_active, date_joined, county_id) VALUES (%s, '!', false, 'bench-bureau', '', '', '',"
            " true, true, now(), 1)",
            [BUREAU_ID],
        )
        cursor.execute(
            "INSERT INTO alliance_user_groups (user_id, group_id) SELECT %s, id FROM auth_group WHERE name = %s",
            [BUREAU_ID, "bureau_staff"],
        )
        cursor.execute("SELECT kind, alliance_id, school_id, id FROM funding_account WHERE funding_year_id = 1")
        accounts = {(kind, alliance or school): pk for kind, alliance, school, pk in cursor.fetchall()}
        cursor.execute("SELECT COALESCE(max(id), 0) FROM funding_ledgerentry")
        first_entry = cursor.fetchone()[0] + 1
        cursor.execute("SELECT COALESCE(max(id), 0) FROM funding_ledgerline")
        first_line = cursor.fetchone()[0] + 1
        # The load only: the audit trail's and the ledger's triggers stay off (the entries
        # balance by construction); the export reads the rows as they are.
        cursor.execute("SET LOCAL session_replication_role = replica")
        entries = rows // 2
        start = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)

        def entry_rows():
            for i in range(entries):
                school = i % SCHOOLS + 1
                yield {
                    "id": first_entry + i, "funding_year_id": 1, "kind": "spending" if i % 3 else "award",
                    "school_id": school, "spending_record_id": None, "reverses_id": None, "reason": "",
                    "memo": f"合成分录 {i}" if i % 7 else f"=HYPERLINK(\"x\") {i}", "created_by_id": BUREAU_ID,
                    "created_at": start + dt.timedelta(seconds=25 * i),
                }  # fmt: skip

        def line_rows():
            for i in range(entries):
                school = i % SCHOOLS + 1
                alliance = (school - 1) // 4 + 1
                amount = f"{(i * 7919) % 1_000_000 / 100 + 1:.2f}"
                source = ("alliance_fund", alliance) if i % 3 else ("pool", None)
                yield {"id": first_line + 2 * i, "entry_id": first_entry + i,
                       "account_id": accounts[source], "amount": "-" + amount}  # fmt: skip
                yield {"id": first_line + 2 * i + 1, "entry_id": first_entry + i,
                       "account_id": accounts[("school_spending", school)], "amount": amount}  # fmt: skip

        entry_fields = ["id", "funding_year_id", "kind", "school_id", "spending_record_id", "reverses_id", "reason",
                        "memo", "created_by_id", "created_at"]  # fmt: skip
        raw = cursor.cursor
        raw.copy_expert(
            f"COPY funding_ledgerentry ({', '.join(entry_fields)}) FROM STDIN",
            _Lines(_copy_lines(LedgerEntry, entry_fields, entry_rows())),
        )
        line_fields = ["id", "entry_id", "account_id", "amount"]
        raw.copy_expert(
            f"COPY funding_ledgerline ({', '.join(line_fields)}) FROM STDIN",
            _Lines(_copy_lines(LedgerLine, line_fields, line_rows())),
        )
        for table in ("funding_ledgerentry", "funding_ledgerline"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM funding_ledgerline")
        return {"ledger_lines": cursor.fetchone()[0]}


class Sink:
    """COPY's output written to a file, as the writers' is."""

    def __init__(self, out) -> None:
        self.out = out
        self.bytes = 0

    def write(self, data) -> int:
        data = data.encode() if isinstance(data, str) else data
        self.bytes += len(data)
        return self.out.write(data)


def measure(kind: str) -> dict:
    from django.db import connection

    from alliance.models import User
    from reports import formats, registry
    from reports.catalogue.funding import ledger_lines
    from reports.registry import Params
    from reports.scoping import checked

    user = User.objects.get(pk=BUREAU_ID)
    params = Params(county_id=1, school_year_id=1)
    report = registry.get("ledger")
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        if kind == "copy":
            sql, sql_params = ledger_lines(user, checked(user, "ledger", params)).query.sql_with_params()
            with connection.cursor() as cursor:
                query = cursor.mogrify(sql, sql_params).decode()
                sink = Sink(out)
                cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)", sink)
            rows = None
        elif kind == "csv":
            formats.write_csv(report, user, params, out)
            rows = None
        else:
            rows = formats.write_xlsx(report, user, params, out)
        seconds = time.perf_counter() - started
        size = out.tell()
    return {"kind": kind, "seconds": seconds, "rows": rows, "bytes": size, "peak_mb": peak_rss_mb()}


def child(args: argparse.Namespace) -> None:
    _django(args.database_url)
    result = load(args.rows) if args.child == "load" else measure(args.child)
    print("RESULT " + json.dumps(result), flush=True)


def _run_child(kind: str, url: str, rows: int) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--database-url", url, "--rows", str(rows)]
    proc = subprocess.run(cmd, cwd=BASE_DIR, capture_output=True, text=True, check=False)  # noqa: S603
    sys.stderr.write(proc.stderr)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        print(proc.stdout, file=sys.stderr)
        raise SystemExit(f"the {kind} step failed ({proc.returncode})")
    return json.loads(line[len("RESULT ") :])


def parent(args: argparse.Namespace) -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("DATABASE_URL must point at PostgreSQL: run `make bench`.", file=sys.stderr)
        return 2
    server, name = with_db(url, "postgres"), "bench_export"
    admin_sql(server, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    db = with_db(url, name)
    log("migrating bench_export")
    env = {**os.environ, "DATABASE_URL": db, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    env.setdefault("SECURE_SSL_REDIRECT", "false")
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=BASE_DIR, env=env, check=True)
    log(f"loading {args.rows:,} ledger lines")
    loaded = _run_child("load", db, args.rows)
    lines = loaded["ledger_lines"]
    log("warming the cache (COPY)")
    _run_child("copy", db, args.rows)
    results = {}
    for kind in ("copy", "csv", "xlsx"):
        log(f"exporting with {kind}")
        results[kind] = _run_child(kind, db, args.rows)
    if not args.keep:
        admin_sql(server, f"DROP DATABASE IF EXISTS {name}")
    copy_rate = lines / results["copy"]["seconds"]
    now = dt.datetime.now(dt.UTC)
    report = [
        f"export benchmark: {lines:,} ledger lines (one county's ledger report), {now:%Y-%m-%d %H:%M} UTC",
        f"{'writer':<8}{'seconds':>10}{'rows/s':>12}{'× COPY':>9}{'MB out':>9}{'peak MB':>9}  goal",
    ]
    ok = True
    for kind, r in results.items():
        rate = lines / r["seconds"]
        ratio = rate / copy_rate
        goal = GOALS.get(kind)
        met = (goal is None or ratio >= goal) and r["peak_mb"] < PEAK_GOAL_MB
        ok = ok and met
        verdict = "met" if met else "MISSED"
        goal_text = "(baseline)" if goal is None else f"≥ {goal} × COPY, < {PEAK_GOAL_MB} MB: {verdict}"
        figures = f"{r['seconds']:>10.2f}{rate:>12,.0f}{ratio:>9.2f}{r['bytes'] / 1e6:>9.1f}{r['peak_mb']:>9.1f}"
        report.append(f"{kind:<8}{figures}  {goal_text}")
    text = "\n".join(report)
    print(text)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / f"export-{now:%Y%m%dT%H%M%S}.txt").write_text(text + "\n", encoding="utf-8")
    return 0 if ok or not args.strict else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic ledger lines (default 1,000,000)")
    parser.add_argument("--keep", action="store_true", help="keep the bench_export database")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--child", choices=("load", "copy", "csv", "xlsx"), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())

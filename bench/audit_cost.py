"""What the audit trail costs a night: the evaluation benchmark with the trail on and off.

    scripts/services.sh .venv/bin/python bench/audit_cost.py --schools 2000

For each mode (off, then on) it migrates a template database, drops the capture triggers
when off (``audit.triggers.drop_capture_sql``; the bench otherwise never touches the trail),
copies it and runs ``bench/evaluate.py``'s child on the copy (the same build and timed runs as
``make bench``). With the trail on it then measures, in the same database:

* how many records the evaluation runs wrote (their runs' start and end, a rubric's lock;
  results are derived rows and not tracked);
* the cost per record of the capture trigger: one INSERT … SELECT and one UPDATE of
  ``--rows`` teachers with the trigger, and again without it, each in a rolled-back
  transaction;
* sealing: ``seal_audit`` over every record the data build wrote, then ``verify_audit``.

It prints a small table and writes it, with the raw figures, to bench/out/audit-cost-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "bench" / "out"
GOAL = 1.10  # the issue: the nightly ratio with the trail on stays within 10 % of it off


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin_sql(url: str, *statements: str, fetch: bool = False):
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
            return cur.fetchall() if fetch else None
    finally:
        conn.close()


def django_env(url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    env.setdefault("SECURE_SSL_REDIRECT", "false")
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


def drop_capture(url: str) -> int:
    os.environ.update(django_env(url))
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from audit.triggers import drop_capture_sql

    statements = drop_capture_sql()
    admin_sql(url, *statements)
    return len(statements)


def trigger_cost(url: str, rows: int) -> dict:
    """Seconds for ``rows`` inserted and updated teachers, with and without the trigger."""
    import psycopg2

    school = admin_sql(url, "SELECT min(id) FROM alliance_school", fetch=True)[0][0]
    insert = (
        "INSERT INTO staffing_teacher (school_id, name, gender, subject, title, years_of_service,"
        " is_key_teacher, active) SELECT %s, 'bench ' || g, '', 'math', '', g %% 30, false, true"
        " FROM generate_series(1, %s) g"
    )
    update = "UPDATE staffing_teacher SET years_of_service = years_of_service + 1 WHERE name LIKE 'bench %%'"
    out = {}
    for mode in ("on", "off", "on", "off"):
        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                if mode == "off":
                    for name in ("audit_capture_insert", "audit_capture_update"):
                        cur.execute(f"ALTER TABLE staffing_teacher DISABLE TRIGGER {name}")
                t0 = time.perf_counter()
                cur.execute(insert, [school, rows])
                t1 = time.perf_counter()
                cur.execute(update)
                t2 = time.perf_counter()
            conn.rollback()
        finally:
            conn.close()
        best = out.setdefault(mode, {"insert": 1e9, "update": 1e9})
        best["insert"] = min(best["insert"], t1 - t0)
        best["update"] = min(best["update"], t2 - t1)
    per = {k: round(1e6 * (out["on"][k] - out["off"][k]) / rows, 2) for k in ("insert", "update")}  # µs per record
    return {"rows": rows, "seconds": out, "us_per_record": per}


def manage(url: str, *args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=django_env(url), capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed: {proc.stderr}")
    return seconds, proc.stdout.strip()


def run_mode(server: str, url: str, mode: str, args: argparse.Namespace, *, extras: bool) -> dict:
    template, name = f"audit_bench_template_{mode}", f"audit_bench_{mode}_{args.schools}"
    admin_sql(server, f"DROP DATABASE IF EXISTS {name}", f"DROP DATABASE IF EXISTS {template}")
    admin_sql(server, f"CREATE DATABASE {template}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=BASE_DIR,
        env=django_env(with_db(url, template)),
        check=True,
    )
    dropped = 0
    if mode == "off":
        proc = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--drop-capture", with_db(url, template)],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        )
        dropped = int(proc.stdout.strip() or 0)
    admin_sql(server, f"CREATE DATABASE {name} TEMPLATE {template}")
    db = with_db(url, name)
    cmd = [
        sys.executable,
        str(BASE_DIR / "bench" / "evaluate.py"),
        "--child",
        str(args.schools),
        "--database-url",
        db,
        "--repeat",
        str(args.repeat),
    ]
    print(f"[audit-cost] trail {mode}: building and measuring {args.schools} schools", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, cwd=BASE_DIR, capture_output=True, text=True, check=False)  # noqa: S603
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode or line is None:
        sys.stderr.write(proc.stderr[-5000:])
        raise SystemExit(f"the bench child failed ({proc.returncode})")
    r = json.loads(line[len("RESULT ") :])
    slowest = max(r["eval_first_seconds"], r["eval_second_seconds"])
    result = {
        "mode": mode,
        "dropped_statements": dropped,
        "build_seconds": r["build_seconds"],
        "eval_first_seconds": r["eval_first_seconds"],
        "eval_second_seconds": r["eval_second_seconds"],
        "eval_first_seconds_all": r["eval_first_seconds_all"],
        "eval_second_seconds_all": r["eval_second_seconds_all"],
        "bare_seconds": r["bare_seconds"],
        "ratio": round(slowest / r["bare_seconds"], 3),
    }
    records = admin_sql(
        db,
        "SELECT count(*) FROM audit_auditrecord",
        fetch=True,
    )[0][0]
    result["records_total"] = records
    if mode == "on" and extras:
        result["records_by_evaluation"] = admin_sql(
            db,
            "SELECT count(*) FROM audit_auditrecord WHERE at >= (SELECT min(started_at) FROM evaluation_evaluationrun)",
            fetch=True,
        )[0][0]
        result["evaluation_runs_counted"] = admin_sql(db, "SELECT count(*) FROM evaluation_evaluationrun", fetch=True)[
            0
        ][0]
        result["trigger_cost"] = trigger_cost(db, args.rows)
        seal_s, seal_out = manage(db, "seal_audit")
        verify_s, verify_out = manage(db, "verify_audit")
        result["seal"] = {"seconds": round(seal_s, 2), "records": records, "output": seal_out}
        result["verify"] = {"seconds": round(verify_s, 2), "output": verify_out.splitlines()[0]}
    if not args.keep:
        admin_sql(server, f"DROP DATABASE IF EXISTS {name}")
    admin_sql(server, f"DROP DATABASE IF EXISTS {template}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=2000, help="size (a multiple of 4)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each kind (the best counts)")
    parser.add_argument("--rows", type=int, default=20000, help="rows of the trigger's cost per record")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of off and on, alternating (best counts)")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--drop-capture", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drop_capture:
        print(drop_capture(args.drop_capture))
        return 0
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("DATABASE_URL must point at PostgreSQL: run it under scripts/services.sh.", file=sys.stderr)
        return 2
    server = with_db(url, "postgres")
    rounds = []
    for n in range(args.rounds):
        # Alternating, so a slow spell of the shared machine does not fall on one side only.
        for mode in ("off", "on") if n % 2 == 0 else ("on", "off"):
            rounds.append(run_mode(server, url, mode, args, extras=(mode == "on" and "seal" not in str(rounds))))
    results = {"rounds": rounds}
    best = {}
    for mode in ("off", "on"):
        mine = [r for r in rounds if r["mode"] == mode]
        best[mode] = {
            "eval_first_seconds": min(r["eval_first_seconds"] for r in mine),
            "eval_second_seconds": min(r["eval_second_seconds"] for r in mine),
            "bare_seconds": min(r["bare_seconds"] for r in mine),
            "build_seconds": min(r["build_seconds"] for r in mine),
            "records_total": max(r["records_total"] for r in mine),
        }
        b = best[mode]
        b["ratio"] = round(max(b["eval_first_seconds"], b["eval_second_seconds"]) / b["bare_seconds"], 3)
    results["best"] = best
    on = next(r for r in rounds if "seal" in r)
    lines = [
        f"audit trail cost, {args.schools} schools, {args.rounds} round(s) of each, best of {args.repeat} per round",
        f"{'trail':>6} {'build s':>8} {'eval 1st s':>10} {'eval 2nd s':>10} {'bare s':>7} {'ratio':>6} {'records':>8}",
    ]
    for r in [*rounds, {"mode": "best off", **best["off"]}, {"mode": "best on", **best["on"]}]:
        lines.append(
            f"{r['mode']:>8} {r['build_seconds']:>6.2f} {r['eval_first_seconds']:>10.3f} "
            f"{r['eval_second_seconds']:>10.3f} {r['bare_seconds']:>7.3f} {r['ratio']:>6.3f} {r['records_total']:>8}"
        )
    change = best["on"]["ratio"] / best["off"]["ratio"]
    slowest = {m: max(best[m]["eval_first_seconds"], best[m]["eval_second_seconds"]) for m in best}
    lines += [
        f"ratio on / off (best of each): {change:.3f} ({'within' if change <= GOAL else 'NOT within'} 10 %);"
        f" slower evaluation run on / off: {slowest['on'] / slowest['off']:.3f}",
        f"records written by the evaluation runs: {on['records_by_evaluation']} ({on['evaluation_runs_counted']} runs)",
        f"capture trigger, per record: insert {on['trigger_cost']['us_per_record']['insert']} µs, "
        f"update {on['trigger_cost']['us_per_record']['update']} µs ({args.rows} rows)",
        f"seal_audit over {on['seal']['records']} records: {on['seal']['seconds']} s; "
        f"verify_audit: {on['verify']['seconds']} s",
    ]
    report = "\n".join(lines)
    print(report)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tag = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"audit-cost-{tag}.json").write_text(json.dumps(results, indent=2) + "\n")
    (OUT_DIR / f"audit-cost-{tag}.txt").write_text(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

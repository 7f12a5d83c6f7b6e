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

This module is the command line and the parent process (a template database, a child per
size, the table and the verdict); ``dataset``, ``bare`` and ``measure`` hold the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

BASE_DIR = Path(__file__).resolve().parent.parent
# Run as a script (bench/evaluate.py): the project's packages, bench's modules among them.
sys.path.insert(0, str(BASE_DIR))

from bench.measure import OUT_DIR, child, log  # noqa: E402

GOAL_RATIO = 3.0
# Cost per school may vary this much between the smallest and the largest size and still count
# as "roughly constant" (linear growth): caches, plan choices and fixed costs move it a little.
LINEAR_TOLERANCE = 1.5


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def admin_sql(server_url: str, *statements: str) -> None:
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

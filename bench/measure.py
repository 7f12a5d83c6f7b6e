"""Measuring one size in one database (the child process, so that peak memory is that
size's): build the data set, warm the cache with a bare pass, time the first and later
evaluation runs (queries and database time counted on every connection, optionally
profiled) and the bare pass, and print the figures as one ``RESULT`` line of JSON."""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import resource
import sys
import threading
import time
import tracemalloc
from pathlib import Path

from bench.bare import bare_pass
from bench.dataset import build, build_evaluation, empty_tables, forget_results, row_counts

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "bench" / "out"


def log(msg: str) -> None:
    print(f"[bench {dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


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
    # The project's modules are imported once Django is set up, here in the child.
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

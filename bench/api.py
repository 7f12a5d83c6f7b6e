"""The API benchmark: every list endpoint of the portal against a bare Django view that returns
the same rows, on gunicorn and PostgreSQL, under concurrent clients.

    make bench                                # runs bench/evaluate.py, then this
    scripts/services.sh .venv/bin/python bench/api.py --clients 50 --seconds 4

``make bench`` starts a throwaway PostgreSQL (scripts/services.sh) and exports DATABASE_URL.
This script migrates it, loads the demo county, gives the demo bureau user a token and starts
gunicorn (``--workers``, gthread with ``--threads``). For each list endpoint it then alternates
the portal's ``/api/v1/<name>/`` and the bare view ``/bench/bare/<name>/`` (the same token lookup,
the same county filter, the first page of the same rows as plain values, JSON) for
``--seconds`` each, ``--rounds`` times, at ``--clients`` concurrent clients (threads, one
connection per request), and prints requests/s and p99 latency per endpoint with the ratios
portal/bare. ``--profile NAME`` profiles one endpoint in-process instead (cProfile, top 30).

The goals (issue 13): every list endpoint at least half the bare view's requests/s, and a p99
below three times the bare view's.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api_settings"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from rest_framework.authentication import TokenAuthentication  # noqa: E402
from rest_framework.exceptions import AuthenticationFailed  # noqa: E402
from rest_framework.request import Request  # noqa: E402

from bench.http_load import free_port, load, start_gunicorn  # noqa: E402
from config import urls as portal_urls  # noqa: E402

ENDPOINTS = {prefix: viewset for prefix, viewset, _ in portal_urls.router.registry}


def bare(request: HttpRequest, name: str) -> JsonResponse:
    """The same first page of rows as the portal's list, as plain values: token, county filter,
    one query for the rows."""
    try:
        found = TokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        found = None
    if not found:
        return JsonResponse({"detail": "no"}, status=401)
    user = found[0]
    model = ENDPOINTS[name].queryset.model
    names = [f.attname for f in model._meta.concrete_fields]
    rows = model._default_manager.filter(**{model.scope.county: user.county_id}).order_by("pk").values(*names)
    page = list(rows[: settings.REST_FRAMEWORK["PAGE_SIZE"]])
    return JsonResponse({"results": page}, json_dumps_params={"default": str})


urlpatterns = [path("bench/bare/<path:name>/", bare), path("", include(portal_urls))]


def prepare() -> str:
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from alliance.models import User

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    user = User.objects.get(username="demo-bureau")
    return Token.objects.get_or_create(user=user)[0].key


def profile(name: str, token: str, requests: int) -> None:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/v1/{name}/").status_code == 200
    print(f"{name}: {len(queries)} queries per request")  # the first lines of the profile
    for query in queries.captured_queries:
        print("  ", query["sql"][:160])
    client.get(f"/api/v1/{name}/")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(f"/api/v1/{name}/")
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=3.0, help="per endpoint, per side, per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--only", nargs="*", help="endpoint names (default: every list endpoint)")
    parser.add_argument("--profile", metavar="NAME", help="profile one endpoint in-process instead")
    args = parser.parse_args()

    token = prepare()
    if args.profile:
        profile(args.profile, token, 200)
        return
    names = args.only or list(ENDPOINTS)
    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads, "bench.api_settings")
    auth = {"Authorization": f"Token {token}"}
    rows = []
    try:
        for name in names:
            portal_url, bare_url = f"/api/v1/{name}/", f"/bench/bare/{name}/"
            # Warm both up on every server thread's database connection: the portal's list
            # statements are prepared once per connection and planned generically from their
            # sixth run (alliance.listing), which is their steady state.
            warm = args.workers * args.threads
            load(port, portal_url, auth, warm, 1.0)
            load(port, bare_url, auth, warm, 1.0)
            runs: dict[str, list[dict]] = {"portal": [], "bare": []}
            for _ in range(args.rounds):
                runs["portal"].append(load(port, portal_url, auth, args.clients, args.seconds))
                runs["bare"].append(load(port, bare_url, auth, args.clients, args.seconds))
            p = {k: statistics.median(r[k] for r in runs["portal"]) for k in ("rps", "p99")}
            b = {k: statistics.median(r[k] for r in runs["bare"]) for k in ("rps", "p99")}
            errors = sum(r["errors"] for rs in runs.values() for r in rs)
            rows.append((name, p, b, errors))
            ok = p["rps"] >= b["rps"] / 2 and p["p99"] < 3 * b["p99"]
            print(
                f"{name:<28} portal {p['rps']:7.1f} req/s p99 {p['p99'] * 1000:7.1f} ms | "
                f"bare {b['rps']:7.1f} req/s p99 {b['p99'] * 1000:7.1f} ms | "
                f"rps ratio {p['rps'] / b['rps']:.2f} p99 ratio {p['p99'] / b['p99']:.2f}"
                f"{'' if ok else '  <- below goal'}{f'  errors {errors}' if errors else ''}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    worst = min(p["rps"] / b["rps"] for _, p, b, _ in rows)
    worst_p99 = max(p["p99"] / b["p99"] for _, p, b, _ in rows)
    print(f"worst: rps ratio {worst:.2f} (goal ≥ 0.50), p99 ratio {worst_p99:.2f} (goal < 3.00)")


if __name__ == "__main__":
    main()

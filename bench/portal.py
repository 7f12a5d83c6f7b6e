"""The portal benchmark: the principal's home, the assessor's grid and the bureau's overview
against a bare Django view reading the same rows, on gunicorn and PostgreSQL, under concurrent
clients, in the same run.

    make bench                                # runs bench/evaluate.py, bench/api.py, then this
    scripts/services.sh .venv/bin/python bench/portal.py --clients 20 --seconds 4

``make bench`` starts a throwaway PostgreSQL (scripts/services.sh) and exports DATABASE_URL.
This script migrates it, loads the demo county, signs the demo principal, assessor and bureau
user in (a session each) and starts gunicorn (``--workers``, gthread with ``--threads``). For
each page it alternates the portal's page and its bare view (``/bench/bare/<page>/``: the same
session and user lookup, the same rows read with ``.values()`` in one query per kind of row,
no checkpoint, no template: JSON) for ``--seconds`` each, ``--rounds`` times, at ``--clients``
concurrent clients (threads, one connection per request), and prints requests/s and p95
latency per page with the ratio portal/bare.

The goal (issue 14): every page at least half the bare view's requests/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.portal_settings"

import django  # noqa: E402

django.setup()

from django.contrib.auth.decorators import login_required  # noqa: E402
from django.db.models import Count, Q, Sum  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.http_load import free_port, get, load, start_gunicorn  # noqa: E402
from config import urls as portal_urls  # noqa: E402

# --- the bare views: the same rows, read plainly ---------------------------------------------


def _rows(qs: Any, *names: str) -> list[dict]:
    return list(qs.values(*names))


def bare_home(request: HttpRequest) -> JsonResponse:
    """The principal's home's rows: alliances and members, pairings, open tasks, exchanges out
    and in, mentoring pairs, recent activities, plan lines with their spending, the result."""
    from alliance.models import Membership, Pairing, PairingTask
    from evaluation.models import SchoolResult
    from funding.models import PlanLine
    from staffing.models import Activity, Exchange, MentorPair

    school = request.user.school_id  # type: ignore[union-attr]
    either = Q(helper_school=school) | Q(helped_school=school)
    data = {
        "members": _rows(
            Membership.objects.filter(alliance__memberships__school=school), "alliance__name", "school__name", "role"
        ),
        "pairings": _rows(Pairing.objects.filter(either), "helper_school__name", "helped_school__name", "start_date"),
        "tasks": _rows(
            PairingTask.objects.filter(
                Q(pairing__helper_school=school) | Q(pairing__helped_school=school),
                status__in=("planned", "in_progress"),
            ).order_by("due_date")[:20],
            "title",
            "due_date",
            "status",
        ),
        "out": _rows(
            Exchange.objects.filter(origin_school=school).order_by("-start_date")[:50],
            "teacher__name",
            "kind",
            "start_date",
            "end_date",
            "status",
        ),
        "in": _rows(
            Exchange.objects.filter(host_schools=school).order_by("-start_date")[:50],
            "teacher__name",
            "origin_school__name",
            "start_date",
            "status",
        ),
        "mentors": _rows(
            MentorPair.objects.filter(Q(mentor__school=school) | Q(mentee__school=school)),
            "mentor__name",
            "mentee__name",
        ),
        "activities": _rows(
            Activity.objects.filter(host_school=school).order_by("-date")[:10], "title", "kind", "date"
        ),
        "money": _rows(
            PlanLine.objects.filter(school=school, plan__status="approved").annotate(
                spent=Sum("spending_records__amount")
            ),
            "category",
            "amount",
            "spent",
        ),
        "result": _rows(SchoolResult.objects.filter(school=school).order_by("-period__end_date")[:1], "final_score"),
    }
    return JsonResponse(data, json_dumps_params={"default": str})


def bare_grid(request: HttpRequest, period: int) -> JsonResponse:
    """The assessor's grid's rows: the assigned schools, the entered indicators, the values."""
    from evaluation.models import EvaluationPeriod, Indicator, IndicatorValue, Rubric

    user = request.user
    schools = list(user.assessed_schools.order_by("code").values("pk", "code", "name"))  # type: ignore[union-attr]
    school_year = EvaluationPeriod.objects.values_list("school_year_id", flat=True).get(pk=period)
    rubric = Rubric.objects.filter(school_year=school_year).order_by("-version").values_list("pk", flat=True).first()
    indicators = _rows(
        Indicator.objects.filter(dimension__rubric=rubric, metric_key="").order_by("dimension__order", "order"),
        "pk",
        "code",
        "name",
        "value_min",
        "value_max",
    )
    values = _rows(
        IndicatorValue.objects.filter(period=period, school__in=[s["pk"] for s in schools]),
        "school_id",
        "indicator_id",
        "value",
    )
    return JsonResponse(
        {"schools": schools, "indicators": indicators, "values": values}, json_dumps_params={"default": str}
    )


def bare_overview(request: HttpRequest) -> JsonResponse:
    """The overview's figures: the to-do counts, the latest results by alliance, plan execution
    and exchange days by alliance."""
    from evaluation.models import AllianceResult, Appeal, EvaluationPeriod
    from funding.models import PlanLine, SpendingPlan
    from staffing.models import Exchange

    county = request.user.county_id  # type: ignore[union-attr]
    data = {
        "exchanges": Exchange.objects.filter(origin_school__county=county, status="planned").count(),
        "plans": SpendingPlan.objects.filter(alliance__school_year__county=county, status="submitted").count(),
        "appeals": Appeal.objects.filter(period__county=county, status="open").count(),
        "periods": EvaluationPeriod.objects.filter(
            county=county, notice_ends_at__lt=timezone.now(), status="proposed"
        ).count(),
        "alliances": _rows(
            AllianceResult.objects.filter(period__county=county).order_by("-period__end_date", "-score")[:60],
            "alliance__name",
            "score",
            "grade",
        ),
        "plans_by_alliance": _rows(
            PlanLine.objects.filter(plan__alliance__school_year__county=county, plan__status="approved")
            .values("plan__alliance__name")
            .annotate(planned=Sum("amount"), spent=Sum("spending_records__amount")),
            "plan__alliance__name",
            "planned",
            "spent",
        ),
        "exchanges_by_alliance": _rows(
            Exchange.objects.filter(origin_school__county=county)
            .values("origin_school__memberships__alliance__name")
            .annotate(n=Count("pk")),
            "origin_school__memberships__alliance__name",
            "n",
        ),
    }
    return JsonResponse(data, json_dumps_params={"default": str})


urlpatterns = [
    path("bench/bare/home/", login_required(bare_home)),
    path("bench/bare/grid/<int:period>/", login_required(bare_grid)),
    path("bench/bare/overview/", login_required(bare_overview)),
    path("", include(portal_urls)),
]


# --- the run ---------------------------------------------------------------------------------


def session_for(username: str) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from alliance.models import User

    user = User.objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # the backend that signed the user in (axes' first one only counts the attempts)
    session[BACKEND_SESSION_KEY] = next(b for b in settings.AUTHENTICATION_BACKENDS if not b.startswith("axes."))
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def prepare() -> dict[str, tuple[str, str, str]]:
    """Page name → (portal URL, bare URL, session cookie)."""
    from django.core.management import call_command

    from evaluation.models import EvaluationPeriod

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("collectstatic", interactive=False, verbosity=0, stdout=quiet)
        call_command("load_demo", stdout=quiet)
    # the grid is for an open period: the demo's latest school-year period, opened for the bench
    period = EvaluationPeriod.objects.filter(county__users__username="demo-assessor").order_by("-end_date").first()
    assert period is not None, "the demo has no evaluation period"
    EvaluationPeriod.objects.filter(pk=period.pk).update(status=EvaluationPeriod.Status.OPEN)
    return {
        "principal home": ("/", "/bench/bare/home/", session_for("demo-member")),
        "assessor grid": (f"/assess/{period.pk}/", f"/bench/bare/grid/{period.pk}/", session_for("demo-assessor")),
        "bureau overview": ("/", "/bench/bare/overview/", session_for("demo-bureau")),
    }


def as_user(cookie: str) -> dict[str, str]:
    """The headers of a signed-in user's request, in the portal's first language."""
    return {"Cookie": cookie, "Accept-Language": "zh-hans"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=4.0, help="per page, per side, per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    pages = prepare()
    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads, "bench.portal_settings")
    rows = []
    try:
        for name, (portal_url, bare_url, cookie) in pages.items():
            for url in (portal_url, bare_url):  # warm up, and check both answer
                status, _took = get(port, url, as_user(cookie))
                if status != 200:
                    raise SystemExit(f"{name}: {url} answered {status}")
                load(port, url, as_user(cookie), 4, 0.5)
            runs: dict[str, list[dict]] = {"portal": [], "bare": []}
            for _ in range(args.rounds):
                runs["portal"].append(load(port, portal_url, as_user(cookie), args.clients, args.seconds))
                runs["bare"].append(load(port, bare_url, as_user(cookie), args.clients, args.seconds))
            p = {k: statistics.median(r[k] for r in runs["portal"]) for k in ("rps", "p95")}
            b = {k: statistics.median(r[k] for r in runs["bare"]) for k in ("rps", "p95")}
            errors = sum(r["errors"] for rs in runs.values() for r in rs)
            rows.append((name, p, b))
            ok = p["rps"] >= b["rps"] / 2
            print(
                f"{name:<16} portal {p['rps']:7.1f} req/s p95 {p['p95'] * 1000:7.1f} ms | "
                f"bare {b['rps']:7.1f} req/s p95 {b['p95'] * 1000:7.1f} ms | "
                f"rps ratio {p['rps'] / b['rps']:.2f}{'' if ok else '  <- below goal'}"
                f"{f'  errors {errors}' if errors else ''}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    worst = min(p["rps"] / b["rps"] for _, p, b in rows)
    print(f"worst: rps ratio {worst:.2f} (goal ≥ 0.50)")


if __name__ == "__main__":
    main()

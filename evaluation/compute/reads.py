"""What a batch of periods is scored from, read set-based (``read_batch``): the rubrics, the
alliances, the entered values, the earlier results, the funding years and the award
policies of the whole batch are each one query, and each metric is one computation per
``Window``: the periods of the batch that share their dates, whatever their county. These
reads are independent of each other: given a snapshot (``pgtools.snapshots``), they run on
several connections at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from alliance.models import Membership
from funding.metrics import pool_allocations
from funding.models import FundingQuota, FundingYear
from funding.rounding import FEN
from pgtools.querysets import tuples
from pgtools.snapshots import Snapshot

from ..metrics import REGISTRY, Window
from ..models import AwardPolicy, EvaluationPeriod, IndicatorValue, Rubric, SchoolResult
from .rubric_content import check_points_total, current_rubrics, rubric_indicators


@dataclass
class Alliances:
    """A county's alliances of a school year: school → its alliance, lead school → its members,
    alliance → its schools, alliance → its lead school."""

    school_alliance: dict[int, int] = field(default_factory=dict)
    members: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    alliance_schools: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    leads: dict[int, int] = field(default_factory=dict)


@dataclass
class Funding:
    funding_year_id: int
    quotas: dict[int, Decimal]
    shares: dict[int, Decimal]
    pool: Decimal


@dataclass
class BatchInputs:
    alliances: dict[tuple[int, int], Alliances]  # (county, school year) →
    entered: dict[int, dict[str, dict[int, Decimal]]]  # period → indicator code → school → value
    earlier: dict[int, list[int]]  # period → the last n earlier periods of its kind, oldest first
    stored: dict[int, dict[int, Decimal]]  # earlier period → {school: final score, -school: own total}
    funding: dict[int, Funding]  # school year →
    policies: dict[int, AwardPolicy]  # school year →


def _read_alliances(periods: list[EvaluationPeriod]) -> dict[tuple[int, int], Alliances]:
    rows = tuples(
        Membership.objects.filter(
            alliance__school_year_id__in={p.school_year_id for p in periods},
            school__county_id__in={p.county_id for p in periods},
            school__active=True,
        )
        .values_list("school__county_id", "alliance__school_year_id", "alliance_id", "school_id", "role")
        .order_by("alliance_id", "school_id")
    )
    out: dict[tuple[int, int], Alliances] = defaultdict(Alliances)
    for county_id, school_year_id, alliance_id, school_id, role in rows:
        a = out[(county_id, school_year_id)]
        a.alliance_schools[alliance_id].append(school_id)
        if role == "lead":
            a.leads[alliance_id] = school_id
            a.school_alliance[school_id] = alliance_id  # a lead school is shown with the alliance it leads
        else:
            a.school_alliance.setdefault(school_id, alliance_id)
    for a in out.values():
        for alliance_id, lead in a.leads.items():
            a.members[lead] |= {s for s in a.alliance_schools[alliance_id] if s != lead}
    return out


def _read_entered(periods: list[EvaluationPeriod]) -> dict[int, dict[str, dict[int, Decimal]]]:
    """Period → indicator code → school → value; the newest rubric version's value wins."""
    rows = tuples(
        IndicatorValue.objects.filter(period_id__in=[p.pk for p in periods])
        .values_list("period_id", "school_id", "indicator__code", "value")
        .order_by("indicator__dimension__rubric__version", "pk")
    )
    out: dict[int, dict[str, dict[int, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for period_id, school, code, value in rows:
        out[period_id][code][school] = value
    return out


def _read_history(
    periods: list[EvaluationPeriod], rubrics: Mapping[int, Rubric]
) -> tuple[dict[int, list[int]], dict[int, dict[int, Decimal]]]:
    """Each period's last n earlier periods of its county and kind (oldest first), and the
    stored final scores and own totals of those periods."""
    by_county: dict[tuple[int, str], list[tuple[Any, int]]] = defaultdict(list)
    for pk, county_id, kind, start in EvaluationPeriod.objects.filter(
        county_id__in={p.county_id for p in periods}
    ).values_list("pk", "county_id", "kind", "start_date"):
        by_county[(county_id, kind)].append((start, pk))
    earlier: dict[int, list[int]] = {}
    for p in periods:
        n = rubrics[p.pk].decline_periods
        before = sorted((start, pk) for start, pk in by_county[(p.county_id, p.kind)] if start < p.start_date)
        earlier[p.pk] = [pk for _start, pk in before[-n:]] if n else []
    wanted = {pk for ids in earlier.values() for pk in ids}
    stored: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for period_id, school_id, own, final in tuples(
        SchoolResult.objects.filter(period_id__in=wanted).values_list(
            "period_id", "school_id", "own_total", "final_score"
        )
    ):
        stored[period_id][school_id] = final
        stored[period_id][-school_id] = own  # own totals under negative keys, for the improvement basis
    return earlier, stored


def _read_funding(periods: list[EvaluationPeriod]) -> tuple[dict[int, Funding], dict[int, AwardPolicy]]:
    school_years = {p.school_year_id for p in periods}
    years = dict(FundingYear.objects.filter(school_year_id__in=school_years).values_list("pk", "school_year_id"))
    year_ids = list(years)
    quotas: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for fy, school, quota in tuples(
        FundingQuota.objects.filter(funding_year_id__in=year_ids).values_list("funding_year_id", "school_id", "quota")
    ):
        quotas[fy][school] = quota
    # The allocations to the pool accounts of the batch's funding years.
    pools, shares = pool_allocations(year_ids)
    funding = {
        school_year: Funding(fy, quotas[fy], shares[fy], pools[fy].quantize(FEN)) for fy, school_year in years.items()
    }
    policies: dict[int, AwardPolicy] = {}
    for policy in AwardPolicy.objects.filter(school_year_id__in=school_years).order_by("pk"):
        policies.setdefault(policy.school_year_id, policy)
    return funding, policies


def _metric_windows(
    periods: list[EvaluationPeriod], rubrics: Mapping[int, Rubric], alliances: Mapping[tuple[int, int], Alliances]
) -> list[tuple[Window, list[EvaluationPeriod]]]:
    """The windows a batch's metrics are computed on: the periods that share their first and
    last day (one county at most once per window), over the schools those periods score, with
    the metrics their rubrics use (``Window.keys``)."""
    windows: list[tuple[Window, list[EvaluationPeriod]]] = []
    open_windows: dict[tuple[Any, Any], list[tuple[Window, list[EvaluationPeriod], set[int]]]] = defaultdict(list)
    for p in periods:
        schools = alliances.get((p.county_id, p.school_year_id), Alliances()).school_alliance
        slot = next((w for w in open_windows[(p.start_date, p.end_date)] if p.county_id not in w[2]), None)
        if slot is None:
            slot = (Window([], p.start_date, p.end_date, []), [], set())
            open_windows[(p.start_date, p.end_date)].append(slot)
            windows.append((slot[0], slot[1]))
        window, members, counties = slot
        window.school_ids.extend(schools)
        if p.school_year_id not in window.school_year_ids:
            window.school_year_ids.append(p.school_year_id)
        members.append(p)
        counties.add(p.county_id)
    for window, members in windows:
        window.school_ids.sort()
        window.keys = frozenset(
            i.metric_key for p in members for _d, i in rubric_indicators(rubrics[p.pk]) if i.metric_key
        )
    return windows


def _metric_reads(window: Window) -> dict[str, Callable[[], dict[str, dict[int, Decimal]]]]:
    """One read per group of the window's metrics that share their queries (``Metric.shares``):
    group → a function giving metric key → school → value."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key in sorted(window.keys):
        groups[REGISTRY[key].shares or key].append(key)

    def read(keys: list[str]) -> Callable[[], dict[str, dict[int, Decimal]]]:
        return lambda: {key: REGISTRY[key](window) for key in keys}

    return {group: read(keys) for group, keys in groups.items()}


@dataclass
class BatchReads:
    """Everything a batch of periods is scored from (``read_batch``), read in one snapshot."""

    periods: list[EvaluationPeriod]  # by county, start date and id
    rubrics: dict[int, Rubric]  # period id →
    inputs: BatchInputs
    metric_values: dict[int, dict[str, dict[int, Decimal]]]  # period id → metric key → school → value


def read_batch(
    periods: Iterable[EvaluationPeriod], rubrics: Mapping[int, Rubric] | None = None, snapshot: Snapshot | None = None
) -> BatchReads:
    """Read what ``score_batch`` needs for some periods. ``rubrics`` maps period id → rubric
    (default: the current ones; a period without one is refused). The reads are independent
    queries; ``snapshot`` (``pgtools.snapshots``) runs them on several connections in one
    snapshot; without it they run one after another on this thread's connection."""
    periods = sorted(periods, key=lambda p: (p.county_id, p.start_date, p.pk))
    rubrics = dict(rubrics) if rubrics is not None else current_rubrics(periods)
    for p in periods:
        if p.pk not in rubrics:
            raise ValidationError(_("%(period)s has no rubric.") % {"period": p})
        check_points_total(rubrics[p.pk])
    if not periods:
        return BatchReads([], rubrics, BatchInputs({}, {}, {}, {}, {}, {}), {})
    alliances = _read_alliances(periods)
    windows = _metric_windows(periods, rubrics, alliances)
    reads: dict[Any, Callable[[], Any]] = {
        "history": lambda: _read_history(periods, rubrics),
        "funding": lambda: _read_funding(periods),
        "entered": lambda: _read_entered(periods),
    }
    for n, (window, _members) in enumerate(windows):
        for group, read in _metric_reads(window).items():
            reads[("metrics", n, group)] = read
    done = (snapshot or Snapshot(None, None)).map(reads)
    earlier, stored = done["history"]
    funding, policies = done["funding"]
    inputs = BatchInputs(alliances, done["entered"], earlier, stored, funding, policies)
    by_window: dict[int, dict[str, dict[int, Decimal]]] = defaultdict(dict)
    for key, values in done.items():
        if isinstance(key, tuple):
            by_window[key[1]].update(values)
    metric_values: dict[int, dict[str, dict[int, Decimal]]] = {}
    for n, (window, members) in enumerate(windows):
        window.cache.clear()
        for p in members:
            metric_values[p.pk] = by_window[n]
    return BatchReads(periods, rubrics, inputs, metric_values)

"""Computing periods' results in memory, set-based, without writing anything.

A batch of periods (the nightly run gives it several counties at a time) is computed in two
steps: ``read_batch`` reads what it needs, in a number of queries that grows with neither the
schools nor the periods: the rubrics, the alliances, the entered values, the earlier results,
the funding years and the award policies of the whole batch are each one query, and each
metric is one computation per ``Window`` — the periods of the batch that share their dates,
whatever their county. These reads are independent of each other: given a snapshot
(``pgtools.snapshots``), they run on several connections at once. ``score_batch`` then
computes a ``PeriodOutcome`` per period, in memory; the services write them in one
transaction (``services.outcomes_write``) or show one as a what-if preview
(``compute_period``). ``compute_periods`` is both steps on one connection.

A school result's trace (``trace.py``) keeps the school's own figures; the rubric's text is
stored once per content hash (``RubricSnapshot``) and joined back when the trace is shown.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext as _

from pgtools.querysets import tuples
from pgtools.snapshots import Snapshot

from . import scoring
from .awards import AwardInput, AwardSheet, PolicyParams, compute_awards
from .metrics import REGISTRY, Window
from .models import AwardPolicy, EvaluationPeriod, Indicator, IndicatorValue, Rubric, SchoolResult
from .trace import TRACE_FORMAT

ZERO = Decimal(0)


@dataclass
class SchoolOutcome:
    school_id: int
    alliance_id: int | None
    own_total: Decimal
    final_score: Decimal
    grade: str
    trace: dict[str, Any]
    award_preview: Decimal | None = None


@dataclass
class AllianceOutcome:
    alliance_id: int
    score: Decimal
    grade: str
    trace: dict[str, Any]


@dataclass
class PeriodOutcome:
    period: EvaluationPeriod
    rubric: Rubric
    rubric_hash: str
    schools: dict[int, SchoolOutcome] = field(default_factory=dict)
    alliances: dict[int, AllianceOutcome] = field(default_factory=dict)
    warnings: dict[int, tuple[int, list[str]]] = field(default_factory=dict)
    awards: AwardSheet | None = None
    funding_year_id: int | None = None


def current_rubric(county_id: int, school_year_id: int) -> Rubric | None:
    return (
        Rubric.objects.filter(county_id=county_id, school_year_id=school_year_id)
        .order_by("-version")
        .prefetch_related("dimensions__indicators")
        .first()
    )


def rubric_indicators(rubric: Rubric) -> list[tuple[Any, Indicator]]:
    return [(d, i) for d in rubric.dimensions.all() for i in d.indicators.all()]


def rubric_content(rubric: Rubric) -> dict[str, Any]:
    """Everything that changes a score, in a canonical form (the input of the content hash)."""
    return {
        "beta": str(rubric.beta),
        "bundling_basis": rubric.bundling_basis,
        "alliance_averaging": rubric.alliance_averaging,
        "grade_bands": {k: str(v) for k, v in sorted(rubric.grade_bands.items())},
        "decline_periods": rubric.decline_periods,
        "dimensions": [
            {
                "code": d.code,
                "name": d.name,
                "indicators": [
                    {
                        "code": i.code,
                        "name": i.name,
                        "max_points": str(i.max_points),
                        "method": i.method,
                        "metric_key": i.metric_key,
                        "rule": i.rule,
                        "rule_params": i.rule_params,
                        "direction": i.direction,
                        "value_min": str(i.value_min),
                        "value_max": str(i.value_max),
                    }
                    for i in d.indicators.all()
                ],
            }
            for d in rubric.dimensions.all()
        ],
    }


def rubric_hash(rubric: Rubric) -> str:
    canonical = json.dumps(rubric_content(rubric), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_points_total(rubric: Rubric) -> None:
    total = sum((i.max_points for _d, i in rubric_indicators(rubric)), ZERO)
    if total != scoring.HUNDRED:
        raise ValidationError(
            _("The indicators' max points add up to %(total)s; they must add up to 100.") % {"total": total}
        )


def current_rubrics(periods: Iterable[EvaluationPeriod]) -> dict[int, Rubric]:
    """Period id → the newest rubric version of its county and school year (two queries for
    any number of periods; a period without a rubric is left out)."""
    periods = list(periods)
    newest: dict[tuple[int, int], tuple[int, int]] = {}
    for pk, county_id, school_year_id, version in Rubric.objects.filter(
        school_year_id__in={p.school_year_id for p in periods}
    ).values_list("pk", "county_id", "school_year_id", "version"):
        key = (county_id, school_year_id)
        if key not in newest or version > newest[key][0]:
            newest[key] = (version, pk)
    rubrics = Rubric.objects.prefetch_related("dimensions__indicators").in_bulk([pk for _v, pk in newest.values()])
    out = {}
    for p in periods:
        found = newest.get((p.county_id, p.school_year_id))
        if found is not None:
            out[p.pk] = rubrics[found[1]]
    return out


# --- what a batch reads besides the metrics ----------------------------------------------


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
    from alliance.models import Membership

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
    from funding.models import Account, FundingQuota, FundingYear, LedgerEntry, LedgerLine
    from funding.rounding import FEN

    school_years = {p.school_year_id for p in periods}
    years = dict(FundingYear.objects.filter(school_year_id__in=school_years).values_list("pk", "school_year_id"))
    year_ids = list(years)
    quotas: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for fy, school, quota in tuples(
        FundingQuota.objects.filter(funding_year_id__in=year_ids).values_list("funding_year_id", "school_id", "quota")
    ):
        quotas[fy][school] = quota
    shares: dict[int, dict[int, Decimal]] = defaultdict(dict)
    pools: dict[int, Decimal] = defaultdict(lambda: ZERO)
    # The allocations to the pool accounts of the batch's funding years. Naming the accounts'
    # years as well lets PostgreSQL start from those few accounts and their lines' index
    # instead of every ledger line of the country.
    pool_lines = LedgerLine.objects.filter(
        entry__funding_year_id__in=year_ids,
        entry__kind=LedgerEntry.Kind.ALLOCATION,
        account__funding_year_id__in=year_ids,
        account__kind=Account.Kind.POOL,
    ).order_by()
    for fy, school, total in tuples(
        pool_lines.values_list("entry__funding_year_id", "entry__school_id").annotate(total=Sum("amount"))
    ):
        total = Decimal(total).quantize(FEN)
        pools[fy] += total
        if school is not None:
            shares[fy][school] = total
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
    return {group: lambda keys=keys: {key: REGISTRY[key](window) for key in keys} for group, keys in groups.items()}


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


def score_batch(
    reads: BatchReads, *, beta: Decimal | None = None, policy: PolicyParams | None = None
) -> list[PeriodOutcome]:
    """Scores, grades, warnings and the award preview of each period read, in the order given
    by county and start date (an earlier period's outcome is the history of a later one of the
    same county). ``beta`` and ``policy`` override the rubric's and the funding year's
    settings (what-if preview)."""
    rubrics = reads.rubrics
    beta_of = {p.pk: rubrics[p.pk].beta if beta is None else beta for p in reads.periods}
    if not all(ZERO <= b <= 1 for b in beta_of.values()):
        raise ValidationError(_("β must be between 0 and 1."))
    hashes: dict[int, str] = {}
    scorers: dict[tuple[str, str], tuple[Callable, dict]] = {}
    fresh: dict[int, PeriodOutcome] = {}
    outcomes = []
    for p in reads.periods:
        rubric = rubrics[p.pk]
        if rubric.pk not in hashes:
            hashes[rubric.pk] = rubric_hash(rubric)
        outcome = _score_period(
            p, rubric, hashes[rubric.pk], beta_of[p.pk], policy, reads.inputs, reads.metric_values[p.pk], fresh, scorers
        )
        fresh[p.pk] = outcome
        outcomes.append(outcome)
    return outcomes


def compute_periods(
    periods: Iterable[EvaluationPeriod],
    rubrics: Mapping[int, Rubric] | None = None,
    *,
    beta: Decimal | None = None,
    policy: PolicyParams | None = None,
) -> list[PeriodOutcome]:
    """``score_batch(read_batch(periods, rubrics))``, read on this thread's connection."""
    if beta is not None and not ZERO <= beta <= 1:
        raise ValidationError(_("β must be between 0 and 1."))
    return score_batch(read_batch(periods, rubrics), beta=beta, policy=policy)


def compute_period(
    period: EvaluationPeriod,
    *,
    rubric: Rubric | None = None,
    beta: Decimal | None = None,
    policy: PolicyParams | None = None,
) -> PeriodOutcome:
    """One period's outcome (``compute_periods`` of one)."""
    rubrics = {period.pk: rubric} if rubric is not None else None
    return compute_periods([period], rubrics, beta=beta, policy=policy)[0]


def _score_period(
    period: EvaluationPeriod,
    rubric: Rubric,
    digest: str,
    beta: Decimal,
    policy: PolicyParams | None,
    inputs: BatchInputs,
    metric_values: Mapping[str, Mapping[int, Decimal]],
    fresh: Mapping[int, PeriodOutcome],
    scorers: dict[tuple[str, str], tuple[Callable, dict]],
) -> PeriodOutcome:
    alliances = inputs.alliances.get((period.county_id, period.school_year_id), Alliances())
    school_alliance, members = alliances.school_alliance, alliances.members
    school_ids = sorted(school_alliance)
    entered = inputs.entered.get(period.pk, {})
    indicators = rubric_indicators(rubric)

    # Raw values and points per indicator, every school at once (a rank needs all of them),
    # a column per indicator in the order of ``school_ids``. A school's trace entry of an
    # indicator is [source, raw value as text, points]; the schools with the same source and
    # value share one entry and its points (a rank gives ties the same points too), so each
    # distinct value is scored once. Points are whole hundredths (scoring rounds them to
    # 0.01), so the totals are added up in whole numbers of them.
    position = {s: k for k, s in enumerate(school_ids)}
    codes: list[str] = []
    entry_columns: list[list[list]] = []
    point_columns: list[list[int]] = []
    for _d, ind in indicators:
        computed = ind.method == Indicator.Method.COMPUTED
        values = metric_values.get(ind.metric_key, {}) if computed else {}
        # A value's key: its text for a metric's value (5 and 5.0 are equal, not the same
        # text), (source, text) for a value entered (or entered over a metric's), None if missing.
        raw = [values.get(s) for s in school_ids] if computed else [None] * len(school_ids)
        keys: list[Any] = [None if v is None else str(v) for v in raw]
        entered_source = "override" if computed else "entered"
        for s, v in entered.get(ind.code, {}).items():
            k = position.get(s)
            if k is not None and v is not None:
                raw[k], keys[k] = v, (entered_source, str(v))
        if ind.rule == Indicator.Rule.RANK:
            present = {s: v for s, v in zip(school_ids, raw, strict=True) if v is not None}
            ranked = scoring.rank_points(present, ind.max_points, ind.direction)
            by_value = {v: ranked[s] for s, v in present.items()}
            points_of = lambda v, by_value=by_value: ZERO if v is None else by_value[v]  # noqa: E731
            shared: dict[Any, tuple[int, list]] = {}
        else:
            # By a target or bands, points depend on the value alone: the periods of a batch with
            # the same rubric content share the indicator's points and entries.
            if (digest, ind.code) not in scorers:
                scorers[(digest, ind.code)] = (
                    scoring.points_function(ind.rule, ind.rule_params, ind.max_points, ind.direction),
                    {},
                )
            points_of, shared = scorers[(digest, ind.code)]

        def entry(key: Any, shared: dict = shared, points_of: Callable = points_of) -> tuple[int, list]:
            if key is None:
                source, text = "missing", None
            elif isinstance(key, tuple):
                source, text = key
            else:
                source, text = "metric", key
            pts = points_of(None if text is None else Decimal(text))
            found = shared[key] = (scoring.to_hundredths(pts), [source, text, str(pts)])
            return found

        found = [shared.get(k) or entry(k) for k in keys]
        codes.append(ind.code)
        point_columns.append([f[0] for f in found])
        entry_columns.append([f[1] for f in found])
    none = [()] * len(school_ids)  # a rubric without indicators
    points_by_school = zip(*point_columns, strict=True) if codes else none
    own = {s: scoring.school_total_of_hundredths(sum(p)) for s, p in zip(school_ids, points_by_school, strict=True)}
    entries_by_school = zip(*entry_columns, strict=True) if codes else none
    trace_values = {s: dict(zip(codes, e, strict=True)) for s, e in zip(school_ids, entries_by_school, strict=True)}

    earlier = inputs.earlier.get(period.pk, [])
    history = {pk: _scores_of(fresh[pk]) if pk in fresh else inputs.stored.get(pk, {}) for pk in earlier}
    previous = history[earlier[-1]] if earlier else {}

    outcome = PeriodOutcome(period=period, rubric=rubric, rubric_hash=digest)
    grade_of = scoring.grader(rubric.grade_bands)
    trace_rubric = {"id": rubric.pk, "version": rubric.version, "hash": digest}
    trace_beta = str(beta)
    improvement = rubric.bundling_basis == Rubric.BundlingBasis.IMPROVEMENT
    for s in school_ids:
        ms = sorted(members.get(s, ()))
        member_rows = [
            {
                "school_id": m,
                "total": str(own[m]),
                "previous_total": str(previous[-m]) if -m in previous else None,
                "improvement": str(own[m] - previous[-m]) if -m in previous else None,
            }
            for m in ms
        ]
        if improvement:
            basis = [own[m] - previous[-m] for m in ms if -m in previous]
            final = scoring.bundle_improvement(own[s], basis, beta)
        else:
            basis = [own[m] for m in ms]
            final = scoring.bundle_totals(own[s], basis, beta)
        grade = grade_of(final)
        trace = {
            "format": TRACE_FORMAT,
            "rubric": dict(trace_rubric),
            "indicators": trace_values[s],
            "own_total": str(own[s]),
            "bundling": {
                "role": "lead" if s in members else "member",
                "basis": rubric.bundling_basis,
                "beta": trace_beta,
                "members": member_rows,
                "basis_values": [str(b) for b in basis] if s in members else [],
                "final_score": str(final),
            },
            "grade": grade,
        }
        outcome.schools[s] = SchoolOutcome(s, school_alliance[s], own[s], final, grade, trace)
        if earlier:  # a first period has nothing to fall from (decline_periods ≥ 1)
            scores = [history[p][s] for p in earlier if s in history[p]] + [final]
            falls = scoring.consecutive_falls(scores)
            if falls >= rubric.decline_periods:
                outcome.warnings[s] = (falls, [str(x) for x in scores])

    funding = inputs.funding.get(period.school_year_id)
    quotas = funding.quotas if funding else {}
    for alliance_id, schools in sorted(alliances.alliance_schools.items()):
        finals = [outcome.schools[s].final_score for s in schools]
        weights = (
            [quotas.get(s, ZERO) for s in schools]
            if rubric.alliance_averaging == Rubric.AllianceAveraging.QUOTA
            else None
        )
        score = scoring.alliance_score(finals, weights)
        outcome.alliances[alliance_id] = AllianceOutcome(
            alliance_id,
            score,
            grade_of(score),
            {
                "averaging": rubric.alliance_averaging,
                "lead_school_id": alliances.leads.get(alliance_id),
                "schools": [
                    {"school_id": s, "final_score": str(f), "weight": None if weights is None else str(w)}
                    for s, f, w in zip(schools, finals, weights or [None] * len(schools), strict=True)
                ],
                "rubric": {"version": rubric.version, "hash": digest},
            },
        )

    if funding is not None:
        if policy is None:
            policy = PolicyParams.from_policy(inputs.policies.get(period.school_year_id))
        funded = [s for s in school_ids if s in quotas]
        sheet = compute_awards(
            funding.pool,
            [
                AwardInput(
                    s,
                    outcome.schools[s].final_score,
                    outcome.schools[s].grade,
                    quotas[s],
                    funding.shares.get(s, ZERO),
                )
                for s in funded
            ],
            policy,
        )
        outcome.awards = sheet
        outcome.funding_year_id = funding.funding_year_id
        policy_trace, pool, remainder = policy.as_trace(), str(funding.pool), str(sheet.remainder)
        for line in sheet.lines:
            school = outcome.schools[line.school_id]
            school.award_preview = line.award
            school.trace["award"] = {
                "policy": policy_trace,
                "pool": pool,
                "quota": str(quotas[line.school_id]),
                "share": str(funding.shares.get(line.school_id, ZERO)),
                "pool_remainder": remainder,
                **line.trace(),
            }
    return outcome


def _scores_of(outcome: PeriodOutcome) -> dict[int, Decimal]:
    scores: dict[int, Decimal] = {}
    for s in outcome.schools.values():
        scores[s.school_id] = s.final_score
        scores[-s.school_id] = s.own_total
    return scores

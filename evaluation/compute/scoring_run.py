"""Scoring a batch of periods in memory from what was read (``score_batch``): each period's
school scores, grades, decline warnings, alliance scores and award preview, as a
``PeriodOutcome``. Nothing is written here: the services write the outcomes
(``services.outcomes_write``) or show one as a what-if preview (``compute_period``).
``scoring`` holds the per-indicator and bundling arithmetic."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .. import scoring
from ..awards import AwardInput, AwardSheet, PolicyParams, compute_awards, period_key, period_pool
from ..models import EvaluationPeriod, Indicator, Rubric, validate_beta
from ..trace import TRACE_FORMAT
from .people import read_people, score_people
from .reads import Alliances, BatchInputs, BatchReads, Funding, read_batch
from .rubric_content import check_points_total, current_rubrics, rubric_hash, rubric_indicators

ZERO = scoring.ZERO


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
    # A principals' or teachers' period: subject id → ``people.PersonOutcome`` (no schools).
    people: dict[int, Any] = field(default_factory=dict)

    @property
    def has_results(self) -> bool:
        return bool(self.schools or self.people)


def score_batch(
    reads: BatchReads, *, beta: Decimal | None = None, policy: PolicyParams | None = None
) -> list[PeriodOutcome]:
    """Scores, grades, warnings and the award preview of each period read, in the order given
    by county and start date (an earlier period's outcome is the history of a later one of the
    same county). ``beta`` and ``policy`` override the rubric's and the funding year's
    settings (what-if preview)."""
    rubrics = reads.rubrics
    beta_of = {p.pk: rubrics[p.pk].beta if beta is None else beta for p in reads.periods}
    for b in beta_of.values():
        validate_beta(b)
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
    """``score_batch(read_batch(periods, rubrics))``, read on this thread's connection; the
    principals' and teachers' periods among them are scored by ``people.score_people``."""
    validate_beta(beta)
    periods = list(periods)
    people = [p for p in periods if p.evaluates_people]
    if not people:
        return score_batch(read_batch(periods, rubrics), beta=beta, policy=policy)
    schools = [p for p in periods if not p.evaluates_people]
    found = dict(rubrics) if rubrics is not None else current_rubrics(people)
    for p in people:
        if p.pk not in found:
            raise ValidationError(_("%(period)s has no rubric.") % {"period": p})
        check_points_total(found[p.pk])
    outcomes = score_batch(read_batch(schools, rubrics), beta=beta, policy=policy) if schools else []
    return outcomes + score_people(people, found, read_people(people, found))


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
    """One period's outcome: the indicators' points and the schools' own totals, the bundled
    final scores, grades and decline warnings, the alliances' scores, then the award preview."""
    alliances = inputs.alliances.get((period.county_id, period.school_year_id), Alliances())
    school_ids = sorted(alliances.school_alliance)
    own, trace_values = _indicator_points(
        school_ids, rubric_indicators(rubric), metric_values, inputs.entered.get(period.pk, {}), digest, scorers
    )
    earlier, history = _history(period, inputs, fresh)
    outcome = PeriodOutcome(period=period, rubric=rubric, rubric_hash=digest)
    grade_of = scoring.grader(rubric.grade_bands)
    _school_outcomes(outcome, alliances, school_ids, own, trace_values, earlier, history, beta, grade_of)
    funding = inputs.funding.get(period.school_year_id)
    quotas = funding.quotas if funding else {}
    _alliance_outcomes(outcome, alliances, quotas, grade_of)
    if funding is not None:
        if policy is None:
            policy = PolicyParams.from_policy(inputs.policies.get(period.school_year_id))
        _award_preview(outcome, funding, policy, school_ids)
    return outcome


def _indicator_points(
    school_ids: list[int],
    indicators: list[tuple[Any, Indicator]],
    metric_values: Mapping[str, Mapping[int, Decimal]],
    entered: Mapping[str, Mapping[int, Decimal]],
    digest: str,
    scorers: dict[tuple[str, str], tuple[Callable, dict]],
) -> tuple[dict[int, Decimal], dict[int, dict[str, list]]]:
    """Each school's own total and its trace entries of the indicators (code → entry).

    Raw values and points per indicator, every school at once (a rank needs all of them),
    a column per indicator in the order of ``school_ids``. A school's trace entry of an
    indicator is [source, raw value as text, points]; the schools with the same source and
    value share one entry and its points (a rank gives ties the same points too), so each
    distinct value is scored once. Points are whole hundredths (scoring rounds them to
    0.01), so the totals are added up in whole numbers of them."""
    position = {s: k for k, s in enumerate(school_ids)}
    codes: list[str] = []
    entry_columns: list[list[list]] = []
    point_columns: list[list[int]] = []
    for _d, ind in indicators:
        computed = ind.method == Indicator.Method.COMPUTED
        values = metric_values.get(ind.metric_key, {}) if computed else {}
        # A value's key: its text for a metric's value (5 and 5.0 are equal, not the same
        # text), (source, text) for a value entered (or entered over a metric's), None if missing.
        raw: list[Decimal | None] = [values.get(s) for s in school_ids] if computed else [None] * len(school_ids)
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
    return own, trace_values


def _history(
    period: EvaluationPeriod, inputs: BatchInputs, fresh: Mapping[int, PeriodOutcome]
) -> tuple[list[int], dict[int, dict[int, Decimal]]]:
    """The period's earlier periods (oldest first) and their scores: computed in this batch
    (``fresh``) or stored."""
    earlier = inputs.earlier.get(period.pk, [])
    history = {pk: _scores_of(fresh[pk]) if pk in fresh else inputs.stored.get(pk, {}) for pk in earlier}
    return earlier, history


def _school_outcomes(
    outcome: PeriodOutcome,
    alliances: Alliances,
    school_ids: list[int],
    own: Mapping[int, Decimal],
    trace_values: Mapping[int, dict[str, list]],
    earlier: list[int],
    history: Mapping[int, Mapping[int, Decimal]],
    beta: Decimal,
    grade_of: Callable[[Decimal], str],
) -> None:
    """Each school's final score (its own total bundled with its members' by β), grade and
    trace, and a decline warning where it fell ``decline_periods`` times running."""
    rubric, digest = outcome.rubric, outcome.rubric_hash
    school_alliance, members = alliances.school_alliance, alliances.members
    previous = history[earlier[-1]] if earlier else {}
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


def _alliance_outcomes(
    outcome: PeriodOutcome,
    alliances: Alliances,
    quotas: Mapping[int, Decimal],
    grade_of: Callable[[Decimal], str],
) -> None:
    """Each alliance's score: its schools' final scores averaged (plainly or by quota)."""
    rubric, digest = outcome.rubric, outcome.rubric_hash
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
                    for s, f, w in zip(
                        schools, finals, weights or cast("list[Decimal | None]", [None] * len(schools)), strict=True
                    )
                ],
                "rubric": {"version": rubric.version, "hash": digest},
            },
        )


def _award_preview(outcome: PeriodOutcome, funding: Funding, policy: PolicyParams, school_ids: list[int]) -> None:
    """The award sheet of the funding year's pool over the schools with a quota, each line's
    award and its trace on the school's outcome."""
    quotas = funding.quotas
    funded = [s for s in school_ids if s in quotas]
    pool = the_period_pool(outcome.period, funding.pool, policy)
    sheet = compute_awards(
        pool,
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
    policy_trace, remainder = policy.as_trace(), str(sheet.remainder)
    for line in sheet.lines:
        school = outcome.schools[line.school_id]
        school.award_preview = line.award
        school.trace["award"] = {
            "policy": policy_trace,
            "pool": str(pool),
            "year_pool": str(funding.pool),
            "quota": str(quotas[line.school_id]),
            "share": str(funding.shares.get(line.school_id, ZERO)),
            "pool_remainder": remainder,
            **line.trace(),
        }


def the_period_pool(period: EvaluationPeriod, pool: Decimal, policy: PolicyParams) -> Decimal:
    """What the period may pay from the year's pool under the policy (``awards.period_pool``):
    a term period's term number is read only when the policy names a term."""
    if period.kind == EvaluationPeriod.Kind.YEAR:
        key = period_key(period.kind, None)
    elif any(k.startswith("term") and v > 0 for k, v in policy.period_shares.items()):
        key = period_key(period.kind, period.term.number)  # type: ignore[union-attr]
    else:
        return period_pool(pool, policy.period_shares, "term")
    return period_pool(pool, policy.period_shares, key)


def _scores_of(outcome: PeriodOutcome) -> dict[int, Decimal]:
    scores: dict[int, Decimal] = {}
    for s in outcome.schools.values():
        scores[s.school_id] = s.final_score
        scores[-s.school_id] = s.own_total
    return scores

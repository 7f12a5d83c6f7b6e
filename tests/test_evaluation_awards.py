"""Dividing the pool: to the fen, monotonic, policies and their bad input."""

import math
from decimal import Decimal as D
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.awards import AwardInput, PolicyParams, compute_awards
from evaluation.scoring import grade_of
from funding.rounding import split

BANDS = {"excellent": "90", "good": "75", "pass": "60"}
scores = st.decimals(min_value=0, max_value=100, places=2)
quotas = st.decimals(min_value=1, max_value=1_000_000, places=2)
pools = st.decimals(min_value=0, max_value=10_000_000, places=2)
policies = st.sampled_from(
    [
        PolicyParams(),
        PolicyParams(pass_threshold=D(60)),
        PolicyParams(kind="tiers"),
        PolicyParams(kind="tiers", pass_threshold=D(75)),
        PolicyParams(kind="tiers", fill_pool=False),
    ]
)


def inputs(pairs):
    return [
        AwardInput(i, s, grade_of(s, BANDS), q, (q * D("0.3")).quantize(D("0.01"))) for i, (s, q) in enumerate(pairs)
    ]


@settings(max_examples=300, deadline=None)
@given(pool=pools, pairs=st.lists(st.tuples(scores, quotas), min_size=1, max_size=30), policy=policies)
def test_awards_and_remainder_add_up_to_the_pool_to_the_fen(pool, pairs, policy):
    sheet = compute_awards(pool, inputs(pairs), policy)
    assert sum(line.award for line in sheet.lines) + sheet.remainder == pool
    assert all(line.award >= 0 and line.award == line.award.quantize(D("0.01")) for line in sheet.lines)
    assert sheet.remainder >= 0
    if policy.fill_pool and any(line.eligible for line in sheet.lines):
        assert sheet.remainder == 0


@settings(max_examples=300, deadline=None)
@given(pool=pools, pairs=st.lists(st.tuples(scores, quotas), min_size=2, max_size=30), policy=policies)
def test_a_higher_score_never_earns_less_per_yuan_of_quota(pool, pairs, policy):
    sheet = compute_awards(pool, inputs(pairs), policy)
    rows = [(s, q, line) for (s, q), line in zip(pairs, sheet.lines, strict=True)]
    for s1, q1, l1 in rows:
        for s2, q2, l2 in rows:
            if s1 > s2:
                # exactly, before rounding to the fen
                assert l1.exact / Fraction(q1) >= l2.exact / Fraction(q2)
                # and after it, within the fen each award may move by
                assert l1.award / q1 >= l2.award / q2 - (D("0.01") / q1 + D("0.01") / q2)


@settings(max_examples=200, deadline=None)
@given(pool=pools, pairs=st.lists(st.tuples(scores, st.just(D("200000.00"))), min_size=2, max_size=30), policy=policies)
def test_with_equal_quotas_a_higher_score_never_earns_less_even_after_rounding(pool, pairs, policy):
    sheet = compute_awards(pool, inputs(pairs), policy)
    for (s1, _q1), l1 in zip(pairs, sheet.lines, strict=True):
        for (s2, _q2), l2 in zip(pairs, sheet.lines, strict=True):
            if s1 > s2:
                assert l1.award >= l2.award


def _awards_by_fractions(pool, items, params):
    """The sheet as first written, in exact fractions: the reference the whole-number
    arithmetic of ``compute_awards`` must match figure for figure."""
    total_quota = sum(i.quota for i in items)
    share_rate = Fraction(sum(i.share for i in items)) / Fraction(total_quota) if total_quota else Fraction(0)
    weights, eligible = [], []
    for i in items:
        passes = params.pass_threshold is None or i.score >= params.pass_threshold
        if params.kind == "proportional":
            w = Fraction(i.score) * Fraction(i.quota) if passes else Fraction(0)
        else:
            w = Fraction(params.coefficients[i.grade]) * Fraction(i.quota) * share_rate if passes else Fraction(0)
        weights.append(max(w, Fraction(0)))
        eligible.append(passes and w > 0)
    total = sum(weights, Fraction(0))
    if total == 0:
        return [(D("0.00"), False, w, Fraction(0)) for w in weights], pool
    if params.kind == "tiers" and not params.fill_pool and total <= Fraction(pool):
        exact = weights
        awards = [D(math.floor(w * 100)) / 100 for w in weights]
    else:
        exact = [Fraction(pool) * w / total for w in weights]
        order = sorted(range(len(items)), key=lambda k: (-items[k].score, k))
        parts = split(pool, [weights[k] for k in order])
        awards = [None] * len(items)
        for position, k in enumerate(order):
            awards[k] = parts[position]
    return list(zip(awards, eligible, weights, exact, strict=True)), pool - sum(awards)


@settings(max_examples=300, deadline=None)
@given(pool=pools, pairs=st.lists(st.tuples(scores, quotas), min_size=1, max_size=30), policy=policies)
def test_whole_number_arithmetic_gives_the_exact_fractions_figures(pool, pairs, policy):
    items = inputs(pairs)
    sheet = compute_awards(pool, items, policy)
    expected, remainder = _awards_by_fractions(pool, items, policy)
    assert sheet.remainder == remainder
    for line, (award, eligible, weight, exact) in zip(sheet.lines, expected, strict=True):
        assert (line.award, line.eligible, line.exact) == (award, eligible, exact)
        assert line.weight == (D(weight.numerator) / D(weight.denominator)).quantize(D("0.000001"))
        assert line.trace()["exact_amount"] == str((D(exact.numerator) / D(exact.denominator)).quantize(D("0.000001")))


def test_proportional_to_score_times_quota():
    # given two schools, 80 × 100 and 40 × 100, and a pool of 300.00
    sheet = compute_awards(D("300.00"), inputs([(D(80), D(100)), (D(40), D(100))]), PolicyParams())
    assert [line.award for line in sheet.lines] == [D("200.00"), D("100.00")]


def test_a_school_under_the_pass_threshold_gets_nothing():
    sheet = compute_awards(
        D("100.00"), inputs([(D(80), D(100)), (D("59.99"), D(100))]), PolicyParams(pass_threshold=D(60))
    )
    assert [line.award for line in sheet.lines] == [D("100.00"), D("0.00")]
    assert not sheet.lines[1].eligible


def test_nobody_eligible_leaves_the_whole_pool_as_remainder():
    sheet = compute_awards(D("100.00"), inputs([(D(50), D(100))]), PolicyParams(pass_threshold=D(60)))
    assert sheet.remainder == D("100.00")


def test_tiers_without_filling_the_pool_pay_coefficient_times_share_and_report_the_rest():
    # given shares of 30.00 (excellent, 1.2) and 30.00 (pass, 0.8) and a pool of 100.00
    sheet = compute_awards(
        D("100.00"), inputs([(D(95), D(100)), (D(65), D(100))]), PolicyParams(kind="tiers", fill_pool=False)
    )
    assert [line.award for line in sheet.lines] == [D("36.00"), D("24.00")]
    assert sheet.remainder == D("40.00")


def test_rounding_adjustment_is_shown_per_school():
    sheet = compute_awards(D("100.00"), inputs([(D(50), D(1)), (D(50), D(1)), (D(50), D(1))]), PolicyParams())
    assert [line.award for line in sheet.lines] == [D("33.34"), D("33.33"), D("33.33")]
    assert sheet.lines[0].trace()["rounding_adjustment"] == "0.006667"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            PolicyParams(kind="tiers", coefficients={"excellent": D(-1), "good": D(-2), "pass": D(-3), "fail": D(-4)}),
            "negative",
        ),
        (
            PolicyParams(kind="tiers", coefficients={"excellent": D(1), "good": D(2), "pass": D(0), "fail": D(0)}),
            "better grade",
        ),
        (PolicyParams(pass_threshold=D(101)), "between 0 and 100"),
        (PolicyParams(kind="lottery"), "Unknown"),
    ],
)
def test_bad_policies_are_refused(params, message, settings):
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(ValidationError, match=message):
        compute_awards(D("100.00"), inputs([(D(80), D(100))]), params)

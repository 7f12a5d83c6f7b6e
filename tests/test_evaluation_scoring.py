"""The scoring rules, directly: points by rule, totals, bundling, alliance scores, grades, decline."""

from decimal import Decimal as D

import pytest

from evaluation import scoring

BANDS = {"excellent": "90", "good": "75", "pass": "60"}


@pytest.mark.parametrize(
    ("value", "direction", "expected"),
    [
        (D(50), "higher", D("5.00")),  # half the target: half the points
        (D(100), "higher", D("10.00")),
        (D(250), "higher", D("10.00")),  # capped at the max
        (D(-5), "higher", D("0.00")),
        (D(5), "lower", D("10.00")),  # at or under the target: full points
        (D(20), "lower", D("5.00")),  # twice the target: half
    ],
)
def test_target_rule(value, direction, expected):
    # given a target of 100 (10 when lower is better) and 10 max points
    target = D(100) if direction == "higher" else D(10)
    # when / then
    assert scoring.target_points(value, D(10), target, direction) == expected


def test_bands_rule_takes_the_best_band_reached():
    bands = [(D(95), D(6)), (D(80), D(4)), (D(60), D(2))]
    assert scoring.band_points(D(96), bands, "higher") == D("6.00")
    assert scoring.band_points(D(80), bands, "higher") == D("4.00")
    assert scoring.band_points(D("59.9"), bands, "higher") == D("0.00")
    lower = [(D(1), D(5)), (D(3), D(2))]
    assert scoring.band_points(D("0.5"), lower, "lower") == D("5.00")
    assert scoring.band_points(D(2), lower, "lower") == D("2.00")
    assert scoring.band_points(D(4), lower, "lower") == D("0.00")


def test_rank_rule_is_linear_with_shared_ties():
    # given four schools, two tied at the top
    values = {1: D(10), 2: D(10), 3: D(5), 4: D(1)}
    # when ranked for 9 points
    pts = scoring.rank_points(values, D(9), "higher")
    # then the ties share the best rank and the worst gets nothing
    assert pts == {1: D("9.00"), 2: D("9.00"), 3: D("3.00"), 4: D("0.00")}
    assert scoring.rank_points(values, D(9), "lower")[4] == D("9.00")
    assert scoring.rank_points({7: D(3)}, D(4), "higher") == {7: D("4.00")}


@pytest.mark.parametrize(
    ("rule", "params", "message"),
    [
        ("target", {}, "target"),
        ("target", {"target": "0"}, "above zero"),
        ("target", {"target": 0.5}, "text"),
        ("bands", {"bands": [["10", "50"]]}, "between 0"),
        ("bands", {"bands": "x"}, "pairs"),
        ("nope", {}, "Unknown"),
    ],
)
def test_bad_rule_parameters_are_explained(rule, params, message, settings):
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(ValueError, match=message):
        scoring.validate_rule(rule, params, D(10))


def test_school_total_and_grades():
    assert scoring.school_total([D("30.25"), D("40.5"), D("19.25")]) == D("90.00")
    assert scoring.grade_of(D(90), BANDS) == "excellent"
    assert scoring.grade_of(D("89.99"), BANDS) == "good"
    assert scoring.grade_of(D(75), BANDS) == "good"
    assert scoring.grade_of(D(60), BANDS) == "pass"
    assert scoring.grade_of(D("59.99"), BANDS) == "fail"


def test_grade_bands_must_fall():
    with pytest.raises(ValueError):
        scoring.parse_grade_bands({"excellent": "70", "good": "75", "pass": "60"})
    with pytest.raises(ValueError):
        scoring.parse_grade_bands({"excellent": "90"})


def test_bundling_by_totals():
    # given a core school at 80 whose members score 60 and 70, β = 0.4
    # then final = 0.6 × 80 + 0.4 × 65
    assert scoring.bundle_totals(D(80), [D(60), D(70)], D("0.4")) == D("74.00")
    assert scoring.bundle_totals(D(80), [], D("0.4")) == D("80.00")
    assert scoring.bundle_totals(D(80), [D(60)], D(0)) == D("80.00")
    assert scoring.bundle_totals(D(80), [D(60)], D(1)) == D("60.00")


def test_bundling_raises_a_core_school_whose_members_improve():
    # given the same own total, members that improve give the core school a higher final score
    before = scoring.bundle_totals(D(80), [D(60), D(62)], D("0.4"))
    after = scoring.bundle_totals(D(80), [D(70), D(75)], D("0.4"))
    assert after > before
    # and on the improvement basis, a positive mean improvement raises it, a fall lowers it
    assert scoring.bundle_improvement(D(80), [D(10), D(5)], D("0.4")) == D("83.00")
    assert scoring.bundle_improvement(D(80), [D(-10)], D("0.4")) == D("76.00")
    assert scoring.bundle_improvement(D(99), [D(20)], D("0.5")) == D("100.00")


def test_alliance_score_plain_and_quota_weighted():
    assert scoring.alliance_score([D(80), D(60)]) == D("70.00")
    assert scoring.alliance_score([D(80), D(60)], [D(300000), D(100000)]) == D("75.00")
    assert scoring.alliance_score([]) == D(0)


def test_consecutive_falls_counts_back_from_the_newest():
    assert scoring.consecutive_falls([D(80), D(75), D(70)]) == 2
    assert scoring.consecutive_falls([D(70), D(75), D(70)]) == 1
    assert scoring.consecutive_falls([D(70), D(70)]) == 0
    assert scoring.consecutive_falls([D(70)]) == 0

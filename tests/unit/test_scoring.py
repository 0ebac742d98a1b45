"""Scoring core: headline formulas, confidence intervals, comparisons.

Reference values come from scipy (tests only) or from independent formulas
written out here, never from the module under test.
"""
from __future__ import annotations

import json
import math
import statistics
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ces.core.metrics import METRICS
from ces.core.scoring import (
    Interval,
    compare,
    score,
    score_from_distribution,
    t_quantile,
    wilson_interval,
)

Z = stats.norm.ppf(0.975)


def answers(counts: dict[int, int]) -> list[int]:
    return [point for point, c in counts.items() for _ in range(c)]


def scipy_wilson(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return 100 * ci.low, 100 * ci.high


def independent_net_ci(values: list[int], positive, negative) -> tuple[float, float, float]:
    # Each respondent scores +1 / 0 / -1; the net score is their mean and the
    # multinomial variance of p+ - p- is the population variance of that score / n.
    coded = [1 if v in positive else -1 if v in negative else 0 for v in values]
    d = statistics.fmean(coded)
    half = Z * math.sqrt(statistics.pvariance(coded) / len(coded))
    return 100 * d, 100 * max(-1, d - half), 100 * min(1, d + half)


# --- headline formulas -------------------------------------------------------


def test_nps_seed_example_is_exactly_ten():
    s = score("nps", [10] * 15 + [9] * 15 + [8] * 25 + [7] * 25 + [6] * 10 + [0] * 10)
    assert s.n == 100
    assert s.headline_name == "nps"
    assert s.headline == 10.0


def test_nps_bucket_boundaries():
    # 6 is a detractor, 7-8 passives, 9 a promoter.
    assert score("nps", [6]).headline == -100.0
    assert score("nps", [7, 8]).headline == 0.0
    assert score("nps", [9]).headline == 100.0


def test_ces7_counts_five_and_above_but_not_four():
    s = score("ces7", [4] * 6 + [5] * 4)
    assert s.headline_name == "ces"
    assert s.headline == 40.0
    assert score("ces7", [4] * 10).headline == 0.0
    assert score("ces7", [5] * 10).headline == 100.0
    assert score("ces7", [1, 2, 3, 4, 5, 6, 7]).headline == pytest.approx(300 / 7)


def test_ces5_all_neutral_is_zero():
    s = score("ces5", [3] * 40)
    assert s.headline_name == "net_effort"
    assert s.headline == 0.0


def test_ces5_net_effort():
    # easy (4,5): 5, neutral: 2, difficult (1,2): 3 -> 50 - 30
    s = score("ces5", [5, 5, 4, 4, 4, 3, 3, 2, 1, 1])
    assert s.headline == pytest.approx(20.0)
    assert score("ces5", [1, 2]).headline == -100.0


def test_csat_top_two_box():
    s = score("csat5", [5, 4, 3, 2, 1, 4])
    assert s.headline_name == "csat"
    assert s.headline == pytest.approx(50.0)
    assert score("csat5", [3, 3, 3]).headline == 0.0


def test_ves_agreement_share():
    s = score("ves7", [7, 6, 5, 4, 3])
    assert s.headline_name == "ves"
    assert s.headline == pytest.approx(60.0)


def test_mean_and_distribution():
    s = score("ces7", [1, 2, 3, 4, 5, 6, 7, 7])
    assert s.mean == pytest.approx(35 / 8)
    assert s.distribution == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 2}
    nps = score("nps", [10, 10])
    assert list(nps.distribution) == list(range(0, 11))
    assert nps.distribution[0] == 0 and nps.distribution[10] == 2
    assert nps.mean == 10.0


def test_no_answers():
    s = score("nps", [])
    assert s.n == 0
    assert s.mean is None and s.mean_ci is None
    assert s.headline is None and s.headline_ci is None
    assert s.low_sample is True
    assert sum(s.distribution.values()) == 0


def test_single_answer_has_headline_interval_but_no_mean_interval():
    s = score("ces7", [6])
    assert s.mean == 6.0 and s.mean_ci is None
    assert s.headline == 100.0
    low, high = scipy_wilson(1, 1)
    assert s.headline_ci.low == pytest.approx(low, abs=1e-6)
    assert s.headline_ci.high == pytest.approx(high, abs=1e-6)


def test_low_sample_flag_boundary():
    assert score("csat5", [4] * 29).low_sample is True
    assert score("csat5", [4] * 30).low_sample is False


# --- input validation ---------------------------------------------------------


@pytest.mark.parametrize(
    "metric, value",
    [("ces7", 0), ("ces7", 8), ("ces5", 6), ("csat5", 0), ("nps", -1), ("nps", 11),
     ("ves7", 3.0), ("ces7", True), ("nps", "9"), ("nps", None)],
)
def test_value_outside_scale_raises(metric, value):
    with pytest.raises(ValueError):
        score(metric, [4, value])
    with pytest.raises(ValueError):
        score_from_distribution(metric, {value: 1})


def test_unknown_metric_raises():
    with pytest.raises(ValueError):
        score("ces10", [1])
    with pytest.raises(ValueError):
        score_from_distribution("", {1: 1})


@pytest.mark.parametrize("count", [-1, 1.5, True, "3"])
def test_bad_counts_raise(count):
    with pytest.raises(ValueError):
        score_from_distribution("ces7", {5: count})


# --- score_from_distribution --------------------------------------------------


def test_score_from_distribution_equals_score():
    values = [10] * 30 + [8] * 50 + [3] * 20
    assert score_from_distribution("nps", {10: 30, 8: 50, 3: 20}) == score("nps", values)
    # Missing points count as zero; zero counts are harmless.
    assert score_from_distribution("ces5", {3: 4, 1: 0}) == score("ces5", [3] * 4)
    assert score_from_distribution("ves7", {}) == score("ves7", [])


# --- confidence intervals against scipy / independent formulas ----------------


@pytest.mark.parametrize("k, n", [(0, 1), (0, 20), (1, 20), (7, 20), (20, 20), (33, 100), (999, 1000)])
def test_share_interval_is_wilson(k, n):
    s = score("ces7", [6] * k + [2] * (n - k))
    low, high = scipy_wilson(k, n)
    assert s.headline_ci.low == pytest.approx(low, abs=1e-6)
    assert s.headline_ci.high == pytest.approx(high, abs=1e-6)
    assert wilson_interval(k, n)[0] * 100 == pytest.approx(low, abs=1e-6)


@pytest.mark.parametrize("df", [1, 2, 3, 5, 9, 29, 30, 99, 1000, 10**6])
@pytest.mark.parametrize("p", [0.975, 0.995, 0.9, 0.025, 0.5])
def test_t_quantile_matches_scipy(df, p):
    assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), abs=1e-6)


@pytest.mark.parametrize(
    "metric, values",
    [("ces7", [4, 5, 6, 5, 3, 7, 6]), ("nps", [9, 7, 8, 10, 6, 8, 9, 7, 5, 10] * 3), ("csat5", [3, 4])],
)
def test_mean_interval_matches_scipy_t_interval(metric, values):
    s = score(metric, values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=statistics.fmean(values),
                                 scale=stats.sem(values))
    assert s.mean_ci.low == pytest.approx(max(low, METRICS[metric].min), abs=1e-4)
    assert s.mean_ci.high == pytest.approx(min(high, METRICS[metric].max), abs=1e-4)


def test_mean_interval_clipped_to_scale_and_zero_width_when_identical():
    wide = score("ces7", [1, 7])
    assert wide.mean_ci == Interval(1.0, 7.0)
    same = score("ces7", [5] * 12)
    assert same.mean_ci == Interval(5.0, 5.0)


@pytest.mark.parametrize(
    "metric, values",
    [
        ("nps", [10] * 30 + [8] * 50 + [2] * 20),
        ("nps", [9, 0, 7, 10, 3]),
        ("ces5", [5, 4, 3, 2, 1, 4, 4, 5, 3, 3, 2]),
        ("ces5", [5] * 29 + [3]),  # upper bound clipped at +100
    ],
)
def test_net_interval_matches_independent_computation(metric, values):
    m = METRICS[metric]
    s = score(metric, values)
    d, low, high = independent_net_ci(values, m.positive, m.negative)
    assert s.headline == pytest.approx(d, abs=1e-9)
    assert s.headline_ci.low == pytest.approx(low, abs=1e-9)
    assert s.headline_ci.high == pytest.approx(high, abs=1e-9)


def test_nps_seed_example_interval():
    # p+ = .3, p- = .2: var = (.5 - .01) / 100, half-width = 1.96 * 7 % = 13.72 points.
    s = score_from_distribution("nps", {10: 30, 8: 50, 0: 20})
    half = 100 * Z * math.sqrt(0.49 / 100)
    assert s.headline_ci.low == pytest.approx(10 - half)
    assert s.headline_ci.high == pytest.approx(10 + half)


def test_net_interval_degenerate_cases_are_not_zero_width():
    wl, wh = (x / 100 for x in scipy_wilson(0, 50))
    neutral = score("ces5", [3] * 50).headline_ci
    assert neutral.low == pytest.approx(-100 * wh) and neutral.high == pytest.approx(100 * wh)
    assert neutral.low < 0 < neutral.high
    # All promoters: p+ >= Wilson low w and the rest could be detractors, so d >= 2w - 1.
    all_promoters = score("nps", [10] * 50).headline_ci
    assert all_promoters.low == pytest.approx(2 * scipy_wilson(50, 50)[0] - 100)
    assert 80 < all_promoters.low < 100
    assert all_promoters.high == 100.0
    all_detractors = score("nps", [0] * 50).headline_ci
    assert all_detractors == Interval(-all_promoters.high, -all_promoters.low)


# --- compare ------------------------------------------------------------------


def test_compare_newcombe_published_example():
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 vs 48/80,
    # method 10 (hybrid score) interval for the difference: 0.0524 to 0.3339.
    last = score_from_distribution("csat5", {5: 48, 1: 32})
    this = score_from_distribution("csat5", {4: 56, 2: 14})
    diff = compare(last, this)
    assert diff.headline_name == "csat"
    assert diff.difference == pytest.approx(20.0)
    assert diff.ci.low == pytest.approx(5.24, abs=0.005)
    assert diff.ci.high == pytest.approx(33.39, abs=0.005)
    assert diff.significant is True
    assert (diff.n_a, diff.n_b) == (80, 70)


def test_compare_shares_against_scipy_wilson():
    a = score("ces7", [6] * 60 + [3] * 140)  # 30 %
    b = score("ces7", [7] * 140 + [4] * 60)  # 70 %
    la, ua = (x / 100 for x in scipy_wilson(60, 200))
    lb, ub = (x / 100 for x in scipy_wilson(140, 200))
    d = 0.4
    diff = compare(a, b)
    assert diff.difference == pytest.approx(40.0)
    assert diff.ci.low == pytest.approx(100 * (d - math.hypot(0.7 - lb, ua - 0.3)), abs=1e-6)
    assert diff.ci.high == pytest.approx(100 * (d + math.hypot(ub - 0.7, 0.3 - la)), abs=1e-6)
    assert diff.significant is True
    # Reversed order: b minus a flips the sign.
    back = compare(b, a)
    assert back.difference == pytest.approx(-40.0) and back.significant is True


def test_compare_no_difference_is_not_significant():
    a = score("ves7", [6] * 50 + [2] * 50)
    diff = compare(a, a)
    assert diff.difference == 0.0
    assert diff.ci.low < 0 < diff.ci.high
    assert diff.significant is False


def test_compare_net_scores_sums_variances():
    a_vals = [10] * 30 + [8] * 50 + [2] * 20  # NPS 10
    b_vals = [10] * 50 + [7] * 40 + [5] * 10  # NPS 40
    var = lambda v: statistics.pvariance([1 if x >= 9 else -1 if x <= 6 else 0 for x in v]) / len(v)
    half = 100 * Z * math.sqrt(var(a_vals) + var(b_vals))
    diff = compare(score("nps", a_vals), score("nps", b_vals))
    assert diff.difference == pytest.approx(30.0)
    assert diff.ci.low == pytest.approx(30 - half, abs=1e-9)
    assert diff.ci.high == pytest.approx(30 + half, abs=1e-9)
    assert diff.significant is True


def test_compare_small_degenerate_net_samples_not_significant():
    diff = compare(score("nps", [10]), score("nps", [0]))
    assert diff.difference == -200.0
    assert diff.significant is False
    assert diff.ci.low >= -200.0


def test_compare_with_empty_side_and_metric_mismatch():
    diff = compare(score("ces7", []), score("ces7", [5, 6]))
    assert diff.a is None and diff.b == 100.0
    assert diff.difference is None and diff.ci is None and diff.significant is False
    with pytest.raises(ValueError):
        compare(score("ces7", [5]), score("ves7", [5]))


# --- serialisation --------------------------------------------------------------


def test_as_dict_is_json_ready_and_rounded():
    s = score("ces7", [5, 6, 1])
    d = s.as_dict()
    json.dumps(d)
    assert d["headline"] == 66.67
    assert d["mean"] == 4.0
    assert d["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 0, "5": 1, "6": 1, "7": 0}
    assert set(d["headline_ci"]) == {"low", "high"}
    assert d["headline_ci"]["low"] == round(s.headline_ci.low, 2)
    assert d["low_sample"] is True and d["headline_name"] == "ces"
    empty = score("nps", []).as_dict()
    assert empty["mean"] is None and empty["headline_ci"] is None and empty["mean_ci"] is None
    diff = compare(s, s).as_dict()
    json.dumps(diff)
    assert diff["difference"] == 0.0 and diff["significant"] is False
    assert set(diff["ci"]) == {"low", "high"}


# --- properties -------------------------------------------------------------------


@st.composite
def metric_and_answers(draw, min_size=0):
    m = METRICS[draw(st.sampled_from(sorted(METRICS)))]
    values = draw(st.lists(st.integers(m.min, m.max), min_size=min_size, max_size=300))
    return m, values


@settings(max_examples=300, deadline=None)
@given(metric_and_answers())
def test_property_ranges_intervals_and_distribution(case):
    m, values = case
    s = score(m.key, values)
    assert s == score_from_distribution(m.key, Counter(values))
    assert s.n == len(values) == sum(s.distribution.values())
    if not values:
        return
    low_bound = 0.0 if m.headline_kind == "share" else -100.0
    assert low_bound <= s.headline <= 100.0
    ci = s.headline_ci
    assert low_bound <= ci.low <= s.headline + 1e-9
    assert s.headline - 1e-9 <= ci.high <= 100.0
    assert m.min <= s.mean <= m.max
    if s.n >= 2:
        assert m.min <= s.mean_ci.low <= s.mean + 1e-9
        assert s.mean - 1e-9 <= s.mean_ci.high <= m.max


@settings(max_examples=200, deadline=None)
@given(metric_and_answers(min_size=1), st.data())
def test_property_compare_interval_contains_difference(case, data):
    m, values_a = case
    values_b = data.draw(st.lists(st.integers(m.min, m.max), min_size=1, max_size=300))
    diff = compare(score(m.key, values_a), score(m.key, values_b))
    bound = 100.0 if m.headline_kind == "share" else 200.0
    assert -bound <= diff.ci.low <= diff.difference + 1e-9
    assert diff.difference - 1e-9 <= diff.ci.high <= bound
    assert diff.significant == (diff.ci.low > 0 or diff.ci.high < 0)

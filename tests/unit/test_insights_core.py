"""The pure core of the insights: p-values consistent with the intervals, Benjamini–Hochberg,
the score-drop test in seeded simulations, correlations and their intervals, periods, flattening."""
from __future__ import annotations

import math
import random
from datetime import datetime, timezone

import pytest

from ces.core import divergence, score_alerts
from ces.core.driver_ranking import benjamini_hochberg, rank_properties
from ces.core.flat_properties import flatten
from ces.core.metrics import get_metric
from ces.core.scoring import compare, compare_p_value, score, share_difference, wilson_interval


@pytest.mark.parametrize("metric", ["ces7", "ces5", "nps", "csat5", "ease0_10"])
def test_p_value_is_below_005_exactly_when_compare_is_significant(metric: str) -> None:
    m = get_metric(metric)
    rng = random.Random(metric)
    for _ in range(300):
        a = score(metric, [rng.randint(m.min, m.max) for _ in range(rng.randint(2, 60))])
        shift = rng.random()
        b = score(metric, [min(m.max, rng.randint(m.min, m.max) + (rng.random() < shift)) for _ in range(rng.randint(2, 60))])
        p = compare_p_value(a, b)
        assert p is not None and 0 <= p <= 1
        assert compare(a, b).significant == (p < 0.05), (a.distribution, b.distribution, p)


def test_p_value_of_a_share_difference_matches_the_normal_test_at_large_n() -> None:
    # 600/1000 against 500/1000: the two-proportion z-test gives z ≈ 4.49, p ≈ 7e-6.
    a = score("ces7", [7] * 600 + [1] * 400)
    b = score("ces7", [7] * 500 + [1] * 500)
    p = compare_p_value(a, b)
    pooled = 0.55
    z = 0.1 / math.sqrt(pooled * (1 - pooled) * 2 / 1000)
    assert p == pytest.approx(math.erfc(z / math.sqrt(2)), rel=0.25)


def test_benjamini_hochberg_by_hand() -> None:
    # m = 5: q = min over j ≥ i of 5 p_(j) / j.
    p = [0.01, 0.04, 0.03, 0.005, 0.5]
    # sorted: 0.005 (1), 0.01 (2), 0.03 (3), 0.04 (4), 0.5 (5) → 0.025, 0.025, 0.05, 0.05, 0.5
    assert benjamini_hochberg(p) == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.5])
    assert benjamini_hochberg([]) == []
    assert benjamini_hochberg([0.9, 0.95]) == pytest.approx([0.95, 0.95])


def test_ranking_controls_false_findings_in_simulation() -> None:
    """200 seeded surveys of 20 null properties: in at most ~5 % of them any finding appears
    (the false discovery rate under the complete null equals the family-wise error)."""
    rng = random.Random(1)
    with_findings = 0
    for _ in range(200):
        counts: dict = {}
        for k in range(20):
            by_value: dict = {}
            for _ in range(300):
                value = ("text", "abc"[rng.randrange(3)])
                s = rng.choice((5, 6, 7)) if rng.random() < 0.6 else rng.choice((1, 2, 3))
                by_value.setdefault(value, {}).setdefault(s, 0)
                by_value[value][s] += 1
            counts[("event", f"k{k}")] = by_value
        ranked = rank_properties("ces7", counts)
        with_findings += any(p.findings for p in ranked)
    assert with_findings <= 0.08 * 200, with_findings


def test_identifiers_are_left_out_of_the_ranking_and_real_drivers_kept() -> None:
    rng = random.Random(3)
    emails: dict = {}
    channel: dict = {}
    few: dict = {}
    for i in range(200):
        s = rng.choice((1, 2, 6, 7))
        emails.setdefault(("text", f"c{i}@example.com"), {}).setdefault(s, 0)
        emails[("text", f"c{i}@example.com")][s] += 1
        c = ("text", "phone") if s < 4 else ("text", "chat")  # a real driver
        channel.setdefault(c, {}).setdefault(s, 0)
        channel[c][s] += 1
    for i in range(5):  # a few answers, each its own value: too few to call an identifier
        few[("text", f"v{i}")] = {6: 1}
    ranked = {p.key for p in rank_properties("ces7", {("trait", "email"): emails, ("event", "channel"): channel,
                                                      ("trait", "plan"): few})}
    assert ranked == {"channel", "plan"}


def _period(rng: random.Random, p: float, n: int) -> list[int]:
    return [rng.choice((5, 6, 7)) if rng.random() < p else rng.choice((1, 2, 3, 4)) for _ in range(n)]


def test_score_drop_fires_on_planted_drops_and_rarely_on_noise() -> None:
    """Seeded simulation: 400 pairs of periods of pure noise (60 % easy both times) and 400 with
    a drop from 70 % to 50 %, 200 answers each."""
    rng = random.Random(42)
    false_alarms = sum(score_alerts.dropped(score("ces7", _period(rng, 0.6, 200)),
                                            score("ces7", _period(rng, 0.6, 200)), 30) is not None
                       for _ in range(400))
    detected = sum(score_alerts.dropped(score("ces7", _period(rng, 0.7, 200)),
                                        score("ces7", _period(rng, 0.5, 200)), 30) is not None
                   for _ in range(400))
    # One-sided at the 95 % interval: ~2.5 % of noise periods fall "significantly".
    assert false_alarms <= 0.05 * 400, false_alarms
    assert detected >= 0.95 * 400, detected


def test_score_drop_needs_min_n_and_a_fall() -> None:
    low, high = score("ces7", [1] * 40), score("ces7", [7] * 40)
    assert score_alerts.dropped(high, low, 30) is not None
    assert score_alerts.dropped(low, high, 30) is None  # a rise
    assert score_alerts.dropped(high, low, 41) is None  # too few answers
    assert score_alerts.dropped(score("nps", [10] * 50), score("nps", [0] * 50), 30) is not None


def test_periods() -> None:
    # Tuesday 2026-12-01 10:00 UTC.
    now = datetime(2026, 12, 1, 10, tzinfo=timezone.utc).timestamp()
    day = 86400
    p = score_alerts.drop_periods(now, "UTC", 7)
    assert p.end == datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()
    assert (p.end - p.start, p.start - p.previous_start) == (7 * day, 7 * day)
    daily = score_alerts.digest_periods(now, "UTC", score_alerts.DigestSettings("daily", 9))
    assert daily.end == p.end and daily.start == p.end - day
    early = score_alerts.digest_periods(now, "UTC", score_alerts.DigestSettings("daily", 11))
    assert early.end == p.end - day  # not due yet today: yesterday's digest is the due one
    weekly = score_alerts.digest_periods(now, "UTC", score_alerts.DigestSettings("weekly", 9, 1))
    assert weekly.end == datetime(2026, 11, 30, tzinfo=timezone.utc).timestamp()  # the Monday
    assert weekly.end - weekly.start == 7 * day
    assert score_alerts.digest_periods(now, "UTC", score_alerts.DigestSettings("off")) is None
    paris = score_alerts.drop_periods(now, "Europe/Paris", 1)
    assert paris.end == datetime(2026, 11, 30, 23, tzinfo=timezone.utc).timestamp()


def test_correlations_and_fisher_intervals() -> None:
    xs = [1, 2, 3, 4, 5, 6, 7]
    assert divergence.pearson(xs, [2 * x for x in xs]).r == pytest.approx(1.0)
    assert divergence.spearman(xs, [x ** 3 for x in xs]).r == pytest.approx(1.0)
    assert divergence.pearson(xs, [5] * 7) is None  # no spread
    assert divergence.pearson([1, 2, 3], [1, 2, 3]) is None  # under 4 pairs
    # r = 0.5 on 28 pairs: atanh(0.5) ± 1.96/5, back through tanh.
    c = divergence._fisher(0.5, 28, 1.0)
    assert (c.low, c.high) == pytest.approx((math.tanh(math.atanh(0.5) - 1.959964 / 5),
                                             math.tanh(math.atanh(0.5) + 1.959964 / 5)), abs=1e-6)
    assert divergence.ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4]


def test_share_by_effort_uses_wilson_and_newcombe() -> None:
    ces7 = get_metric("ces7")
    pairs = [(7, True)] * 40 + [(7, False)] * 10 + [(1, True)] * 5 + [(1, False)] * 25 + [(4, True)] * 9
    out = divergence.share_by_effort(ces7, pairs)
    assert out["low_effort"]["n"] == 50 and out["low_effort"]["share"] == 80.0
    low, high = wilson_interval(40, 50)
    assert out["low_effort"]["ci"] == {"low": round(100 * low, 2), "high": round(100 * high, 2)}
    d, ci = share_difference(5, 30, 40, 50)
    assert out["difference"] == round(d, 2) and out["significant"] and ci.low > 0


def test_flatten_matches_what_json_paths_see() -> None:
    rows = {r[0]: r[1:] for r in flatten({"a": 1, "b": "x", "c": True, "d": None, "e": {"f": {"g": {"h": 1}}},
                                          "arr": [1], "bad key": 1, "dot.ted": 2, "big": 1.5})}
    assert rows["a"] == ("number", 1.0, None) and rows["b"] == ("text", None, "x")
    assert rows["c"] == ("bool", 1.0, None) and rows["d"] == ("null", None, None)
    assert rows["e"][0] == rows["e.f"][0] == rows["e.f.g"][0] == "object"
    assert "e.f.g.h" not in rows  # depth 3 at most, as filter paths
    assert rows["arr"][0] == "array" and "dot.ted" not in rows
    assert rows["bad key"][0] == "number"  # no filter can name it, but the ranking shows it, as the rollups
    assert flatten(None) == [] and flatten([1, 2]) == []

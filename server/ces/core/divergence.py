"""Scores that diverge, and whether effort predicts loyalty, on pairs of one customer's answers to
two surveys (e.g. CES and NPS). Pure: no SQL.

* Cross table: the first metric's groups (negative · neutral · positive answers, as
  core/metrics.py defines them: high effort · neutral · low effort for a CES) against the
  second's (detractors · passives · promoters for NPS), and the full point-by-point table.
* Correlations, each with its 95 % interval through Fisher's z = atanh(r):
  Pearson r with se = 1 / sqrt(n - 3); Spearman's rho (Pearson on mid-ranks, ties averaged) with
  se = sqrt(1.06 / (n - 3)) (Fieller, Hartley & Pearson 1957). None under 4 pairs, or when either
  side has no spread.
* Who answered very differently: both answers placed on [0, 1] of their scale (higher is
  better on every metric here); a pair is divergent when the two positions differ by at least
  `threshold` (default 0.5: half a scale apart, e.g. CES 7 "very easy" with NPS 2).
* Loyalty: the share of the second metric's positive answers (promoters) among the first's
  positive (low effort) versus negative (high effort) answers, each with its Wilson interval,
  and the difference with Newcombe's interval (`scoring.share_difference`).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .metrics import Metric
from .scoring import Z, share_difference, wilson_interval

MIN_PAIRS = 4
DEFAULT_THRESHOLD = 0.5
SPEARMAN_VAR = 1.06


def group_of(m: Metric, value: int) -> str:
    if value in m.positive:
        return "positive"
    if value in m.negative:
        return "negative"
    return "neutral"


GROUPS = ("negative", "neutral", "positive")


def position(m: Metric, value: int) -> float:
    """The answer's place on its scale, 0 (lowest) to 1 (highest)."""
    return (value - m.min) / (m.max - m.min)


@dataclass(frozen=True)
class Correlation:
    r: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {"r": round(self.r, 4), "ci": {"low": round(self.low, 4), "high": round(self.high, 4)}, "n": self.n}


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def ranks(values: Sequence[float]) -> list[float]:
    """Mid-ranks from 1: ties get the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mid = (i + j) / 2 + 1
        for k in range(i, j + 1):
            out[order[k]] = mid
        i = j + 1
    return out


def _fisher(r: float, n: int, var: float) -> Correlation:
    if abs(r) >= 1:
        return Correlation(r, r, r, n)
    z = math.atanh(r)
    half = Z * math.sqrt(var / (n - 3))
    return Correlation(r, math.tanh(z - half), math.tanh(z + half), n)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> Correlation | None:
    if len(xs) < MIN_PAIRS:
        return None
    r = _pearson(xs, ys)
    return None if r is None else _fisher(r, len(xs), 1.0)


def spearman(xs: Sequence[float], ys: Sequence[float]) -> Correlation | None:
    if len(xs) < MIN_PAIRS:
        return None
    r = _pearson(ranks(xs), ranks(ys))
    return None if r is None else _fisher(r, len(xs), SPEARMAN_VAR)


def _share(successes: int, n: int) -> dict[str, Any]:
    if n == 0:
        return {"n": 0, "count": 0, "share": None, "ci": None}
    low, high = wilson_interval(successes, n)
    return {"n": n, "count": successes, "share": round(100 * successes / n, 2),
            "ci": {"low": round(100 * low, 2), "high": round(100 * high, 2)}}


def share_by_effort(effort: Metric, pairs: Sequence[tuple[int, bool]]) -> dict[str, Any]:
    """Share of `True` (a promoter, a repeat purchase) among low- vs high-effort answers of `effort`."""
    low = [ok for value, ok in pairs if value in effort.positive]
    high = [ok for value, ok in pairs if value in effort.negative]
    out: dict[str, Any] = {"low_effort": _share(sum(low), len(low)), "high_effort": _share(sum(high), len(high)),
                           "difference": None, "difference_ci": None, "significant": False}
    if low and high:
        d, ci = share_difference(sum(high), len(high), sum(low), len(low))  # low minus high
        out.update(difference=round(d, 2), difference_ci=ci.as_dict(), significant=ci.excludes_zero())
    return out


def cross_table(a: Metric, b: Metric, pairs: Sequence[tuple[int, int]]) -> dict[str, Any]:
    groups = {ga: {gb: 0 for gb in GROUPS} for ga in GROUPS}
    points: dict[str, dict[str, int]] = {str(p): {str(q): 0 for q in b.points} for p in a.points}
    for x, y in pairs:
        groups[group_of(a, x)][group_of(b, y)] += 1
        points[str(x)][str(y)] += 1
    return {"groups": groups, "points": points}

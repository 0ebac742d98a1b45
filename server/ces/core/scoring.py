"""Headline scores, means and their 95 % confidence intervals.

Pure functions: no Flask, no database. `score()` takes raw answers,
`score_from_distribution()` takes per-point counts (what a SQL GROUP BY gives);
both go through the same code so they return equal `Score` objects.

Only answers enter a score: a dismissed, expired or unseen prompt is not a
respondent and must never be passed in.

Headlines (percentages), using each metric's positive/negative sets
(see metrics.py):

* "share" metrics (CES 2.0, CSAT, VES): 100 * #positive / n, in [0, 100].
* "net" metrics (5-point net effort, NPS): 100 * (#positive - #negative) / n,
  in [-100, 100].
* "mean" metrics (the numeric ease ratings 0-10 and 1-10): the mean answer, sum of
  the answers / n, on the scale itself (not a percentage); its interval is the
  mean's t-interval below.

Confidence intervals, all at 95 %:

* Share: Wilson score interval (no continuity correction). Well behaved at
  p = 0 or 1 and for small n, unlike the Wald interval.
* Net: the net score d = p+ - p- is a difference of two shares of the same
  multinomial sample, so var(d) = (p+ + p- - d^2) / n; normal (Wald) interval
  d +- z * sqrt(var), clipped to [-100, 100]. When every answer falls in a
  single group (all positive, all negative or all in between) that variance
  is 0 and Wald would give a zero-width interval, which overstates certainty;
  we then bound d with the Wilson interval of the group that got every answer
  (w = wilson_low(n, n), v = wilson_high(0, n)). All positive: p+ >= w and at
  worst the rest is negative, so d in [2w - 1, 1]; all negative: [-1, 1 - 2w];
  none positive nor negative: p+ and p- are both at most v, so d in [-v, v].
* Mean: Student t-interval mean +- t(0.975, n-1) * s / sqrt(n), clipped to
  the scale. The t quantile is computed exactly here (regularized incomplete
  beta + bisection), so scipy is not needed at run time. None when n < 2.

Comparisons (`compare(a, b)`: b minus a, e.g. this period minus last), for two
independent samples of the same metric: MOVER (method of variance estimates
recovery, Newcombe 1998 / Zou & Donner 2008) built from each score's own
interval:

    low  = d - sqrt((b - b_low)^2 + (a_high - a)^2)
    high = d + sqrt((b_high - b)^2 + (a - a_low)^2)

For shares this is exactly Newcombe's hybrid score interval (method 10) from
the two Wilson intervals. For net scores the intervals are symmetric Wald
intervals (taken before clipping), so it reduces to d +- z * sqrt(var_a +
var_b), the sum of both variances; the degenerate fallback above keeps it
from claiming significance on a handful of identical answers. The difference
is significant when its interval excludes 0.

Mean metrics compare by Welch's t-interval for a difference of two means:
d = mean_b - mean_a, se = sqrt(s_a^2/n_a + s_b^2/n_b), with the Welch-Satterthwaite
degrees of freedom; the whole possible range (not significant) when either side has
a single answer. The headline interval of a single answer is the whole scale. When both
variances are 0 (every answer identical on both sides) t is undefined and the
interval is the whole possible range, never "significant" on identical answers.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from .metrics import Metric, get_metric

CONFIDENCE = 0.95
# Two-sided 95 % standard normal quantile, norm.ppf(0.975).
Z = 1.959963984540054
LOW_SAMPLE = 30


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict:
        return {"low": _round(self.low), "high": _round(self.high)}


@dataclass(frozen=True)
class Score:
    metric: str
    n: int
    mean: float | None
    mean_ci: Interval | None
    headline_name: str
    headline: float | None
    headline_ci: Interval | None
    distribution: dict[int, int]
    low_sample: bool

    def as_dict(self) -> dict:
        return {
            "metric": self.metric,
            "n": self.n,
            "mean": _round(self.mean),
            "mean_ci": _interval_dict(self.mean_ci),
            "headline_name": self.headline_name,
            "headline": _round(self.headline),
            "headline_ci": _interval_dict(self.headline_ci),
            "distribution": {str(k): v for k, v in self.distribution.items()},
            "low_sample": self.low_sample,
        }


@dataclass(frozen=True)
class Difference:
    headline_name: str
    a: float | None
    b: float | None
    difference: float | None
    ci: Interval | None
    significant: bool
    n_a: int
    n_b: int

    def as_dict(self) -> dict:
        return {
            "headline_name": self.headline_name,
            "a": _round(self.a),
            "b": _round(self.b),
            "difference": _round(self.difference),
            "ci": _interval_dict(self.ci),
            "significant": self.significant,
            "n_a": self.n_a,
            "n_b": self.n_b,
        }


# --------------------------------------------------------------------------
# Public API


def score(metric: str, values: Iterable[int]) -> Score:
    """Score raw answers; ValueError for an unknown metric or an off-scale value."""
    m = _metric(metric)
    counts = dict.fromkeys(m.points, 0)
    for value in values:
        if not m.in_scale(value):
            raise ValueError(f"{value!r} is not an answer on the {m.key} scale {m.min}..{m.max}")
        counts[value] += 1
    return _score_counts(m, counts)


def score_from_distribution(metric: str, counts: Mapping[int, int]) -> Score:
    """Score per-point counts; equal to `score()` on the same answers."""
    m = _metric(metric)
    full = dict.fromkeys(m.points, 0)
    for point, count in counts.items():
        if not m.in_scale(point):
            raise ValueError(f"{point!r} is not a point on the {m.key} scale {m.min}..{m.max}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"count for {point} must be a non-negative integer, got {count!r}")
        full[point] += count
    return _score_counts(m, full)


def compare(a: Score, b: Score) -> Difference:
    """Headline of b minus headline of a, with a 95 % MOVER interval."""
    if a.metric != b.metric:
        raise ValueError(f"cannot compare {a.metric} with {b.metric}")
    m = _metric(a.metric)
    if a.n == 0 or b.n == 0:
        return Difference(m.headline_name, a.headline, b.headline, None, None, False, a.n, b.n)
    if m.headline_kind == "mean":
        return _compare_means(m, a, b)
    d, low, high = _mover(_headline_estimate(m, a.distribution), _headline_estimate(m, b.distribution))
    # A difference of shares lies in [-1, 1], of net scores in [-2, 2].
    bound = 1.0 if m.headline_kind == "share" else 2.0
    ci = Interval(100 * max(low, -bound), 100 * min(high, bound))
    return Difference(
        headline_name=m.headline_name,
        a=a.headline,
        b=b.headline,
        difference=100 * d,
        ci=ci,
        significant=ci.excludes_zero(),
        n_a=a.n,
        n_b=b.n,
    )


def compare_p_value(a: Score, b: Score) -> float | None:
    """Two-sided p-value of `compare(a, b)`: the smallest 1 - confidence at which its interval
    excludes 0 (None when a side has no answer).

    The same intervals, inverted: for means, Welch's t statistic against Student's t
    (p = I_{df/(df+t^2)}(df/2, 1/2)); for shares and net scores, the MOVER interval is widened
    (z grows) until it reaches 0, by bisection, and p = P(|N(0,1)| > z). So `p < 0.05` exactly
    when `compare(a, b).significant`, and a correction for many tests (core/driver_ranking.py)
    adjusts the very test the report shows.
    """
    if a.metric != b.metric:
        raise ValueError(f"cannot compare {a.metric} with {b.metric}")
    m = _metric(a.metric)
    if a.n == 0 or b.n == 0:
        return None
    if m.headline_kind == "mean":
        if a.n < 2 or b.n < 2:
            return 1.0
        va, vb = _variance(a.distribution, a.n) / a.n, _variance(b.distribution, b.n) / b.n
        if va + vb <= 0:
            return 1.0  # no spread on either side: never "significant" (as compare())
        t = (b.mean - a.mean) / math.sqrt(va + vb)  # type: ignore[operator]
        df = (va + vb) ** 2 / (va * va / (a.n - 1) + vb * vb / (b.n - 1))
        return min(1.0, _betainc(df / 2, 0.5, df / (df + t * t)))

    def excludes(z: float) -> bool:
        _, low, high = _mover(_headline_estimate(m, a.distribution, z), _headline_estimate(m, b.distribution, z))
        return low > 0 or high < 0

    if not excludes(1e-9):
        return 1.0
    lo, hi = 1e-9, 40.0
    if excludes(hi):
        return 0.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if excludes(mid):
            lo = mid
        else:
            hi = mid
    return math.erfc(lo / math.sqrt(2))


def share_difference(successes_a: int, n_a: int, successes_b: int, n_b: int) -> tuple[float, Interval]:
    """b's share minus a's (in percentage points) with its 95 % interval: Newcombe's hybrid
    score interval from the two Wilson intervals, as `compare()` uses for share metrics."""
    if n_a <= 0 or n_b <= 0:
        raise ValueError("both sides need at least one answer")
    pa, pb = successes_a / n_a, successes_b / n_b
    d, low, high = _mover((pa, *wilson_interval(successes_a, n_a)), (pb, *wilson_interval(successes_b, n_b)))
    return 100 * d, Interval(100 * max(low, -1.0), 100 * min(high, 1.0))


def wilson_interval(successes: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion, as fractions in [0, 1]."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """Quantile of Student's t with `df` degrees of freedom (exact to ~1e-12).

    From df = 1000 on, the Cornish–Fisher expansion (below). Otherwise Newton's method on the t
    distribution function from the normal quantile (a handful of steps: a ranking scores hundreds
    of groups of different sizes, and each needs its own quantile); when a step leaves the
    bracket or does not settle, bisection as below.

    Bisection: inverts P(|T| <= t) = I_y(1/2, df/2) with y = t^2 / (df + t^2), on y (I is
    increasing in y).
    """
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if df <= 0:
        raise ValueError("df must be positive")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    if df >= 1000:
        return _t_quantile_large_df(p, df)
    newton = _t_quantile_newton(p, df)
    if newton is not None:
        return newton
    return _t_quantile_bisect(p, df)


def _t_quantile_large_df(p: float, df: float) -> float:
    """Cornish–Fisher expansion of t in 1/df around the normal quantile (Abramowitz & Stegun
    26.7.5, four terms): its error is below 1e-12 from df = 1000 on, where the incomplete beta's
    continued fraction would need thousands of steps per call."""
    from statistics import NormalDist
    z = NormalDist().inv_cdf(p)
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4


def _t_upper(t: float, df: float) -> float:
    """P(T > t) for t >= 0: half of I_{df/(df+t^2)}(df/2, 1/2)."""
    return 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))


def _t_quantile_newton(p: float, df: float) -> float | None:
    from statistics import NormalDist
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    t = NormalDist().inv_cdf(p)
    step = math.inf
    for _ in range(30):
        f = math.exp(log_c - (df + 1) / 2 * math.log1p(t * t / df))
        step = ((1 - _t_upper(t, df)) - p) / f
        t_next = t - step
        if not math.isfinite(t_next) or t_next <= 0:
            return None
        t = t_next
        if abs(step) <= 1e-13 * max(1.0, t):
            return t
    # At very large df the distribution function's own rounding (~1e-15 in p) keeps the last
    # steps from shrinking further: a step that small is already the answer to ~1e-11.
    return t if abs(step) <= 1e-11 * max(1.0, t) else None


def _t_quantile_bisect(p: float, df: float) -> float:
    target = 2 * p - 1
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if _betainc(0.5, df / 2, mid) < target:
            lo = mid
        else:
            hi = mid
    y = (lo + hi) / 2
    return math.sqrt(df * y / (1 - y))


# --------------------------------------------------------------------------
# Internals


def _metric(key: str) -> Metric:
    try:
        return get_metric(key)
    except KeyError:
        raise ValueError(f"unknown metric {key!r}") from None


def _score_counts(m: Metric, counts: dict[int, int]) -> Score:
    n = sum(counts.values())
    mean, mean_ci = _mean_and_ci(m, counts, n)
    headline = headline_ci = None
    if m.headline_kind == "mean":
        headline, headline_ci = mean, mean_ci
        if n == 1:  # one answer says nothing about the spread: the mean may be anywhere on the scale
            headline_ci = Interval(float(m.min), float(m.max))
    elif n:
        _, low, high = _headline_estimate(m, counts)
        headline = _percent_headline(m, counts, n)
        headline_ci = Interval(100 * max(low, -1.0), 100 * min(high, 1.0))
    return Score(
        metric=m.key,
        n=n,
        mean=mean,
        mean_ci=mean_ci,
        headline_name=m.headline_name,
        headline=headline,
        headline_ci=headline_ci,
        distribution=counts,
        low_sample=n < LOW_SAMPLE,
    )


def _group_counts(m: Metric, counts: Mapping[int, int]) -> tuple[int, int, int]:
    pos = sum(c for k, c in counts.items() if k in m.positive)
    neg = sum(c for k, c in counts.items() if k in m.negative)
    return pos, neg, sum(counts.values())


def _percent_headline(m: Metric, counts: Mapping[int, int], n: int) -> float:
    # Integer numerator first so the seed's 30/50/20 example gives exactly 10.0.
    pos, neg, _ = _group_counts(m, counts)
    numerator = pos if m.headline_kind == "share" else pos - neg
    return 100 * numerator / n


def _mover(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float, float]:
    """b - a from two (estimate, low, high) estimates: the MOVER interval (module docstring)."""
    pa, la, ua = a
    pb, lb, ub = b
    d = pb - pa
    return d, d - math.hypot(pb - lb, ua - pa), d + math.hypot(ub - pb, pa - la)


def _headline_estimate(m: Metric, counts: Mapping[int, int], z: float = Z) -> tuple[float, float, float]:
    """(estimate, low, high) as fractions; net intervals are not yet clipped."""
    pos, neg, n = _group_counts(m, counts)
    if m.headline_kind == "share":
        low, high = wilson_interval(pos, n, z)
        return pos / n, low, high
    if m.headline_kind == "net":
        return _net_interval(pos, neg, n, z)
    raise ValueError(f"unknown headline kind {m.headline_kind!r}")


def _net_interval(pos: int, neg: int, n: int, z: float = Z) -> tuple[float, float, float]:
    p_pos, p_neg = pos / n, neg / n
    d = p_pos - p_neg
    # Multinomial variance of p+ - p-; max() guards tiny negative rounding.
    var = max(0.0, (p_pos + p_neg - d * d) / n)
    if var > 0:
        half = z * math.sqrt(var)
        return d, d - half, d + half
    # Every answer in one group: Wald would claim certainty (see docstring).
    # The unseen share may be all of the other sign: d >= p+ - (1 - p+).
    if pos == n:
        return d, 2 * wilson_interval(n, n, z)[0] - 1, 1.0
    if neg == n:
        return d, -1.0, 1 - 2 * wilson_interval(n, n, z)[0]
    bound = wilson_interval(0, n, z)[1]
    return d, -bound, bound


def _mean_and_ci(m: Metric, counts: Mapping[int, int], n: int) -> tuple[float | None, Interval | None]:
    if n == 0:
        return None, None
    total = sum(k * c for k, c in counts.items())
    mean = total / n
    if n < 2:
        return mean, None
    # Exact integer numerator: no cancellation, never negative.
    sum_sq = sum(k * k * c for k, c in counts.items())
    var = (n * sum_sq - total * total) / (n * (n - 1))
    half = t_quantile((1 + CONFIDENCE) / 2, n - 1) * math.sqrt(var / n)
    return mean, Interval(max(float(m.min), mean - half), min(float(m.max), mean + half))


def _variance(counts: Mapping[int, int], n: int) -> float:
    total = sum(k * c for k, c in counts.items())
    sum_sq = sum(k * k * c for k, c in counts.items())
    return (n * sum_sq - total * total) / (n * (n - 1))


def _compare_means(m: Metric, a: Score, b: Score) -> Difference:
    """b's mean minus a's, with Welch's 95 % t-interval (see the module docstring)."""
    d = b.mean - a.mean  # type: ignore[operator]
    span = float(m.max - m.min)
    ci = Interval(-span, span)  # a side with one answer: the difference may be anything
    if a.n >= 2 and b.n >= 2:
        va, vb = _variance(a.distribution, a.n) / a.n, _variance(b.distribution, b.n) / b.n
        se = math.sqrt(va + vb)
        if se > 0:  # no spread on either side: t is undefined, keep "anything" rather than certainty
            df = (va + vb) ** 2 / (va * va / (a.n - 1) + vb * vb / (b.n - 1))
            half = t_quantile((1 + CONFIDENCE) / 2, df) * se
            ci = Interval(max(d - half, -span), min(d + half, span))
    return Difference(headline_name=m.headline_name, a=a.mean, b=b.mean, difference=d, ci=ci,
                      significant=ci.excludes_zero(), n_a=a.n, n_b=b.n)


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b) (Numerical Recipes, Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
        + a * math.log(x) + b * math.log1p(-x)
    )
    # The continued fraction converges fast only left of the mean; use symmetry.
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1 - x) / b


def _betacf(a: float, b: float, x: float) -> float:
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1, a - 1
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for i in range(1, 100_000):
        i2 = 2 * i
        for aa in (
            i * (b - i) * x / ((qam + i2) * (a + i2)),
            -(a + i) * (qab + i) * x / ((a + i2) * (qap + i2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _interval_dict(i: Interval | None) -> dict | None:
    return None if i is None else i.as_dict()

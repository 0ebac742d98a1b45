"""Has a theme grown? Its high-effort count this period against the previous one, for `theme.grown`.

Pure. The test is the exact conditional test of two Poisson counts (Przyborowski & Wilenski
1940): given k = k_now + k_before high-effort comments in the theme over both periods, and the
answers of each period as the exposure (e_now, e_before), under "no change in the rate" k_now is
Binomial(k, e_now / (e_now + e_before)). The one-sided p-value is P(X ≥ k_now). So a theme that
grows only because twice as many people answered does not count as grown; one whose share of
the answers rises does.

Several themes are tested at once: each p-value is compared with alpha / (number of themes
tested) (Bonferroni), so one check of eight themes raises a false alarm at most `alpha` of the
time; and a theme must have at least `min_count` high-effort comments now and have grown by
`min_ratio` in rate, so a rise from 1 to 4 on a thousand answers is not an alert.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

ALPHA = 0.05
MIN_COUNT = 5
MIN_RATIO = 1.5


@dataclass(frozen=True)
class Growth:
    now: int
    before: int
    exposure_now: int
    exposure_before: int
    p_value: float
    rate_ratio: float | None      # (now / exposure_now) / (before / exposure_before); None when before is 0
    significant: bool

    def as_dict(self) -> dict:
        return {"high_effort_now": self.now, "high_effort_before": self.before,
                "answers_now": self.exposure_now, "answers_before": self.exposure_before,
                "p_value": round(self.p_value, 6),
                "rate_ratio": None if self.rate_ratio is None else round(self.rate_ratio, 3),
                "significant": self.significant}


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), summed in log space (exact for any n)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq
            for i in range(k, n + 1)]
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(x - top) for x in logs))


def growth(now: int, before: int, exposure_now: int, exposure_before: int, tests: int = 1,
           alpha: float = ALPHA, min_count: int = MIN_COUNT, min_ratio: float = MIN_RATIO) -> Growth:
    """Did the count rise significantly against the previous period (see the module docstring)?"""
    for name, value in (("now", now), ("before", before), ("exposure_now", exposure_now),
                        ("exposure_before", exposure_before)):
        if value < 0:
            raise ValueError(f"{name} must not be negative")
    if tests < 1:
        raise ValueError("tests must be at least 1")
    if exposure_now == 0 or exposure_before == 0:
        return Growth(now, before, exposure_now, exposure_before, 1.0, None, False)
    share = exposure_now / (exposure_now + exposure_before)
    p = binomial_upper_tail(now, now + before, share)
    ratio = None if before == 0 else (now / exposure_now) / (before / exposure_before)
    big_enough = now >= min_count and (ratio is None or ratio >= min_ratio)
    return Growth(now, before, exposure_now, exposure_before, p, ratio, big_enough and p < alpha / tests)

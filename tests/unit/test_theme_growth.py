"""The theme.grown test (core/theme_growth.py): exact, exposure-adjusted, Bonferroni over themes;
checked on seeded simulations against scipy's binomial."""
from __future__ import annotations

import random

import pytest
from scipy.stats import binom

from ces.core.theme_growth import binomial_upper_tail, growth


@pytest.mark.parametrize("k, n, p", [(0, 10, 0.5), (3, 5, 0.5), (40, 50, 0.5), (7, 300, 0.01), (120, 400, 0.25),
                                     (11, 10, 0.5)])
def test_upper_tail_is_the_binomial_survival_function(k: int, n: int, p: float) -> None:
    assert binomial_upper_tail(k, n, p) == pytest.approx(binom.sf(k - 1, n, p), rel=1e-9, abs=1e-300)


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method is enough for the small rates here.
    import math
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def test_a_planted_rise_fires_and_noise_does_not() -> None:
    rng = random.Random(15)
    themes = 8
    false_alarms = detected = 0
    for _ in range(300):
        # Noise: every theme keeps its rate (12 high-effort comments a period on 400 answers). A
        # check with any theme flagged is a false alarm: Bonferroni keeps that under 5 % of checks.
        if any(growth(_poisson(rng, 12), _poisson(rng, 12), 400, 400, tests=themes).significant
               for _theme in range(themes)):
            false_alarms += 1
        # A planted rise: one theme goes from 10 to 40 a period.
        if growth(_poisson(rng, 40), _poisson(rng, 10), 400, 400, tests=themes).significant:
            detected += 1
    assert false_alarms <= 15         # ≤ 5 % of 300 checks of 8 themes
    assert detected >= 270            # ≥ 90 % of the planted rises (a four-fold rise)


def test_more_answers_is_not_growth() -> None:
    # Twice the answers, twice the complaints: the share did not move.
    assert not growth(40, 20, 800, 400).significant
    # The same count on half the answers is a rise of the share.
    assert growth(40, 20, 400, 800).significant


def test_small_counts_and_small_ratios_never_fire() -> None:
    assert not growth(4, 0, 100, 100).significant                 # under min_count
    assert not growth(300, 250, 10_000, 10_000).significant        # significant, but 1.2×
    assert growth(300, 150, 10_000, 10_000).significant
    assert not growth(9, 0, 100, 0).significant                    # no previous period


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        growth(-1, 0, 10, 10)
    with pytest.raises(ValueError):
        growth(1, 0, 10, 10, tests=0)

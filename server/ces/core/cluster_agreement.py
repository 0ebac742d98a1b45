"""How well a grouping matches known groups: the adjusted Rand index (Hubert & Arabie 1985).

ARI = (Σ_ij C(n_ij, 2) − E) / (½ (Σ_i C(a_i, 2) + Σ_j C(b_j, 2)) − E), E = Σ_i C(a_i, 2) Σ_j C(b_j, 2) / C(n, 2),
over the contingency table n_ij of the two labelings (a_i, b_j its row and column sums). 1 for the
same partition (whatever the names), about 0 for a random one; it can be negative. Used by the
themes' tests and benchmark (pure, so no scikit-learn is needed to measure).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def _pairs(k: int) -> int:
    return k * (k - 1) // 2


def adjusted_rand_index(truth: Sequence[Hashable], found: Sequence[Hashable]) -> float:
    if len(truth) != len(found):
        raise ValueError("the two labelings must have the same length")
    n = len(truth)
    if n < 2:
        return 1.0
    table = Counter(zip(truth, found))
    index = sum(_pairs(c) for c in table.values())
    rows = sum(_pairs(c) for c in Counter(truth).values())
    cols = sum(_pairs(c) for c in Counter(found).values())
    expected = rows * cols / _pairs(n)
    maximum = (rows + cols) / 2
    if maximum == expected:  # both labelings put everything in one group, or each item alone
        return 1.0
    return (index - expected) / (maximum - expected)

"""Effort drivers: which value of an operational property goes with lower scores.

Pure functions, no SQL. Numeric properties are grouped into buckets given by ascending lower
bounds: the default `DEFAULT_BOUNDS` are data-independent "count-like" buckets (0, 1, 2, 3-4,
5-9, 10-19, 20-49, ...), so the same value always lands in the same bucket, whatever the filter
or the period, and buckets can be rolled up ahead of time. Values below the first bound form a
`<first` bucket.

Ranking: each value (or bucket) is compared with *the rest* (every other answer that carries the
property) with `scoring.compare(rest, value)`, i.e. value minus rest with its 95 % interval;
the rows are sorted by that difference, most negative (most effort) first. Values with no
difference (no answers on one side) go last.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .scoring import Score, compare, score_from_distribution

DEFAULT_BOUNDS: tuple[float, ...] = (0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)
MAX_BUCKETS = 50


def check_bounds(bounds: Sequence[float]) -> tuple[float, ...]:
    """Validated, strictly ascending finite bounds; ValueError otherwise."""
    if not 1 <= len(bounds) <= MAX_BUCKETS:
        raise ValueError(f"give 1 to {MAX_BUCKETS} bucket bounds")
    out = tuple(float(b) if not float(b).is_integer() else int(b) for b in bounds)
    if any(not math.isfinite(b) for b in out):
        raise ValueError("bucket bounds must be finite numbers")
    if any(b >= c for b, c in zip(out, out[1:])):
        raise ValueError("bucket bounds must be strictly ascending")
    return out


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def bucket_labels(bounds: Sequence[float]) -> list[tuple[str, float | None, float | None]]:
    """(label, low inclusive, high exclusive) per bucket, in order, the `<first` bucket first."""
    out: list[tuple[str, float | None, float | None]] = [(f"<{_fmt(bounds[0])}", None, bounds[0])]
    for i, low in enumerate(bounds):
        high = bounds[i + 1] if i + 1 < len(bounds) else None
        if high is None:
            label = f"{_fmt(low)}+"
        elif float(low).is_integer() and float(high).is_integer() and high - low == 1:
            label = _fmt(low)
        elif float(low).is_integer() and float(high).is_integer():
            label = f"{_fmt(low)}-{_fmt(high - 1)}"
        else:
            label = f"{_fmt(low)}-<{_fmt(high)}"
        out.append((label, low, high))
    return out


def bucket_of(value: float, bounds: Sequence[float]) -> str:
    """The label of the bucket holding `value`."""
    for label, low, high in reversed(bucket_labels(bounds)):
        if low is None or value >= low:
            return label
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class DriverRow:
    value: str
    kind: str          # "number" (a bucket), "text" or "bool"
    score: Score
    rest: Score
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    significant: bool
    low: float | None = None
    high: float | None = None

    def as_dict(self) -> dict:
        out = {"value": self.value, "kind": self.kind, "n": self.score.n,
               "headline": self.score.as_dict()["headline"], "headline_ci": self.score.as_dict()["headline_ci"],
               "mean": self.score.as_dict()["mean"], "low_sample": self.score.low_sample,
               "rest_n": self.rest.n, "rest_headline": self.rest.as_dict()["headline"],
               "difference": None if self.difference is None else round(self.difference, 2),
               "difference_ci": None if self.ci_low is None else {"low": round(self.ci_low, 2),
                                                                   "high": round(self.ci_high, 2)},  # type: ignore[arg-type]
               "significant": self.significant}
        if self.kind == "number":
            out["bucket"] = {"low": self.low, "high": self.high}
        return out


def rank(metric: str, counts: Mapping[tuple[str, str], Mapping[int, int]],
         bounds: Sequence[float] = DEFAULT_BOUNDS) -> list[DriverRow]:
    """Rank values; `counts` maps (kind, value label) to per-score counts."""
    total: dict[int, int] = {}
    for dist in counts.values():
        for point, n in dist.items():
            total[point] = total.get(point, 0) + n
    edges = {label: (low, high) for label, low, high in bucket_labels(bounds)}
    rows = []
    for (kind, value), dist in counts.items():
        rest = {p: total[p] - dist.get(p, 0) for p in total}
        s, r = score_from_distribution(metric, dist), score_from_distribution(metric, rest)
        d = compare(r, s)
        low, high = edges.get(value, (None, None)) if kind == "number" else (None, None)
        rows.append(DriverRow(value, kind, s, r, d.difference, d.ci.low if d.ci else None,
                              d.ci.high if d.ci else None, d.significant, low, high))
    rows.sort(key=lambda row: (row.difference is None, row.difference if row.difference is not None else 0.0,
                               -row.score.n, row.value))
    return rows

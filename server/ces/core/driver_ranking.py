"""What drives effort, found without being asked: every event property and user trait ranked by
how much the score differs across its values. Pure: no SQL.

For each property, each value (numbers in core/drivers.py's fixed buckets) is compared with the
rest of the answers that carry the property, exactly as the report's driver section does
(`drivers.rank`: `scoring.compare(rest, value)`, value minus rest, with its 95 % interval). Each
comparison has its two-sided p-value (`scoring.compare_p_value`, the same test inverted).

Testing 20 properties of 5 values each is 100 tests: at 5 % each, about five "significant"
values would appear by chance alone. The p-values of all the values tested, across every
property at once, are therefore adjusted by Benjamini–Hochberg (false discovery rate `fdr`,
default 5 %): a value is a finding when its adjusted p-value (`q`) is at most `fdr`, so among
the findings listed, at most 5 % are expected to be noise. Values with fewer than `min_n`
answers, or whose rest has fewer, are shown but not tested (and do not count in the correction).

Identifiers are left out: a property with more than IDENTIFIER_MIN_VALUES values and about one
answer per value (an email, a name, an order number) can never be tested and only crowds the
list (in the demo, 4 of 7 traits were the contact traits the site sent).

Properties are ranked by their largest finding, |difference| in headline points (most effort
first on ties); properties without a finding follow, by their smallest adjusted p-value. Each
property also names its `most_effort` finding (the value furthest below its rest), what the
digest lists as a top driver.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from . import drivers
from .scoring import LOW_SAMPLE, compare_p_value

DEFAULT_FDR = 0.05
DEFAULT_MIN_N = LOW_SAMPLE
SOURCES = ("event", "trait")

IDENTIFIER_MIN_VALUES = 10
IDENTIFIER_ANSWERS_PER_VALUE = 2.0  # fewer answers per distinct value than this: an identifier

# (kind, value label) -> per-score counts, per (source, key)
Counts = Mapping[tuple[str, str], Mapping[tuple[str, str], Mapping[int, int]]]


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Adjusted p-values (q), in the input order: q_(i) = min over j >= i of m p_(j) / j, at most 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    out = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        out[i] = min(1.0, running)
    return out


@dataclass
class ValueResult:
    row: drivers.DriverRow
    tested: bool
    p: float | None = None
    q: float | None = None
    finding: bool = False

    def as_dict(self) -> dict:
        return {**self.row.as_dict(), "tested": self.tested,
                "p": None if self.p is None else float(f"{self.p:.4g}"),
                "q": None if self.q is None else float(f"{self.q:.4g}"), "finding": self.finding}


@dataclass
class PropertyResult:
    source: str
    key: str
    values: list[ValueResult] = field(default_factory=list)

    @property
    def findings(self) -> list[ValueResult]:
        return [v for v in self.values if v.finding]

    @property
    def effect(self) -> ValueResult | None:
        """The finding with the largest |difference|."""
        found = self.findings
        return max(found, key=lambda v: (abs(v.row.difference or 0.0), -(v.row.difference or 0.0))) if found else None

    @property
    def worst(self) -> ValueResult | None:
        """The finding with the most effort (the most negative difference), if any is below its rest."""
        below = [v for v in self.findings if (v.row.difference or 0.0) < 0]
        return min(below, key=lambda v: v.row.difference or 0.0) if below else None

    @property
    def best_q(self) -> float | None:
        qs = [v.q for v in self.values if v.q is not None]
        return min(qs) if qs else None

    def as_dict(self) -> dict:
        def brief(v: ValueResult | None) -> dict | None:
            if v is None:
                return None
            d = v.as_dict()
            out = {"value": v.row.value, "kind": v.row.kind, "difference": d["difference"],
                   "difference_ci": d["difference_ci"], "q": d["q"]}
            if "bucket" in d:  # a number's bucket: [low, high), what a filter on the value needs
                out["bucket"] = d["bucket"]
            return out

        return {"source": self.source, "key": self.key, "n": sum(v.row.score.n for v in self.values),
                "findings": len(self.findings), "effect": brief(self.effect), "most_effort": brief(self.worst),
                "best_q": None if self.best_q is None else float(f"{self.best_q:.4g}"),
                "values": [v.as_dict() for v in self.values]}


def is_identifier(by_value: Mapping[tuple[str, str], Mapping[int, int]]) -> bool:
    """Many text values, about one answer each: an email, a name, an id — never a driver."""
    texts = [sum(dist.values()) for (kind, _value), dist in by_value.items() if kind == "text"]
    if len(texts) <= IDENTIFIER_MIN_VALUES or len(texts) < len(by_value) / 2:
        return False
    return sum(texts) / len(texts) < IDENTIFIER_ANSWERS_PER_VALUE


def rank_properties(metric: str, counts: Counts, min_n: int = DEFAULT_MIN_N, fdr: float = DEFAULT_FDR,
                    bounds: Sequence[float] = drivers.DEFAULT_BOUNDS) -> list[PropertyResult]:
    """Every property's values compared with their rest, corrected together, properties ranked."""
    if min_n < 1:
        raise ValueError("min_n must be at least 1")
    if not 0 < fdr < 1:
        raise ValueError("fdr must be between 0 and 1")
    results: list[PropertyResult] = []
    tested: list[ValueResult] = []
    for (source, key), by_value in counts.items():
        if is_identifier(by_value):
            continue
        prop = PropertyResult(source, key)
        for row in drivers.rank(metric, by_value, bounds):
            result = ValueResult(row, tested=row.score.n >= min_n and row.rest.n >= min_n)
            if result.tested:
                result.p = compare_p_value(row.rest, row.score)
                if result.p is None:
                    result.tested = False
                else:
                    tested.append(result)
            prop.values.append(result)
        results.append(prop)
    for result, q in zip(tested, benjamini_hochberg([r.p for r in tested])):  # type: ignore[misc]
        result.q = q
        result.finding = q <= fdr and result.row.difference is not None and result.row.difference != 0
    results.sort(key=_order)
    return results


def _order(prop: PropertyResult) -> tuple:
    effect = prop.effect
    if effect is not None:
        return (0, -abs(effect.row.difference or 0.0), effect.row.difference or 0.0, prop.source, prop.key)
    best = prop.best_q
    return (1, 2.0 if best is None else best, 0.0, prop.source, prop.key)

"""Fix first: one list of touchpoint × driver (× theme) items ranked by impact. Pure: no SQL.

An item is a group of answers singled out within a touchpoint — a driver value (`transfers` 2,
`channel` phone), a theme of the comments, or the touchpoint itself within the survey — compared
with the rest of that touchpoint (the answers carrying the same property, or every other answer)
exactly as the drivers are (`drivers.rank`: `scoring.compare(rest, item)`, with its 95 % interval
and its p-value).

* effort gap = rest − item, in headline points (the item's score is that much lower);
* respondents affected = the item's answers;
* impact = respondents affected × effort gap: for percentage headlines (CES 2.0, CSAT, NPS, net
  effort) divided by 100, i.e. how many answers would have been positive (or not negative) had
  the item scored like the rest; for mean scales, scale points × respondents. Its interval is the
  gap's interval times the respondents.

Only items with a positive gap (more effort than their rest) are listed. The p-values of every
comparison made (both directions) are adjusted together (Benjamini–Hochberg,
core/driver_ranking.py); items with `min_n` answers or more on both sides are tested. Findings come first, by impact; then the others, by impact.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import drivers
from .driver_ranking import DEFAULT_FDR, DEFAULT_MIN_N, benjamini_hochberg
from .metrics import get_metric
from .scoring import compare_p_value

# (touchpoint id or 0, dimension, key) -> (kind, value label) -> per-score counts.
# dimension: "event" / "trait" (a driver; key is the property), "theme" (values are themes),
# "theme:<label>" (a driver within that theme's answers), "touchpoint" (values are triggers).
Groups = Mapping[tuple[int, str, str], Mapping[tuple[str, str], Mapping[int, int]]]


@dataclass
class Item:
    trigger_id: int
    dimension: str
    key: str
    row: drivers.DriverRow
    scale: float               # 1/100 for percentage headlines, 1 for means
    p: float | None = None
    q: float | None = None
    finding: bool = False

    @property
    def gap(self) -> float:
        return -(self.row.difference or 0.0)

    @property
    def impact(self) -> float:
        return self.row.score.n * self.gap * self.scale

    def as_dict(self) -> dict[str, Any]:
        r = self.row
        gap_ci = None if r.ci_low is None else (-r.ci_high, -r.ci_low)  # type: ignore[operator]
        n = r.score.n
        return {"trigger_id": self.trigger_id or None, "dimension": self.dimension, "key": self.key or None,
                "value": r.value, "kind": r.kind, "respondents": n, "headline": r.as_dict()["headline"],
                "rest_n": r.rest.n, "rest_headline": r.as_dict()["rest_headline"],
                "effort_gap": round(self.gap, 2),
                "effort_gap_ci": None if gap_ci is None else {"low": round(gap_ci[0], 2), "high": round(gap_ci[1], 2)},
                "impact": round(self.impact, 2),
                "impact_ci": None if gap_ci is None else {"low": round(n * gap_ci[0] * self.scale, 2),
                                                          "high": round(n * gap_ci[1] * self.scale, 2)},
                "p": None if self.p is None else float(f"{self.p:.4g}"),
                "q": None if self.q is None else float(f"{self.q:.4g}"), "finding": self.finding}


def rank_items(metric: str, groups: Groups, min_n: int = DEFAULT_MIN_N, fdr: float = DEFAULT_FDR) -> list[Item]:
    scale = 1.0 if get_metric(metric).headline_kind == "mean" else 0.01
    items: list[Item] = []
    tested: list[Item] = []
    for (trigger_id, dimension, key), values in groups.items():
        if len(values) < 2:
            continue  # nothing to compare with
        for row in drivers.rank(metric, values):
            if row.difference is None:
                continue
            item = Item(trigger_id, dimension, key, row, scale)
            if row.score.n >= min_n and row.rest.n >= min_n:
                item.p = compare_p_value(row.rest, row.score)
                if item.p is not None:
                    tested.append(item)
            items.append(item)
    # Every comparison made counts in the correction, those with less effort than their rest too,
    # although only the others are listed: picking a side before correcting would understate it.
    for item, q in zip(tested, benjamini_hochberg([i.p for i in tested])):  # type: ignore[misc]
        item.q = q
        item.finding = q <= fdr
    items = [i for i in items if i.gap > 0]
    items.sort(key=lambda i: (not i.finding, -i.impact, i.trigger_id, i.dimension, i.key, i.row.value))
    return items

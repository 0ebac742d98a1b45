"""Which property filters a rollup answers exactly: a report filtered on one of them reads the
daily rollups per property value (report_props_daily for the answers; report_funnel_props_daily
and report_events_props_daily for the funnel) instead of the base tables.

Pure. The rollups hold each top-level property of an event once per answer, prompt or event,
as (kind, value): texts of at most 64 characters, booleans, numbers in the default buckets
(core/drivers.DEFAULT_BOUNDS). A filter is answered exactly when the set of events it keeps is a
union of such (kind, value) cells:

* equality (`eq`, `in`) on texts that do not look like a number or a boolean (those also match
  numbers, whose bucket holds other numbers too), each at most 64 characters;
* `gte b` or `lt b` where b is a bucket edge (`gte 2`: the buckets from 2 up; `lt 5`: those
  below 5); `gt`/`lte` are not (`gt 2` leaves out 2 itself, in the bucket [2, 3));
* on a top-level key (no dot), alone (two filters need pairs), over whole UTC days, without a
  locale or variant (the value rollups do not split by them).

Everything else (`ne`, `exists`, two filters, another time zone, …) reads `answer_props` and the
base tables, exactly as before.
"""
from __future__ import annotations

from collections.abc import Sequence

from . import drivers
from .report_filters import ReportQuery

MAX_TEXT = 64


def rollup_cells(q: ReportQuery, bounds: Sequence[float] = drivers.DEFAULT_BOUNDS
                 ) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """(key, the (kind, value) cells the filter keeps) when a rollup answers q exactly, else None."""
    if len(q.properties) != 1 or q.locale is not None or q.variant is not None or not q.whole_days:
        return None
    p = q.properties[0]
    if "." in p.path:
        return None
    if p.op in ("eq", "in"):
        texts = [v for v in p.values if isinstance(v, str)]
        if len(texts) != len(p.values) or any(len(t) > MAX_TEXT for t in texts):
            return None  # a number or boolean candidate: its bucket is wider than the value
        return p.path, tuple(("text", t) for t in dict.fromkeys(texts))
    if p.op in ("gte", "lt"):
        bound = p.values[0]
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or float(bound) not in map(float, bounds):
            return None
        labels = drivers.bucket_labels(bounds)
        if p.op == "gte":
            keep = [label for label, low, _high in labels if low is not None and low >= bound]
        else:
            keep = [label for label, _low, high in labels if high is not None and high <= bound]
        return p.path, tuple(("number", label) for label in keep)
    return None

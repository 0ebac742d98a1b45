"""An event's properties as flat (key, kind, number, text) rows: what `answer_props` stores beside
each answer so a report filtered on a property reads an index instead of parsing JSON.

Pure: no SQL. The rows reproduce exactly what the report's JSON filters see (storage/reports.py,
`json_type` / `json_extract` on `$.<path>`):

* a key is a path of up to 3 names joined by dots (`address.city`); a name holding a dot would
  collide with a nested path, so such names are left out (a filter, whose names are
  `[A-Za-z0-9_-]{1,64}`, cannot name them either); other names are kept as they are, as the
  rollups keep every top-level key;
* `kind` is the JSON type as the filters distinguish it: `number` (integer or real, `num` set),
  `text` (`txt` set), `bool` (`num` 1 or 0, as `json_extract` returns a boolean), `null`,
  `object` (its members follow, down to depth 3), `array` (no members: paths have no index);
* nothing else: an `exists` filter is true for every kind, `gt`/`lt` only for `number`, an
  equality matches `txt` against the text candidates and `num` against the numeric ones
  (booleans included: `json_extract` gives 1 for true).
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

MAX_DEPTH = 3

Row = tuple[str, str, float | None, str | None]  # key, kind, num, txt


def flatten(properties: Any) -> list[Row]:
    """Rows for a decoded properties object (anything else, e.g. None: no rows)."""
    if not isinstance(properties, Mapping):
        return []
    return list(_walk(properties, "", 1))


def _walk(obj: Mapping[str, Any], prefix: str, depth: int) -> Iterator[Row]:
    seen: set[str] = set()
    for name, value in obj.items():
        if not isinstance(name, str) or not name or "." in name or name in seen:
            continue
        seen.add(name)
        key = prefix + name
        yield _row(key, value)
        if isinstance(value, Mapping) and depth < MAX_DEPTH:
            yield from _walk(value, key + ".", depth + 1)


def _row(key: str, value: Any) -> Row:
    if value is None:
        return key, "null", None, None
    if isinstance(value, bool):
        return key, "bool", 1.0 if value else 0.0, None
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):  # stored by an older version; JSON reads it as null
            return key, "null", None, None
        return key, "number", number, None
    if isinstance(value, str):
        return key, "text", None, value
    if isinstance(value, Mapping):
        return key, "object", None, None
    return key, "array", None, None

"""Size limits on properties and traits (docs/api.md): keys, depth of objects, bytes as JSON."""
from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ces.core.compact_json import compact_json
from ces.core.limits import MAX_BYTES, MAX_DEPTH, MAX_KEYS, check_object


def depth(value: Any) -> int:
    """The rule, written the obvious way: an object is a level, a list is not."""
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((depth(v) for v in value), default=0)
    return 0


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"k": [value]}  # lists in between do not add levels
    return value


def test_depth_counts_objects_not_lists() -> None:
    assert check_object(nested(MAX_DEPTH)) is None
    assert check_object(nested(MAX_DEPTH + 1)) == f"Nested deeper than {MAX_DEPTH} levels."
    assert check_object({"a": [[[[1]]]], "b": {"c": {}}}) is None


def test_keys_bytes_and_type() -> None:
    assert check_object({str(i): i for i in range(MAX_KEYS)}) is None
    assert check_object({str(i): i for i in range(MAX_KEYS + 1)}) == f"At most {MAX_KEYS} keys."
    room = MAX_BYTES - len('{"s":""}')
    assert check_object({"s": "x" * room}) is None
    assert check_object({"s": "x" * (room + 1)}) == f"Larger than {MAX_BYTES} bytes as JSON."
    assert check_object([1]) == "Must be a JSON object."


_json = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4)),
                     lambda kids: st.one_of(st.lists(kids, max_size=3),
                                            st.dictionaries(st.text(max_size=3), kids, max_size=3)),
                     max_leaves=25)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=3), _json, max_size=5))
def test_check_object_agrees_with_the_rule(value: dict[str, Any]) -> None:
    assert (check_object(value) == f"Nested deeper than {MAX_DEPTH} levels.") == (depth(value) > MAX_DEPTH)
    assert compact_json(value) == json.dumps(value, separators=(",", ":"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(_json, st.floats(), st.dictionaries(st.one_of(st.integers(), st.floats(), st.booleans()), _json,
                                                     max_size=3)))
def test_compact_json_is_json_dumps_compact(value: Any) -> None:
    assert compact_json(value) == json.dumps(value, separators=(",", ":"))

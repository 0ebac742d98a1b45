"""The strict JSON reader (core/json_input.py): the depth pre-scan agrees with a plain character
scanner, accepted documents parse exactly as json.loads does, refusals name the path."""
from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ces.core import json_input
from ces.core.json_input import JsonRefused, check_depth, loads


def reference_depth(text: str) -> int | None:
    """Depth of arrays/objects outside strings, scanning one character at a time; None if the
    brackets do not balance."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
            if depth < 0:
                return None
    return deepest if depth == 0 else None


_tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\ab'), max_size=8)
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _tricky_text,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(_tricky_text, kids, max_size=3), max_leaves=40)


@settings(max_examples=400)
@given(_values, st.integers(min_value=1, max_value=8))
def test_depth_prescan_agrees_with_a_character_scanner(value: Any, limit: int) -> None:
    text = json.dumps(value)
    depth = reference_depth(text)
    assert depth is not None
    if depth <= limit:
        check_depth(text.encode(), limit)
    else:
        with pytest.raises(JsonRefused) as err:
            check_depth(text.encode(), limit)
        assert err.value.kind == "depth"


@settings(max_examples=400)
@given(_values, st.integers(min_value=1, max_value=8))
def test_loads_refuses_exactly_what_is_too_deep(value: Any, limit: int) -> None:
    """The same through loads(), which skips the escape handling when no escape needs it."""
    text = json.dumps(value)
    if reference_depth(text) <= limit:  # type: ignore[operator]
        assert loads(text.encode(), limit) == json.loads(text)
    else:
        with pytest.raises(JsonRefused) as err:
            loads(text.encode(), limit)
        assert err.value.kind == "depth"


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from('[]{}"\\a,:'), max_size=40), st.integers(min_value=1, max_value=6))
def test_depth_prescan_never_lets_through_what_is_too_deep(text: str, limit: int) -> None:
    """On any text, JSON or not: whatever passes never nests deeper than the limit outside strings
    (up to the point where the parser would stop; for balanced text, everywhere)."""
    depth = reference_depth(text)
    try:
        check_depth(text.encode(), limit)
    except JsonRefused:
        return
    assert depth is None or depth <= limit


@settings(max_examples=300)
@given(_values)
def test_accepted_documents_parse_as_json_loads_does(value: Any) -> None:
    text = json.dumps(value)
    if (reference_depth(text) or 0) <= json_input.MAX_DEPTH:
        assert loads(text.encode()) == json.loads(text)
        assert loads(text) == json.loads(text)


def test_ten_thousand_deep_is_refused_before_parsing() -> None:
    for text in ("[" * 10_000 + "]" * 10_000, "[" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000):
        with pytest.raises(JsonRefused) as err:
            loads(text.encode())
        assert err.value.kind == "depth"
    assert loads(b"[" * 32 + b"]" * 32) is not None
    with pytest.raises(JsonRefused):
        loads(b"[" * 33 + b"]" * 33)


def test_brackets_in_strings_and_escapes_do_not_count() -> None:
    text = json.dumps({"a": "[[[[" * 100, "b": '\\"[[[[' * 50, "c": "\\\\" + "{" * 60})
    assert loads(text) == json.loads(text)
    hidden = '["' + "]" * 50 + '", ' + "[" * 50 + "]" * 50 + "]"  # closers in a string cannot hide depth
    with pytest.raises(JsonRefused):
        loads(hidden)


@pytest.mark.parametrize("text,path", [
    ('{"user_id": "a\\ud800"}', ("user_id",)),
    ('{"p": {"k": ["x", "\\udfff"]}}', ("p", "k", 1)),
    ('{"p": {"\\ud800": 1}}', ("p",)),  # a bad key: named by its object
    ('{"\\ud800": 1}', ("\ud800",)),  # ... or by itself at the top
    ('{"name": "a\\u0000b"}', ("name",)),
    ('{"p": {"x": NaN}}', ("p", "x")),
    ('{"p": [Infinity]}', ("p", 0)),
    ('{"p": -Infinity}', ("p",)),
    ('{"p": 1e999}', ("p",)),
    ('{"p": -1.5e400}', ("p",)),
])
def test_refused_values_are_named_by_their_path(text: str, path: tuple) -> None:
    with pytest.raises(JsonRefused) as err:
        loads(text.encode())
    assert err.value.kind == "value" and err.value.path == path, err.value.message
    assert err.value.where()  # printable
    json.dumps(err.value.where()).encode("utf-8")  # and valid Unicode


def test_valid_text_passes() -> None:
    assert loads('["\\ud83d\\ude00", "caf\\u00e9", "\\\\ud800"]'.encode()) == ["\U0001F600", "café", "\\ud800"]
    assert loads(b'{"n": 1e308, "m": -0.0, "i": 123456789012345678901234567890}')["n"] == 1e308
    assert loads(b"\xef\xbb\xbf[1]") == [1]  # a UTF-8 byte order mark


@pytest.mark.parametrize("raw", [b"\xed\xa0\x80", b'"\xff"', b"[1,]", b"", b"nul", b"[1] [2]"])
def test_not_json_is_a_syntax_refusal(raw: bytes) -> None:
    with pytest.raises(JsonRefused) as err:
        loads(raw)
    assert err.value.kind == "syntax"


def test_a_str_with_a_raw_surrogate_is_refused() -> None:
    with pytest.raises(JsonRefused) as err:
        loads('{"a": "x\ud800"}')
    assert err.value.path == ("a",)


def test_text_problem() -> None:
    assert json_input.text_problem("plain é \U0001F600") is None
    assert "NUL" in json_input.text_problem("a\x00")  # type: ignore[operator]
    assert "surrogate" in json_input.text_problem("\udc00")  # type: ignore[operator]


def test_finite_replaces_only_non_finite_numbers() -> None:
    from ces.core.finite import finite
    value = {"a": math.nan, "b": [math.inf, 1.5, -math.inf, {"c": 2}], "d": "NaN", "e": True}
    assert finite(value) == {"a": None, "b": [None, 1.5, None, {"c": 2}], "d": "NaN", "e": True}

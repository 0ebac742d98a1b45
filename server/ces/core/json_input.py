"""JSON from clients, read strictly: what every HTTP body and websocket message goes through.

Refused, before or while parsing, with where the problem is:
- nesting deeper than MAX_DEPTH arrays/objects, checked by a pre-scan *before* the parser runs
  (CPython's parser recurses once per level: 10,000 `[` would end in RecursionError);
- text that is not UTF-8 (raw bytes), and strings holding a lone surrogate (`"\\ud800"`, which
  json.loads accepts but which is not Unicode: SQLite cannot store it) or a NUL character;
- `NaN`, `Infinity`, `-Infinity` and numbers too large to be finite (`1e999`): not JSON numbers,
  and once stored they would be written back out as invalid JSON.

The normal path costs a few C-level passes over the bytes (docs/benchmarks.md, "Strict JSON
input"). Only escapes can spell NUL or a surrogate in UTF-8 JSON, so strings are checked only
when the text has a backslash: a `\\u0000`, or surrogate escapes that did not pair up into one
character (one C-level encode tells); the value is walked in Python only to name the path of
what is refused.
"""
from __future__ import annotations

import json
import json.encoder
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 32  # arrays + objects; the deepest legitimate body (a condition tree) needs about 12

Path = tuple  # keys (str) and list indexes (int) from the top of the document


class JsonRefused(Exception):
    """Why a document is refused. `kind`: "syntax" (not JSON), "depth", or "value" (a string or a
    number at `path` is refused; for a refused object key, `path` is the object's, or the key
    itself at the top). `value`: the parsed document, for "value" (so a caller can still read
    a message's `id`)."""

    def __init__(self, kind: str, message: str, path: Path = (), value: Any = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.path, self.value = kind, message, path, value

    def where(self) -> str:
        """The path as one dotted name: `events.1.user_id`; empty for the document itself."""
        return ".".join(display(p) for p in self.path)


class _NonFinite(ValueError):
    pass


class _Constant:
    """Stands in for a refused number literal while the document is re-read to find where it is."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


def _refuse_constant(literal: str) -> Any:
    raise _NonFinite(literal)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value - value == 0.0:  # false for inf and nan
        return value
    raise _NonFinite(literal)


def _mark_float(literal: str) -> Any:
    value = float(literal)
    return value if value - value == 0.0 else _Constant(literal)


# Built once: json.loads with keyword arguments would build a decoder on every call.
_decoder = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)
_locating_decoder = json.JSONDecoder(parse_constant=_Constant, parse_float=_mark_float)

# Every byte except quotes and brackets, to delete (bytes.translate runs in C).
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}')
# A \u escape of a surrogate (D800-DFFF): in pairs (an emoji) they make one valid character.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# Any escape that matters: \\ or \" (string boundaries), \u0000 or a surrogate (string checks).
_SPECIAL_ESCAPE = re.compile(rb'\\(?:[\\"]|u(?:0000|[dD][89a-fA-F]))')
_TO_SQUARE = bytes.maketrans(b"{}", b"[]")
_DEPTH_STEP = {ord("["): 1, ord("]"): -1}
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def loads(raw: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The value of a JSON document; JsonRefused saying what is wrong and where."""
    walk = False
    if isinstance(raw, str):
        text = raw
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError:  # a str holding a raw surrogate (a websocket frame never does)
            data, walk = raw.encode("utf-8", "surrogatepass"), True
    else:
        data = raw[3:] if raw[:3] == b"\xef\xbb\xbf" else raw  # a UTF-8 byte order mark is allowed
    # One search says whether any escape matters here (most bodies have none, or only \u00e9 & co).
    special = b"\\" in data and _SPECIAL_ESCAPE.search(data) is not None
    check_depth(data, max_depth, special)
    if isinstance(raw, bytes):
        try:
            text = data.decode("utf-8")  # strict: refuses surrogates encoded as UTF-8 bytes
        except UnicodeDecodeError as err:
            raise JsonRefused("syntax", f"not UTF-8 (byte {err.start}).") from None
    try:
        value = _decoder.decode(text)
    except _NonFinite:
        value, walk = _locating_decoder.decode(text), True
    except ValueError as err:
        raise JsonRefused("syntax", f"{err}.") from None
    if special and not walk:  # only escapes spell NUL or a surrogate in UTF-8 JSON
        walk = b"\\u0000" in data or (_SURROGATE_ESCAPE.search(data) is not None and not _is_unicode(value))
    if walk:
        problem = find_problem(value)
        if problem is not None:
            raise JsonRefused("value", problem[1], problem[0], value)
    return value


def _build_unicode_dump() -> Any:
    """The C encoder writing text as it is (not as \\u escapes), built once like compact_json's."""
    make = json.encoder.c_make_encoder  # type: ignore[attr-defined]
    if make is None:  # pragma: no cover - CPython always has it
        return lambda v: json.dumps(v, ensure_ascii=False)
    encode = make(None, json.JSONEncoder().default, json.encoder.encode_basestring, None, ":", ",", False, False,  # type: ignore[attr-defined]
                  True)
    return lambda v: "".join(encode(v, 0))


_unicode_dump = _build_unicode_dump()


def _is_unicode(value: Any) -> bool:
    """Whether every string of `value` (keys too) is valid Unicode: pairs of escaped surrogates were
    joined by the parser, a lone one stays and cannot be encoded. One C-level pass, no walk."""
    try:
        _unicode_dump(value).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_depth(data: bytes, max_depth: int = MAX_DEPTH, escapes: bool | None = None) -> None:
    """JsonRefused unless the arrays and objects of `data`, outside strings, nest at most
    `max_depth` deep and balance. Never recurses; a few C-level passes over the bytes.
    `escapes`: whether `data` may hold `\\\\` or `\\"` (None: look for a backslash)."""
    if escapes is None:
        escapes = b"\\" in data
    if escapes:
        # Escaped backslashes, then escaped quotes: what is left of a \ never ends a string.
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Objects become arrays: a level is a level, and each pass below must remove exactly one
    # (which bracket closes which is the parser's business; it stops at the first mismatch).
    structure = data.translate(_TO_SQUARE, _NOT_STRUCTURE)
    if structure.count(b"[") <= max_depth:
        return  # cannot be deeper than the number of brackets (balance: the parser will tell)
    # Two quotes in a row hold nothing between them: dropping them keeps every other character's
    # side of the quotes. What remains is quotes around strings that hold brackets, if any.
    structure = structure.replace(b'""', b"")
    if b'"' in structure:
        structure = b"".join(structure.split(b'"')[::2])
    whole = structure
    for _ in range(max_depth):
        if not structure:
            return
        shorter = structure.replace(b"[]", b"")  # exactly one level: the innermost pairs
        if len(shorter) == len(structure):  # does not balance: too deep anyway, or simply not JSON
            if max(accumulate(map(_DEPTH_STEP.__getitem__, whole))) <= max_depth:
                raise JsonRefused("syntax", "brackets do not balance.")
            break
        structure = shorter
    if structure:
        raise JsonRefused("depth", f"Nested deeper than {max_depth} levels of arrays and objects.")


def text_problem(s: str) -> str | None:
    """None when `s` can be stored and sent as it is, else why not."""
    bad = _BAD_CHAR.search(s)
    if bad is None:
        return None
    char = bad.group()
    if char == "\x00":
        return "Must not contain a NUL character (\\u0000)."
    return f"Not valid Unicode: a lone surrogate (\\u{ord(char):04x})."


def find_problem(value: Any, path: Path = ()) -> tuple[Path, str] | None:
    """The first refused string or number in `value`: (its path, why)."""
    if type(value) is str:
        problem = text_problem(value)
        return None if problem is None else (path, problem)
    if type(value) is dict:
        for k, v in value.items():
            problem = text_problem(k)
            if problem is not None:  # named by its object (the key itself, at the top)
                return (path or (k,), f"Key '{display(k)}': {problem[0].lower()}{problem[1:]}")
            found = find_problem(v, path + (k,))
            if found is not None:
                return found
    elif type(value) is list:
        for i, v in enumerate(value):
            found = find_problem(v, path + (i,))
            if found is not None:
                return found
    elif type(value) is _Constant:
        return (path, f"{value.literal} is not a finite number (JSON has no NaN or Infinity).")
    return None


def display(part: Any) -> str:
    """A path part as it can be shown: lone surrogates and NUL written as escapes."""
    if isinstance(part, int):
        return str(part)
    return part.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


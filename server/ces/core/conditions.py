"""Condition trees: which events (and which users) a trigger applies to.

A tree is plain JSON so it can be stored as-is with the trigger:

    {"all": [node, ...]}   every child holds          (a group)
    {"any": [node, ...]}   at least one child holds   (a group)
    {"field": "properties.amount", "op": "gte", "value": 50}      (a leaf)

`field` is `properties.<name>` (the event's properties) or `traits.<name>` (what
`identify` stored for the user). Dots after the prefix walk into nested objects:
`properties.cart.total` reads `properties["cart"]["total"]`; when that path does not
exist we also try the flat key `properties["cart.total"]`, because backends often
send dotted keys flat.

Limits: groups nest at most MAX_DEPTH deep (the root group is depth 1) and a tree
has at most MAX_LEAVES leaves, so evaluating one is cheap and bounded.

The semantics, decided once here:

- `None` or `{}` is "no conditions": it always holds.
- A missing field - absent, not an object on the way, or JSON `null` (identify
  removes a trait by setting it to null) - makes every operator false except
  `not_exists`. That includes `ne` and `not_in`: "country not_in [US]" targets users
  we *know* are outside the US; surveying people we know nothing about would
  surprise the product team. Write `{"any": [..not_in.., ..not_exists..]}` to
  include them. Consequently `not_in` is the negation of `in` only on present fields.
- No coercion: "50" is not 50 and true is not 1. Numbers compare numerically
  whatever their JSON spelling (50 == 50.0). A numeric operator on a non-number
  is simply false; evaluation never raises because of what a client sent.
- `contains` is a case-sensitive substring test on a string (the value must be a
  string) and a membership test on a list (by the same equality as `eq`);
  `not_contains` is its negation on a present field.
- `starts_with`, `ends_with`, `glob` and `regex` test strings only (false on
  anything else), case-sensitively. `glob` matches the whole string, `*` any run
  of characters (`/` included), `?` one character. `regex` is RE2 syntax, searched
  anywhere in the string (anchor it with ^ and $): RE2 runs in time linear in the
  string, so no pattern can backtrack catastrophically; patterns are at most
  MAX_PATTERN characters and must compile within RE2's memory limit.

validate() speaks marshmallow's error shape so the API layer can return it under
`fields` unchanged: `{"all": {"0": {"op": ["Unknown operator 'foo'."]}}}`.
"""
from __future__ import annotations

import json
import math
import operator
from functools import lru_cache
from typing import Any, Callable, Mapping

OPS: frozenset[str] = frozenset({
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists", "not_exists",
    "not_contains", "starts_with", "ends_with", "glob", "regex",
})
STRING_OPS: frozenset[str] = frozenset({"starts_with", "ends_with", "glob", "regex"})
PATTERN_OPS: frozenset[str] = frozenset({"glob", "regex"})
MAX_PATTERN = 200
NUMERIC_OPS: frozenset[str] = frozenset({"gt", "gte", "lt", "lte"})
LIST_OPS: frozenset[str] = frozenset({"in", "not_in"})
NO_VALUE_OPS: frozenset[str] = frozenset({"exists", "not_exists"})
GROUP_KEYS: frozenset[str] = frozenset({"all", "any"})
PREFIXES: tuple[str, ...] = ("properties", "traits")

MAX_DEPTH = 4
MAX_LEAVES = 50
MAX_FIELD_LENGTH = 256
# The explanation is stored as a decision's detail; keep it readable.
MAX_EXPLAIN = 300

_MISSING_REQUIRED = "Missing data for required field."
_MISSING = object()  # sentinel: the field is not there (distinct from any JSON value)

Errors = dict[str, Any]
Tree = Mapping[str, Any] | None


# --------------------------------------------------------------------------- validation

def validate(tree: Any) -> Errors:
    """Marshmallow-style errors for a condition tree; {} when it is valid."""
    if tree is None:
        return {}
    if isinstance(tree, Mapping) and len(tree) == 0:
        return {}
    errors = _validate_node(tree, depth=1)
    if not errors and _count_leaves(tree) > MAX_LEAVES:
        errors = {"_schema": [f"At most {MAX_LEAVES} conditions."]}
    return errors


def _validate_node(node: Any, depth: int) -> Errors:
    if not isinstance(node, Mapping):
        return {"_schema": ["Must be an object: a condition or an all/any group."]}
    group_keys = GROUP_KEYS & set(node)
    if group_keys:
        return _validate_group(node, depth)
    return _validate_leaf(node)


def _validate_group(node: Mapping[str, Any], depth: int) -> Errors:
    if len(node) != 1:
        return {"_schema": ["A group has exactly one key, 'all' or 'any'."]}
    if depth > MAX_DEPTH:
        return {"_schema": [f"Groups nest at most {MAX_DEPTH} deep."]}
    (key, children), = node.items()
    if not isinstance(children, list) or not children:
        return {key: ["Must be a non-empty list of conditions."]}
    child_errors = {}
    for i, child in enumerate(children):
        err = _validate_node(child, depth + 1)
        if err:
            child_errors[str(i)] = err
    return {key: child_errors} if child_errors else {}


def _validate_leaf(node: Mapping[str, Any]) -> Errors:
    errors: Errors = {}
    for key in node:
        if key not in ("field", "op", "value"):
            errors[str(key)] = ["Unknown field."]

    if "field" not in node:
        errors["field"] = [_MISSING_REQUIRED]
    else:
        msg = _field_error(node["field"])
        if msg:
            errors["field"] = [msg]

    op = node.get("op", _MISSING)
    if op is _MISSING:
        errors["op"] = [_MISSING_REQUIRED]
    elif not isinstance(op, str) or op not in OPS:
        errors["op"] = [f"Unknown operator {op!r}."]
    else:
        msg = _value_error(op, node)
        if msg:
            errors["value"] = [msg]
    return errors


def _field_error(field: Any) -> str | None:
    if not isinstance(field, str):
        return "Not a valid string."
    if len(field) > MAX_FIELD_LENGTH:
        return f"Longer than maximum length {MAX_FIELD_LENGTH}."
    prefix, _, rest = field.partition(".")
    if prefix not in PREFIXES or not rest:
        return "Must be 'properties.<name>' or 'traits.<name>'."
    if any(part == "" for part in rest.split(".")):
        return "Empty name segment in field path."
    return None


def _value_error(op: str, node: Mapping[str, Any]) -> str | None:
    """What is wrong with the leaf's value for `op`, or None."""
    has_value = "value" in node
    value = node.get("value")
    if op in NO_VALUE_OPS:
        return f"Operator '{op}' takes no value." if has_value else None
    if not has_value:
        return _MISSING_REQUIRED
    if op in NUMERIC_OPS:
        return None if _is_number(value) else f"Operator '{op}' needs a number."
    if op in LIST_OPS:
        if not isinstance(value, list) or not value or not all(_is_scalar(v) for v in value):
            return f"Operator '{op}' needs a non-empty list of strings, numbers or booleans."
        return None
    if op in STRING_OPS:
        if not isinstance(value, str):
            return f"Operator '{op}' needs a string."
        if op in PATTERN_OPS:
            return pattern_error(op, value)
        return None
    # eq, ne, contains: one scalar. null is not allowed: null means "missing" here,
    # and exists / not_exists already say that.
    if not _is_scalar(value):
        return f"Operator '{op}' needs a string, number or boolean."
    return None


def _count_leaves(node: Any) -> int:
    if isinstance(node, Mapping):
        for key in GROUP_KEYS:
            if key in node and isinstance(node[key], list):
                return sum(_count_leaves(c) for c in node[key])
    return 1


def _is_number(v: Any) -> bool:
    # bool is an int in Python, but `true` is not a number in JSON.
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, float) and math.isfinite(v)


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (str, bool)) or _is_number(v)


# --------------------------------------------------------------------------- evaluation

def evaluate(tree: Tree, properties: Mapping[str, Any] | None,
             traits: Mapping[str, Any] | None) -> bool:
    """Whether the (validated) tree holds for this event and user.

    Never raises because of `properties` or `traits`, whatever JSON they hold.
    A malformed tree is a programming error (trees are validated before they are
    stored) and raises ValueError.
    """
    if not tree:
        return True
    try:
        return _eval(tree, _sources(properties, traits))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed condition tree: {exc!r}") from exc


def _sources(properties: Any, traits: Any) -> dict[str, Mapping[str, Any]]:
    # Anything that is not an object (a client sending a list) is "no data".
    return {
        "properties": properties if isinstance(properties, Mapping) else {},
        "traits": traits if isinstance(traits, Mapping) else {},
    }


def _eval(node: Mapping[str, Any], sources: Mapping[str, Mapping[str, Any]]) -> bool:
    if "all" in node:
        return all(_eval(c, sources) for c in node["all"])
    if "any" in node:
        return any(_eval(c, sources) for c in node["any"])
    return _eval_leaf(node, resolve(node["field"], sources))


def resolve(field: str, sources: Mapping[str, Mapping[str, Any]]) -> Any:
    """The value at `field` ("properties.cart.total"), or the _MISSING sentinel."""
    prefix, _, rest = field.partition(".")
    if prefix not in PREFIXES or not rest:
        raise ValueError(f"bad field {field!r}")
    current: Any = sources.get(prefix)
    if not isinstance(current, Mapping):
        return _MISSING
    root = current
    for part in rest.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            current = _MISSING
            break
    if current is _MISSING and "." in rest:
        current = root.get(rest, _MISSING)   # a flat "cart.total" key
    return _MISSING if current is None else current


def is_missing(value: Any) -> bool:
    return value is _MISSING


def _eval_leaf(node: Mapping[str, Any], actual: Any) -> bool:
    op = node.get("op")
    value = node.get("value")
    if op not in OPS:
        raise ValueError(f"unknown operator {op!r}")
    if op == "not_exists":
        return actual is _MISSING
    if actual is _MISSING:
        return False            # every other operator, ne and not_in included
    if op == "exists":
        return True
    if op == "eq":
        return _same(actual, value)
    if op == "ne":
        return not _same(actual, value)
    if op in NUMERIC_OPS:
        return _compare(op, actual, value)
    if op == "in":
        return _in(actual, value)
    if op == "not_in":
        return not _in(actual, value)
    if op == "not_contains":
        return not _contains(actual, value)
    if op in STRING_OPS:
        if not isinstance(actual, str) or not isinstance(value, str):
            return False  # a stored tree always has a string here (validated); never raise anyway
        if op == "starts_with":
            return actual.startswith(value)
        if op == "ends_with":
            return actual.endswith(value)
        try:
            return compiled_pattern(op, value).search(actual) is not None
        except ValueError:
            return False
    return _contains(actual, value)  # "contains"


# --------------------------------------------------------------------------- patterns

def _re2_options() -> Any:
    import re2  # linear-time regular expressions (google-re2)
    options = re2.Options()
    options.max_mem = 1 << 20   # a pattern needing more than 1 MiB of automaton is refused
    options.log_errors = False
    return options


def glob_to_regex(pattern: str) -> str:
    """A glob as an anchored RE2 pattern: `*` any run of characters, `?` one, the rest literal."""
    import re2
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re2.escape(ch))
    return "^(?s:" + "".join(out) + ")$"


@lru_cache(maxsize=1024)
def compiled_pattern(op: str, pattern: str) -> Any:
    """The compiled RE2 object for a (validated) glob or regex; ValueError when it does not compile."""
    import re2
    try:
        return re2.compile(glob_to_regex(pattern) if op == "glob" else pattern, _re2_options())
    except re2.error as exc:
        raise ValueError(str(exc)) from None


def pattern_error(op: str, pattern: str) -> str | None:
    """Why a glob / regex pattern is refused (too long, does not compile), or None."""
    if not pattern:
        return f"Operator '{op}' needs a non-empty pattern."
    if len(pattern) > MAX_PATTERN:
        return f"Pattern longer than maximum length {MAX_PATTERN}."
    try:
        compiled_pattern(op, pattern)
    except ValueError as exc:
        detail = str(exc).strip("b'\"")
        return f"Pattern does not compile: {detail}." if op == "regex" else f"Glob does not compile: {detail}."
    return None


def compile_leaf(node: Mapping[str, Any]) -> Callable[[Any], bool]:
    """`lambda actual: _eval_leaf(node, actual)`, with a fast path for plain JSON values.

    The decision engine runs one of these per condition per event. Values of the exact
    types json.loads makes (str, int, finite float) take the fast path; anything else
    (bools, lists, NaN, subclasses, the missing sentinel) goes through `_eval_leaf`, so the
    answer is the same by construction. tests/unit/test_engine.py checks they agree.
    """
    op, value = node.get("op"), node.get("value")
    if op not in OPS:
        raise ValueError(f"unknown operator {op!r}")

    def slow(actual: Any) -> bool:
        return _eval_leaf(node, actual)

    if op in NUMERIC_OPS and type(value) in (int, float) and math.isfinite(value):
        return _numeric_leaf(op, value, slow)
    if op in LIST_OPS and isinstance(value, list) and all(type(v) in (str, int, float, bool) for v in value):
        return _list_leaf(op == "in", value, slow)
    if op in ("eq", "ne") and type(value) is str:
        same = op == "eq"
        return lambda a: (a == value) is same if type(a) is str else slow(a)
    return slow


def _numeric_leaf(op: str, bound: float, slow: Callable[[Any], bool]) -> Callable[[Any], bool]:
    compare = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}[op]
    isfinite = math.isfinite

    def leaf(a: Any) -> bool:
        t = type(a)
        if t is int:
            return compare(a, bound)
        if t is float:
            return isfinite(a) and compare(a, bound)
        return slow(a)
    return leaf


def _list_leaf(inside: bool, values: list[Any], slow: Callable[[Any], bool]) -> Callable[[Any], bool]:
    strings = frozenset(v for v in values if type(v) is str)
    numbers = frozenset(v for v in values if type(v) in (int, float) and math.isfinite(v))
    isfinite = math.isfinite

    def leaf(a: Any) -> bool:
        t = type(a)
        if t is str:
            return (a in strings) is inside
        if t is int or (t is float and isfinite(a)):
            return (a in numbers) is inside
        return slow(a)
    return leaf


def _same(a: Any, b: Any) -> bool:
    """JSON equality without Python's coercions (True == 1, "1" != 1 anyway)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return False


def _compare(op: str, actual: Any, value: Any) -> bool:
    if not (_is_number(actual) and _is_number(value)):
        return False
    if op == "gt":
        return actual > value
    if op == "gte":
        return actual >= value
    if op == "lt":
        return actual < value
    return actual <= value


def _in(actual: Any, values: Any) -> bool:
    if not isinstance(values, list):
        return False
    return any(_same(actual, v) for v in values)


def _contains(actual: Any, value: Any) -> bool:
    if isinstance(actual, str):
        return isinstance(value, str) and value in actual
    if isinstance(actual, list):
        return any(_same(item, value) for item in actual)
    return False


# --------------------------------------------------------------------------- explanation

_SYMBOLS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def explain(tree: Tree, properties: Mapping[str, Any] | None,
            traits: Mapping[str, Any] | None) -> str:
    """A short reason why the tree does not hold, for a decision's detail.

    For an `all` group it is the first failing child; for an `any` group, every
    child's reason ("none of: ..."). When the tree holds: "conditions hold".
    """
    if evaluate(tree, properties, traits):
        return "conditions hold"
    return _clip(_why(tree, _sources(properties, traits)))  # type: ignore[arg-type]


def _why(node: Mapping[str, Any], sources: Mapping[str, Mapping[str, Any]]) -> str:
    if "all" in node:
        for child in node["all"]:
            if not _eval(child, sources):
                return _why(child, sources)
        return "conditions hold"
    if "any" in node:
        reasons = [_why(c, sources) for c in node["any"]]
        return reasons[0] if len(reasons) == 1 else "none of: " + "; ".join(reasons)
    return _why_leaf(node, resolve(node["field"], sources))


def _why_leaf(node: Mapping[str, Any], actual: Any) -> str:
    field, op, value = node["field"], node["op"], node.get("value")
    if op == "not_exists":
        return f"{field} is present (= {_show(actual)})"
    if actual is _MISSING:
        return f"{field} is missing"
    a, v = _show(actual), _show(value)
    if op == "eq":
        return f"{field} = {a}, not {v}"
    if op == "ne":
        return f"{field} = {a}, which it must not be"
    if op in NUMERIC_OPS:
        if not _is_number(actual):
            return f"{field} = {a} is not a number"
        return f"{field} = {a} is not {_SYMBOLS[op]} {v}"
    if op == "in":
        return f"{field} = {a} is not in {v}"
    if op == "not_in":
        return f"{field} = {a} is in {v}"
    if op == "not_contains":
        return f"{field} = {a} contains {v}"
    if op in STRING_OPS:
        if not isinstance(actual, str):
            return f"{field} = {a} is not a string"
        verb = {"starts_with": "does not start with", "ends_with": "does not end with",
                "glob": "does not match the glob", "regex": "does not match the pattern"}[op]
        return f"{field} = {a} {verb} {v}"
    return f"{field} = {a} does not contain {v}"


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=repr)
    except (ValueError, RecursionError):  # circular or absurdly deep: never raise
        text = "<unprintable>"
    return text if len(text) <= 60 else text[:57] + "..."


def _clip(text: str) -> str:
    return text if len(text) <= MAX_EXPLAIN else text[: MAX_EXPLAIN - 3] + "..."

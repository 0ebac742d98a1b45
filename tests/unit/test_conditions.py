"""Condition trees: every operator, groups, missing fields, validation, properties."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ces.core.conditions import MAX_DEPTH, MAX_LEAVES, OPS, evaluate, explain, validate


def leaf(field: str, op: str, *value):
    node = {"field": field, "op": op}
    if value:
        node["value"] = value[0]
    return node


def ev(node, properties=None, traits=None) -> bool:
    return evaluate(node, properties or {}, traits or {})


# --------------------------------------------------------------------------- operators

@pytest.mark.parametrize("op, value, actual, expected", [
    ("eq", "chat", "chat", True),
    ("eq", "chat", "Chat", False),         # case-sensitive
    ("eq", 50, 50.0, True),                # numbers compare numerically
    ("eq", 50, "50", False),               # no coercion
    ("eq", 1, True, False),                # true is not 1
    ("eq", True, True, True),
    ("eq", True, 1, False),
    ("ne", "chat", "email", True),
    ("ne", "chat", "chat", False),
    ("ne", 1, True, True),
    ("ne", "x", ["x"], True),
    ("gt", 50, 51, True),
    ("gt", 50, 50, False),
    ("gte", 50, 50, True),
    ("gte", 50, 49.99, False),
    ("lt", 50, 49, True),
    ("lt", 50, 50, False),
    ("lte", 50, 50, True),
    ("lte", 50, 50.5, False),
    ("gte", 50, "60", False),              # a string is not a number
    ("gte", 0, True, False),               # nor is a boolean
    ("lt", 10, None, False),
    ("gt", 0, [1], False),
    ("in", ["FR", "RO"], "FR", True),
    ("in", ["FR", "RO"], "US", False),
    ("in", [1, 2], 2.0, True),
    ("in", [1, 2], True, False),
    ("not_in", ["FR", "RO"], "US", True),
    ("not_in", ["FR", "RO"], "RO", False),
    ("contains", "gold", "gold-plan", True),
    ("contains", "Gold", "gold-plan", False),
    ("contains", "x", ["a", "x"], True),
    ("contains", 3, [1, 2, 3], True),
    ("contains", 3, [1, 2, "3"], False),
    ("contains", 3, "123", False),         # string actual needs a string value
    ("contains", "a", {"a": 1}, False),    # objects are not searched
    ("contains", "a", 5, False),
])
def test_operator(op, value, actual, expected):
    tree = leaf("properties.x", op, value)
    assert validate(tree) == {}
    assert ev(tree, {"x": actual}) is expected


def test_exists_and_not_exists():
    assert ev(leaf("traits.plan", "exists"), traits={"plan": "pro"}) is True
    assert ev(leaf("traits.plan", "exists"), traits={}) is False
    assert ev(leaf("traits.plan", "not_exists"), traits={}) is True
    assert ev(leaf("traits.plan", "not_exists"), traits={"plan": ""}) is False
    # null means "removed" (identify deletes a trait by setting it to null)
    assert ev(leaf("traits.plan", "exists"), traits={"plan": None}) is False
    assert ev(leaf("traits.plan", "not_exists"), traits={"plan": None}) is True


@pytest.mark.parametrize("op, value", [
    ("eq", 1), ("ne", 1), ("gt", 1), ("gte", 1), ("lt", 1), ("lte", 1),
    ("in", [1]), ("not_in", [1]), ("contains", "a"),
])
def test_missing_field_makes_every_op_false(op, value):
    assert ev(leaf("properties.absent", op, value), {"other": 1}) is False
    assert ev(leaf("properties.absent", op, value), {"absent": None}) is False


def test_properties_and_traits_are_separate():
    tree = leaf("traits.country", "eq", "FR")
    assert ev(tree, properties={"country": "FR"}, traits={}) is False
    assert ev(tree, properties={}, traits={"country": "FR"}) is True


def test_nested_property_paths():
    tree = leaf("properties.cart.total", "gte", 50)
    assert ev(tree, {"cart": {"total": 60}}) is True
    assert ev(tree, {"cart": {"total": 40}}) is False
    assert ev(tree, {"cart": 60}) is False            # not an object on the way
    assert ev(tree, {"cart": [60]}) is False
    assert ev(tree, {"cart.total": 60}) is True        # flat dotted key
    assert ev(leaf("properties.a.b.c", "eq", "x"), {"a": {"b": {"c": "x"}}}) is True


def test_empty_tree_holds():
    assert evaluate(None, {}, {}) is True
    assert evaluate({}, {"a": 1}, {}) is True
    assert validate(None) == {}
    assert validate({}) == {}


def test_non_object_inputs_are_no_data():
    tree = leaf("properties.a", "exists")
    assert evaluate(tree, None, None) is False
    assert evaluate(tree, [1, 2], "x") is False  # type: ignore[arg-type]
    assert evaluate(leaf("properties.a", "not_exists"), None, None) is True


# --------------------------------------------------------------------------- groups

CHECKOUT = {"all": [
    leaf("properties.amount", "gte", 50),
    leaf("traits.country", "in", ["FR", "RO"]),
]}


def test_all_group():
    assert ev(CHECKOUT, {"amount": 50}, {"country": "RO"}) is True
    assert ev(CHECKOUT, {"amount": 49}, {"country": "RO"}) is False
    assert ev(CHECKOUT, {"amount": 80}, {"country": "US"}) is False


def test_any_group():
    tree = {"any": [leaf("properties.channel", "eq", "chat"), leaf("properties.transfers", "gt", 0)]}
    assert ev(tree, {"channel": "chat"}) is True
    assert ev(tree, {"channel": "email", "transfers": 2}) is True
    assert ev(tree, {"channel": "email", "transfers": 0}) is False
    assert ev(tree, {}) is False


def test_nested_groups():
    tree = {"all": [
        leaf("properties.amount", "gte", 50),
        {"any": [
            leaf("traits.country", "eq", "FR"),
            {"all": [leaf("traits.country", "eq", "RO"), leaf("traits.plan", "eq", "pro")]},
        ]},
    ]}
    assert validate(tree) == {}
    assert ev(tree, {"amount": 60}, {"country": "FR"}) is True
    assert ev(tree, {"amount": 60}, {"country": "RO", "plan": "pro"}) is True
    assert ev(tree, {"amount": 60}, {"country": "RO", "plan": "free"}) is False
    assert ev(tree, {"amount": 10}, {"country": "FR"}) is False


def test_missing_field_can_be_included_explicitly():
    # ne/not_in are false on a missing field; any[.., not_exists] includes those users.
    tree = {"any": [leaf("traits.country", "ne", "US"), leaf("traits.country", "not_exists")]}
    assert ev(tree, traits={}) is True
    assert ev(tree, traits={"country": "FR"}) is True
    assert ev(tree, traits={"country": "US"}) is False


def test_bare_leaf_as_root():
    assert validate(leaf("properties.a", "eq", 1)) == {}
    assert ev(leaf("properties.a", "eq", 1), {"a": 1}) is True


def test_malformed_tree_raises_value_error():
    with pytest.raises(ValueError):
        evaluate({"all": [{"op": "eq", "value": 1}]}, {}, {})
    with pytest.raises(ValueError):
        evaluate({"field": "properties.a", "op": "foo", "value": 1}, {"a": 1}, {})


# --------------------------------------------------------------------------- explain

def test_explain_numeric():
    assert explain(CHECKOUT, {"amount": 20}, {"country": "FR"}) == "properties.amount = 20 is not >= 50"


def test_explain_per_op():
    p = {"x": "a", "n": "20", "l": [1]}
    assert explain(leaf("properties.x", "eq", "b"), p, {}) == 'properties.x = "a", not "b"'
    assert explain(leaf("properties.x", "ne", "a"), p, {}) == 'properties.x = "a", which it must not be'
    assert explain(leaf("properties.n", "gt", 5), p, {}) == 'properties.n = "20" is not a number'
    assert explain(leaf("properties.x", "in", ["b", "c"]), p, {}) == 'properties.x = "a" is not in ["b", "c"]'
    assert explain(leaf("properties.x", "not_in", ["a"]), p, {}) == 'properties.x = "a" is in ["a"]'
    assert explain(leaf("properties.l", "contains", 2), p, {}) == "properties.l = [1] does not contain 2"
    assert explain(leaf("properties.x", "not_exists"), p, {}) == 'properties.x is present (= "a")'
    assert explain(leaf("traits.plan", "exists"), p, {}) == "traits.plan is missing"
    assert explain(leaf("traits.plan", "eq", "pro"), p, {}) == "traits.plan is missing"


def test_explain_any_lists_every_reason():
    tree = {"any": [leaf("properties.a", "eq", 1), leaf("properties.b", "exists")]}
    assert explain(tree, {"a": 2}, {}) == "none of: properties.a = 2, not 1; properties.b is missing"
    assert explain({"any": [leaf("properties.a", "eq", 1)]}, {"a": 2}, {}) == "properties.a = 2, not 1"


def test_explain_true_and_long_values():
    assert explain(CHECKOUT, {"amount": 60}, {"country": "FR"}) == "conditions hold"
    text = explain(leaf("properties.x", "eq", "b"), {"x": "y" * 500}, {})
    assert len(text) < 120 and text.endswith(', not "b"')


# --------------------------------------------------------------------------- validate

@pytest.mark.parametrize("tree, errors", [
    ({"all": [leaf("properties.a", "foo", 1)]}, {"all": {"0": {"op": ["Unknown operator 'foo'."]}}}),
    ({"all": [{"op": "eq", "value": 1}]}, {"all": {"0": {"field": ["Missing data for required field."]}}}),
    ({"all": [{"field": "properties.a", "value": 1}]}, {"all": {"0": {"op": ["Missing data for required field."]}}}),
    (leaf("properties.a", "eq"), {"value": ["Missing data for required field."]}),
    (leaf("properties.a", "gt", "50"), {"value": ["Operator 'gt' needs a number."]}),
    (leaf("properties.a", "lte", True), {"value": ["Operator 'lte' needs a number."]}),
    (leaf("properties.a", "gte", None), {"value": ["Operator 'gte' needs a number."]}),
    (leaf("properties.a", "in", []),
     {"value": ["Operator 'in' needs a non-empty list of strings, numbers or booleans."]}),
    (leaf("properties.a", "not_in", "FR"),
     {"value": ["Operator 'not_in' needs a non-empty list of strings, numbers or booleans."]}),
    (leaf("properties.a", "in", [["FR"]]),
     {"value": ["Operator 'in' needs a non-empty list of strings, numbers or booleans."]}),
    (leaf("properties.a", "exists", True), {"value": ["Operator 'exists' takes no value."]}),
    (leaf("properties.a", "not_exists", None), {"value": ["Operator 'not_exists' takes no value."]}),
    (leaf("properties.a", "contains", {"a": 1}), {"value": ["Operator 'contains' needs a string, number or boolean."]}),
    (leaf("properties.a", "eq", None), {"value": ["Operator 'eq' needs a string, number or boolean."]}),
    (leaf("properties.a", "eq", [1]), {"value": ["Operator 'eq' needs a string, number or boolean."]}),
    (leaf("user.a", "eq", 1), {"field": ["Must be 'properties.<name>' or 'traits.<name>'."]}),
    (leaf("properties", "eq", 1), {"field": ["Must be 'properties.<name>' or 'traits.<name>'."]}),
    (leaf("properties.", "eq", 1), {"field": ["Must be 'properties.<name>' or 'traits.<name>'."]}),
    (leaf("properties.a..b", "eq", 1), {"field": ["Empty name segment in field path."]}),
    (leaf(5, "eq", 1), {"field": ["Not a valid string."]}),
    ({"field": "properties.a", "op": "eq", "value": 1, "extra": 2}, {"extra": ["Unknown field."]}),
    ({"all": []}, {"all": ["Must be a non-empty list of conditions."]}),
    ({"any": "x"}, {"any": ["Must be a non-empty list of conditions."]}),
    ({"all": [leaf("properties.a", "eq", 1)], "any": []}, {"_schema": ["A group has exactly one key, 'all' or 'any'."]}),
    ({"all": ["x"]}, {"all": {"0": {"_schema": ["Must be an object: a condition or an all/any group."]}}}),
    ([leaf("properties.a", "eq", 1)], {"_schema": ["Must be an object: a condition or an all/any group."]}),
])
def test_validate_errors(tree, errors):
    assert validate(tree) == errors


def test_validate_reports_every_bad_leaf_by_path():
    tree = {"all": [
        leaf("properties.a", "eq", 1),
        {"any": [leaf("properties.b", "gt", "x"), leaf("bad.b", "bogus")]},
    ]}
    assert validate(tree) == {"all": {"1": {"any": {
        "0": {"value": ["Operator 'gt' needs a number."]},
        "1": {"field": ["Must be 'properties.<name>' or 'traits.<name>'."], "op": ["Unknown operator 'bogus'."]},
    }}}}


def nest(depth: int) -> dict:
    node: dict = leaf("properties.a", "eq", 1)
    for _ in range(depth):
        node = {"all": [node]}
    return node


def test_depth_limit():
    assert validate(nest(MAX_DEPTH)) == {}
    errors = validate(nest(MAX_DEPTH + 1))
    path = errors
    for _ in range(MAX_DEPTH):
        path = path["all"]["0"]
    assert path == {"_schema": [f"Groups nest at most {MAX_DEPTH} deep."]}


def test_leaf_limit():
    ok = {"any": [leaf("properties.a", "eq", i) for i in range(MAX_LEAVES)]}
    assert validate(ok) == {}
    too_many = {"any": [leaf("properties.a", "eq", i) for i in range(MAX_LEAVES + 1)]}
    assert validate(too_many) == {"_schema": [f"At most {MAX_LEAVES} conditions."]}


# --------------------------------------------------------------------------- properties

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=5), children, max_size=4)),
    max_leaves=12,
)
names = st.sampled_from(["a", "b", "cart", "cart.total", "a.b"])
json_objects = st.dictionaries(st.sampled_from(["a", "b", "cart", "x"]), json_values, max_size=4)
value_scalars = st.one_of(st.booleans(), st.integers(-100, 100), st.text(max_size=4),
                          st.floats(-1e6, 1e6, allow_nan=False))


@st.composite
def leaves(draw):
    op = draw(st.sampled_from(sorted(OPS)))
    node = {"field": draw(st.sampled_from(["properties.", "traits."])) + draw(names), "op": op}
    if op in ("gt", "gte", "lt", "lte"):
        node["value"] = draw(st.one_of(st.integers(-100, 100), st.floats(-1e6, 1e6, allow_nan=False)))
    elif op in ("in", "not_in"):
        node["value"] = draw(st.lists(value_scalars, min_size=1, max_size=4))
    elif op not in ("exists", "not_exists"):
        node["value"] = draw(value_scalars)
    return node


trees = st.recursive(
    leaves(),
    lambda children: st.builds(lambda k, c: {k: c}, st.sampled_from(["all", "any"]),
                               st.lists(children, min_size=1, max_size=3)),
    max_leaves=10,
)


@settings(max_examples=300)
@given(trees, json_objects, json_objects)
def test_generated_trees_validate_and_never_raise(tree, properties, traits):
    if validate(tree) == {}:
        result = evaluate(tree, properties, traits)
        assert isinstance(result, bool)
        reason = explain(tree, properties, traits)
        assert isinstance(reason, str) and reason
        assert (reason == "conditions hold") == result


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=5), leaves())
def test_evaluate_never_raises_on_arbitrary_json(properties, node):
    assert isinstance(evaluate(node, properties, properties), bool)


@given(json_values.filter(lambda v: v is not None), st.lists(value_scalars, min_size=1, max_size=5))
def test_not_in_negates_in_on_present_fields(actual, values):
    props = {"x": actual}
    in_ = evaluate(leaf("properties.x", "in", values), props, {})
    not_in = evaluate(leaf("properties.x", "not_in", values), props, {})
    assert in_ != not_in


@given(json_values.filter(lambda v: v is not None), value_scalars)
def test_ne_negates_eq_on_present_fields(actual, value):
    props = {"x": actual}
    assert evaluate(leaf("properties.x", "eq", value), props, {}) != \
        evaluate(leaf("properties.x", "ne", value), props, {})


@given(leaves(), json_objects, json_objects)
def test_single_child_groups_equal_the_leaf(node, properties, traits):
    expected = evaluate(node, properties, traits)
    assert evaluate({"any": [node]}, properties, traits) == expected
    assert evaluate({"all": [node]}, properties, traits) == expected


@given(st.lists(leaves(), min_size=1, max_size=5), json_objects, json_objects)
def test_groups_are_and_and_or_of_children(children, properties, traits):
    results = [evaluate(c, properties, traits) for c in children]
    assert evaluate({"all": children}, properties, traits) == all(results)
    assert evaluate({"any": children}, properties, traits) == any(results)


@given(json_objects, json_objects)
def test_exists_and_not_exists_are_complements(properties, traits):
    for field in ("properties.a", "traits.cart.total", "properties.x"):
        assert evaluate(leaf(field, "exists"), properties, traits) != \
            evaluate(leaf(field, "not_exists"), properties, traits)


@given(st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False)),
       st.integers(-1000, 1000))
def test_numeric_ops_agree_with_python(actual, value):
    props = {"n": actual}
    assert evaluate(leaf("properties.n", "gt", value), props, {}) == (actual > value)
    assert evaluate(leaf("properties.n", "gte", value), props, {}) == (actual >= value)
    assert evaluate(leaf("properties.n", "lt", value), props, {}) == (actual < value)
    assert evaluate(leaf("properties.n", "lte", value), props, {}) == (actual <= value)

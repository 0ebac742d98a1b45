"""Page targeting operators, occurrence conditions, visits and cancel-event trigger fields in the
pure core: validation, evaluation, and how the engine reports them."""
from __future__ import annotations

import pytest

from ces.core import conditions as cond
from ces.core import occurrences as occ
from ces.core.decision import Event, StaticFacts, Survey, Trigger, compile_conditions, decide
from ces.core.fatigue import FatiguePolicy, PastPrompt, UserHistory, validate_policy
from ces.core.visits import VISIT_IDLE, Visit, check_visit, current

NOW = 1_800_000_000.0


def leaf(op: str, value: object) -> dict:
    return {"field": "properties.path", "op": op, "value": value}


@pytest.mark.parametrize(("op", "value", "path", "holds"), [
    ("starts_with", "/checkout/thanks", "/checkout/thanks/42", True),
    ("starts_with", "/checkout/thanks", "/cart/checkout/thanks", False),
    ("ends_with", "/thanks", "/checkout/thanks", True),
    ("ends_with", "/thanks", "/thanks/more", False),
    ("not_contains", "admin", "/shop/cart", True),
    ("not_contains", "admin", "/admin/users", False),
    ("glob", "/checkout/*/thanks", "/checkout/ord-42/thanks", True),
    ("glob", "/checkout/*/thanks", "/checkout/ord-42/thanks/x", False),
    ("glob", "/p?ge", "/page", True),
    ("glob", "/a.b", "/axb", False),          # a dot is a dot in a glob
    ("glob", "/c[1]", "/c[1]", True),          # brackets are literal too
    ("regex", r"^/orders/\d+/done$", "/orders/981/done", True),
    ("regex", r"^/orders/\d+/done$", "/orders/x/done", False),
    ("regex", "thanks", "/checkout/thanks?x", True),
])
def test_string_operators(op: str, value: str, path: str, holds: bool) -> None:
    tree = leaf(op, value)
    assert cond.validate(tree) == {}
    assert cond.evaluate(tree, {"path": path}, {}) is holds
    assert compile_conditions(tree)({"path": path}, {}) is holds  # the engine's compiled form agrees
    if not holds:
        assert cond.explain(tree, {"path": path}, {}).startswith("properties.path = ")


def test_string_operators_on_other_values() -> None:
    for op in ("starts_with", "ends_with", "glob", "regex"):
        assert cond.evaluate(leaf(op, "1"), {"path": 1}, {}) is False
        assert cond.evaluate(leaf(op, "x"), {}, {}) is False          # missing: false
    assert cond.evaluate(leaf("not_contains", "x"), {}, {}) is False  # missing is false, like ne
    assert cond.evaluate(leaf("not_contains", "x"), {"path": ["y"]}, {}) is True


def test_no_catastrophic_backtracking() -> None:
    """(a+)+$ on 100,000 a's and a b: exponential for a backtracking engine, linear in RE2."""
    tree = leaf("regex", "(a+)+$")
    assert cond.validate(tree) == {}
    assert cond.evaluate(tree, {"path": "a" * 100_000 + "b"}, {}) is False
    assert cond.evaluate(leaf("regex", "^(a+)+$"), {"path": "a" * 100_000 + "!"}, {}) is False
    assert cond.evaluate(tree, {"path": "b" + "a" * 100_000}, {}) is True


@pytest.mark.parametrize(("op", "value", "message"), [
    ("regex", "(", "does not compile"),
    ("regex", "a" * 201, "longer than maximum length 200"),
    ("regex", "(x{1000}){1000}", "does not compile"),
    ("regex", "", "non-empty"),
    ("glob", "", "non-empty"),
    ("glob", "*" * 201, "longer than maximum length 200"),
    ("starts_with", 5, "needs a string"),
    ("regex", ["a"], "needs a string"),
])
def test_bad_patterns_are_refused_naming_the_value(op: str, value: object, message: str) -> None:
    errors = cond.validate({"all": [leaf("eq", "x"), leaf(op, value)]})
    assert list(errors) == ["all"] and list(errors["all"]) == ["1"]
    assert message in errors["all"]["1"]["value"][0].lower() or message in errors["all"]["1"]["value"][0]


# --------------------------------------------------------------------------- occurrences

@pytest.mark.parametrize(("item", "field"), [
    ({"nth": 0}, "nth"), ({"nth": -2}, "nth"), ({"at_least": 0}, "at_least"), ({"nth": 1.5}, "nth"),
    ({"nth": True}, "nth"), ({}, "nth"), ({"nth": 2, "at_least": 2}, "at_least"),
    ({"at_least": 2, "within_days": 0}, "within_days"), ({"at_least": 1, "colour": 1}, "colour"),
    ({"event": "login", "nth": 3}, "event"), ({"event": "", "at_least": 1}, "event"),
])
def test_bad_occurrences_name_the_field(item: dict, field: str) -> None:
    errors = occ.validate([item], "onboarding_step")
    assert field in errors["0"], errors


def test_occurrence_semantics() -> None:
    nth = occ.parse([{"nth": 3}], "step")[0]
    assert [nth.holds(n) for n in (2, 3, 4)] == [False, True, False]
    least = occ.parse([{"event": "login", "at_least": 5, "within_days": 7}], "step")[0]
    assert (least.event, least.holds(4), least.holds(5), least.holds(50)) == ("login", False, True, True)
    assert occ.validate(None, "x") == {} and occ.validate([], "x") == {}
    assert "At most" in occ.validate([{"nth": 1}] * 6, "x")["_schema"][0]


def _engine(trigger: Trigger, facts: StaticFacts, policy: FatiguePolicy | None = None, name: str = "step"):
    policy = policy or FatiguePolicy(recontact_wait=None, survey_wait=None, max_prompts=None,
                                     max_prompts_window=None, one_open=False)
    return decide(Event(name, "u1", {}), [trigger], {1: Survey(1, "ces7")}, policy, "site", facts, NOW)


def test_the_engine_counts_the_event_being_decided() -> None:
    t = Trigger(id=1, event_name="step", survey_id=1, occurrences=occ.parse([{"nth": 3}], "step"))
    reasons = [_engine(t, StaticFacts(event_counts={"step": before})).reason for before in (1, 2, 3)]
    assert reasons == ["occurrences_false", "prompted", "occurrences_false"]
    d = _engine(t, StaticFacts(event_counts={"step": 3}))
    assert d.detail == "trigger 1: step sent 4 times, wants the 3rd one"


# --------------------------------------------------------------------------- visits

def test_visit_layers_and_their_order() -> None:
    policy = FatiguePolicy(max_prompts_per_visit=1, min_visit_seconds=30)
    visit = Visit("v1", NOW - 10, NOW)
    empty = UserHistory(())
    assert check_visit(policy, empty, visit, NOW).reason == "visit_start"
    assert "first 30 seconds" in check_visit(policy, empty, visit, NOW).detail
    assert check_visit(policy, empty, Visit("v1", NOW - 30, NOW), NOW) is None
    asked = UserHistory((PastPrompt(1, "ces7", "answered", NOW - 5, NOW - 4, NOW - 3),))
    assert check_visit(policy, asked, visit, NOW).reason == "visit_cap"  # the cap first: it lasts longer
    before = UserHistory((PastPrompt(1, "ces7", "answered", NOW - 100, NOW - 99, NOW - 98),))
    assert check_visit(policy, before, Visit("v1", NOW - 50, NOW), NOW) is None  # asked in an earlier visit
    assert check_visit(policy, asked, None, NOW) is None  # not on the site: no visit layer


def test_current_visit() -> None:
    a, b = Visit("a", NOW - 900, NOW - 800), Visit("b", NOW - 100, NOW - 60)
    assert current([a, b], NOW) == b
    assert current([a], NOW + VISIT_IDLE) is None
    assert current([], NOW) is None


def test_visit_policy_fields_are_validated() -> None:
    assert validate_policy({"max_prompts_per_visit": 2, "min_visit_seconds": 30}) == {}
    assert "max_prompts_per_visit" in validate_policy({"max_prompts_per_visit": -1})
    assert "min_visit_seconds" in validate_policy({"min_visit_seconds": "30"})


def test_the_engine_reports_visit_reasons() -> None:
    t = Trigger(id=1, event_name="step", survey_id=1)
    policy = FatiguePolicy(recontact_wait=None, survey_wait=None, max_prompts=None, max_prompts_window=None,
                           one_open=False, min_visit_seconds=60)
    assert _engine(t, StaticFacts(current_visit=Visit("v", NOW - 5, NOW)), policy).reason == "visit_start"
    assert _engine(t, StaticFacts(current_visit=Visit("v", NOW - 90, NOW)), policy).reason == "prompted"
    assert _engine(t, StaticFacts(), policy).reason == "prompted"

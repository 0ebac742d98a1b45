"""The decision engine, directly: plain data in, a Decision out; no database, no server."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ces.core.decision import STAGE, Event, StaticFacts, Survey, Trigger, decide, order, transaction_of
from ces.core.fatigue import DAY, FatiguePolicy, PastPrompt, SurveyCounts, SurveyQuota, UserHistory

NOW = 1_750_000_000.0
NO_FATIGUE = FatiguePolicy(recontact_wait=None, type_wait=None, survey_wait=None, max_prompts=None,
                           max_prompts_window=None, one_open=False)
SURVEYS = {1: Survey(1, "ces7"), 2: Survey(2, "nps"), 3: Survey(3, "csat5", status="paused")}


def run(event: Event, *triggers: Trigger, policy: FatiguePolicy = NO_FATIGUE, facts: StaticFacts | None = None,
        surveys=SURVEYS):
    return decide(event, triggers, surveys, policy, "site_k", facts or StaticFacts(), NOW)


def ev(user: str = "u", **kw) -> Event:
    return Event("checkout_completed", user, **kw)


def t(id: int = 1, survey: int = 1, **kw) -> Trigger:
    return Trigger(id=id, event_name="checkout_completed", survey_id=survey, **kw)


def test_no_trigger() -> None:
    d = run(ev())
    assert (d.decision, d.reason, d.trigger_id) == ("skip", "no_trigger", None)


def test_prompted() -> None:
    d = run(ev(), t())
    assert (d.decision, d.reason, d.trigger_id, d.survey_id, d.detail) == ("prompt", "prompted", 1, 1,
                                                                          "trigger 1 asks survey 1")


def test_source() -> None:
    assert run(ev(source="widget"), t()).reason == "source_not_allowed"
    assert run(ev(source="widget"), t(source="any")).reason == "prompted"


def test_stale_event_is_older_than_the_trigger_ttl() -> None:
    assert run(ev(timestamp=NOW - 3601), t(ttl_seconds=3600)).reason == "stale_event"
    assert run(ev(timestamp=NOW - 3600), t(ttl_seconds=3600)).reason == "prompted"


def test_a_user_cap_of_zero_asks_nobody_not_even_a_user_never_asked() -> None:
    policy = FatiguePolicy(recontact_wait=None, survey_wait=None, max_prompts=0, max_prompts_window=DAY)
    d = run(ev(), t(), policy=policy)
    assert (d.decision, d.reason) == ("skip", "user_cap")


def test_conditions_with_traits_asked_lazily() -> None:
    class Counting(StaticFacts):
        asked = 0

        def traits(self):
            Counting.asked += 1
            return super().traits()

    cond = {"all": [{"field": "properties.amount", "op": "gte", "value": 50}]}
    facts = Counting()
    d = run(ev(properties={"amount": 10}), t(conditions=cond), facts=facts)
    assert d.reason == "conditions_false" and d.detail == "trigger 1: properties.amount = 10 is not >= 50"
    assert Counting.asked == 0  # conditions on properties alone never load traits
    trait_trigger = Trigger.from_row({"id": 1, "event_name": "checkout_completed", "survey_id": 1,
                                      "conditions": {"all": [{"field": "traits.plan", "op": "eq", "value": "pro"}]}})
    assert run(ev(), trait_trigger, facts=facts).reason == "conditions_false" and Counting.asked == 1
    assert run(ev(), trait_trigger, facts=StaticFacts(user_traits={"plan": "pro"})).reason == "prompted"


def test_sampling_and_variants_are_sticky_and_independent() -> None:
    users = [f"user-{i}" for i in range(4000)]
    sampled = [u for u in users if run(ev(u), t(sample_rate=20)).reason == "prompted"]
    assert abs(len(sampled) / len(users) - 0.20) < 0.03
    assert [u for u in users if run(ev(u), t(sample_rate=20)).reason == "prompted"] == sampled
    split = t(variants=((1, 50.0), (2, 50.0)))
    chosen = [run(ev(u), split).survey_id for u in users]
    assert abs(chosen.count(2) / len(users) - 0.5) < 0.03
    assert chosen == [run(ev(u), split).survey_id for u in users]
    assert run(ev(), t(sample_rate=0)).reason == "sampled_out"


def test_a_trigger_with_bad_variant_weights_is_refused_when_built_not_per_event() -> None:
    for bad in (((1, 50.0), (2, 40.0)), ((1, -10.0), (2, 110.0)), ((1, True), (2, 99.0))):
        with pytest.raises(ValueError, match="weight"):
            t(variants=bad)
    assert t(variants=((1, 0.0), (2, 100.0))).variants == ((1, 0.0), (2, 100.0))
    assert {run(ev(f"u{i}"), t(variants=((1, 0.0), (2, 100.0)))).survey_id for i in range(200)} == {2}


def test_survey_paused_and_gone() -> None:
    assert run(ev(), t(survey=3)).detail == "survey 3 is paused"
    assert run(ev(), t(survey=99)).reason == "survey_paused"


def test_transaction() -> None:
    trig = t(transaction_key="order_id")
    d = run(ev(properties={"order_id": "A"}), trig)
    assert d.transaction == 'order_id="A"'
    seen = StaticFacts(transactions={'order_id="A"': "p_1"})
    d = run(ev(properties={"order_id": "A"}), trig, facts=seen)
    assert (d.reason, d.detail) == ("transaction_seen", 'order_id "A" already has prompt p_1')
    assert run(ev(properties={"order_id": "B"}), trig, facts=seen).reason == "prompted"
    assert transaction_of("cart.id", {"cart": {"id": 7}})[0] == "cart.id=7"
    assert transaction_of("cart.id", {"cart.id": 7})[0] == "cart.id=7"
    assert transaction_of("order_id", {}) is None


def test_fatigue_and_quota_come_from_the_policy_and_counts() -> None:
    shown = PastPrompt(1, "ces7", "answered", NOW - 3 * DAY, NOW - 3 * DAY, NOW - 3 * DAY)
    facts = StaticFacts(user_history=UserHistory((shown,)))
    d = run(ev(), t(), policy=FatiguePolicy(), facts=facts)
    assert (d.reason, d.detail) == ("recontact_wait", "last prompt shown 3 days ago, wait is 30 days")
    open_ = PastPrompt(1, "ces7", "issued", NOW, prompt_id="p_9")
    assert run(ev(), t(), policy=FatiguePolicy(), facts=StaticFacts(user_history=UserHistory((open_,)))).reason \
        == "prompt_open"
    quota = {1: Survey(1, "ces7", quota=SurveyQuota(max_prompts_per_day=5))}
    full = StaticFacts(survey_counts={1: SurveyCounts(prompts_today=5)})
    d = run(ev(), t(), facts=full, surveys=quota)
    assert (d.reason, d.detail) == ("quota_reached", "5 prompts today (UTC), quota is 5")


def test_arbitration_priority_then_id() -> None:
    a, b, c = t(1, priority=0), t(2, survey=2, priority=5), t(3, priority=5)
    assert [x.id for x in order([a, b, c])] == [2, 3, 1]
    assert run(ev(), a, b, c).trigger_id == 2


def test_the_trigger_that_got_furthest_explains_the_skip() -> None:
    cond = {"all": [{"field": "properties.x", "op": "exists"}]}
    shown = PastPrompt(2, "nps", "answered", NOW - DAY, NOW - DAY, NOW - DAY)
    facts = StaticFacts(user_history=UserHistory((shown,)))
    high = t(1, priority=10, conditions=cond)
    low = t(2, survey=2)
    d = run(ev(), high, low, policy=FatiguePolicy(recontact_wait=30 * DAY), facts=facts)
    assert (d.reason, d.trigger_id) == ("recontact_wait", 2)
    # Equally far: the first tried (highest priority) explains.
    d = run(ev(), t(1, priority=1, sample_rate=0), t(2, sample_rate=0))
    assert (d.reason, d.trigger_id) == ("sampled_out", 1)


def test_stages_are_ordered_as_documented() -> None:
    order_ = ["source_not_allowed", "stale_event", "conditions_false", "sampled_out", "survey_paused",
              "transaction_seen", "prompt_open", "quota_reached"]
    assert [STAGE[r] for r in order_] == sorted(STAGE[r] for r in order_)


@settings(max_examples=200, deadline=None)
@given(user=st.text(min_size=1, max_size=20), rate=st.floats(0, 100),
       amount=st.one_of(st.none(), st.integers(-100, 100), st.text(max_size=3)))
def test_decision_is_a_function_of_its_inputs(user: str, rate: float, amount) -> None:
    cond = {"any": [{"field": "properties.amount", "op": "gt", "value": 0}]}
    props = {} if amount is None else {"amount": amount}
    trig = t(sample_rate=rate, conditions=cond, variants=((1, 30.0), (2, 70.0)))
    first = run(ev(user, properties=props), trig)
    assert run(ev(user, properties=props), trig) == first
    assert first.reason in {"prompted", "conditions_false", "sampled_out"}


# --------------------------------------------------------------------------- compiled conditions

from ces.core import conditions as cond_module  # noqa: E402
from ces.core.decision import compile_conditions  # noqa: E402

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-5, 5, allow_nan=False),
                     st.sampled_from(["a", "b", "ab", "", float("inf"), float("-inf"), float("nan"), 2**70]))
_values = st.one_of(_scalars, st.lists(_scalars, max_size=3),
                    st.dictionaries(st.sampled_from(["a", "b"]), _scalars, max_size=2))
_fields = st.sampled_from(["properties.a", "properties.b", "properties.c.a", "properties.a.b", "traits.a",
                           "traits.b", "traits.c.a"])


@st.composite
def _leaf(draw):
    op = draw(st.sampled_from(sorted(cond_module.OPS)))
    node = {"field": draw(_fields), "op": op}
    if op in cond_module.NUMERIC_OPS:
        node["value"] = draw(st.one_of(st.integers(-5, 5), st.floats(-5, 5, allow_nan=False)))
    elif op in cond_module.LIST_OPS:
        node["value"] = draw(st.lists(st.one_of(st.booleans(), st.integers(-5, 5), st.sampled_from(["a", "b"])),
                                      min_size=1, max_size=3))
    elif op not in cond_module.NO_VALUE_OPS:
        node["value"] = draw(st.one_of(st.booleans(), st.integers(-5, 5), st.sampled_from(["a", "b", "ab"])))
    return node


_trees = st.recursive(_leaf(), lambda kids: st.builds(lambda key, children: {key: children},
                                                     st.sampled_from(["all", "any"]),
                                                     st.lists(kids, min_size=1, max_size=3)), max_leaves=8)
_objects = st.one_of(st.dictionaries(st.sampled_from(["a", "b", "c", "c.a", "a.b"]), _values, max_size=4),
                     st.none(), st.lists(st.integers(), max_size=2))


@settings(max_examples=600, deadline=None)
@given(tree=_trees, properties=_objects, traits=_objects)
def test_compiled_conditions_agree_with_conditions_evaluate(tree, properties, traits) -> None:
    if cond_module.validate(tree):
        return
    assert compile_conditions(tree)(properties, traits) == cond_module.evaluate(tree, properties, traits)

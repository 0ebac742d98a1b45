"""The editor pages' form reading (dashboard/editing.py, triggers.trigger_body/field_errors):
a form becomes the API's body, and the API's messages land on the form's own fields."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from ces.dashboard.editing import flat_errors, number, seconds, split_seconds, typed, untyped
from ces.dashboard.triggers import field_errors, trigger_body


def test_numbers_and_durations() -> None:
    assert number("") is None and number(" 12 ") == 12 and number("2.5") == 2.5 and number("abc") == "abc"
    assert seconds("10", "minutes") == 600 and seconds("", "days") is None and seconds("x", "days") == "x"
    assert seconds("1.5", "hours") == 5400
    assert split_seconds(2592000) == ("30", "days") and split_seconds(5400) == ("90", "minutes")
    assert split_seconds(None) == ("", "days") and split_seconds(7) == ("7", "seconds")


def test_typed_values_round_trip() -> None:
    for text, value in (("50", 50), ('"50"', "50"), ("true", True), ("pro", "pro"), ("2.5", 2.5), ("", "")):
        assert typed(text) == value
    for value in (50, "50", True, "pro", "/checkout/*", None):
        assert typed(untyped(value)) == value


def test_flat_errors() -> None:
    assert flat_errors({"texts": {"fr": {"question": ["Missing."]}}, "name": ["Bad."]}) == \
        {"texts.fr.question": ["Missing."], "name": ["Bad."]}
    assert flat_errors({"variants": ["Variant weights must sum to 100."]}) == \
        {"variants": ["Variant weights must sum to 100."]}
    assert flat_errors({"_schema": ["Whole."]}) == {"_schema": ["Whole."]}


def test_trigger_rows_map_back_to_the_form() -> None:
    form = MultiDict({"event_name": "e", "survey_id": "1", "match": "any",
                      "cond.0.name": "", "cond.0.op": "eq",                    # an empty row is skipped
                      "cond.3.kind": "traits", "cond.3.name": "plan", "cond.3.op": "in", "cond.3.value": "pro, 2",
                      "cond.5.name": "amount", "cond.5.op": "gt", "cond.5.value": "lots",
                      "var.2.survey_id": "1", "var.2.weight": "100",
                      "delay_seconds": "2", "delay_seconds_unit": "hours", "ttl_seconds": ""})
    body, rows = trigger_body(form)
    assert body["conditions"] == {"any": [{"field": "traits.plan", "op": "in", "value": ["pro", 2]},
                                          {"field": "properties.amount", "op": "gt", "value": "lots"}]}
    assert body["variants"] == [{"survey_id": 1, "weight": 100}] and body["delay_seconds"] == 7200
    assert "ttl_seconds" not in body  # the API's default
    errors = field_errors({"conditions": {"any": {"1": {"value": ["Operator 'gt' needs a number."]}}},
                           "variants": {"0": {"weight": ["Bad."]}}}, rows, json_mode=False)
    assert errors == {"cond.5.value": ["Operator 'gt' needs a number."], "var.2.weight": ["Bad."]}

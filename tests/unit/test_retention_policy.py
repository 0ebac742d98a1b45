"""The pure retention policy: validation naming the field, and the cut-offs with the fatigue guard."""
from __future__ import annotations

import pytest

from ces.core.retention import DAY, RetentionPolicy, cutoffs, policy_from_dict, validate


def test_defaults() -> None:
    assert policy_from_dict(None) == policy_from_dict({}) == RetentionPolicy(90, "keep", 365)


@pytest.mark.parametrize("data, field", [
    ({"events_days": 0}, "events_days"), ({"events_days": -1}, "events_days"), ({"events_days": 2.5}, "events_days"),
    ({"events_days": "90"}, "events_days"), ({"events_days": None}, "events_days"), ({"events_days": False}, "events_days"),
    ({"events_days": 10 ** 9}, "events_days"), ({"answers_days": 0}, "answers_days"),
    ({"answers": "forget"}, "answers"), ({"answers": None}, "answers"), ({"ttl": 3}, "ttl"),
])
def test_bad_values_name_their_field(data: dict, field: str) -> None:
    errors = validate(data)
    assert list(errors) == [field] and errors[field]
    with pytest.raises(ValueError):
        policy_from_dict(data)


def test_not_an_object() -> None:
    assert validate([1]) == {"_schema": ["Must be a JSON object."]}


def test_cutoffs_and_the_fatigue_guard() -> None:
    now = 1_000 * DAY
    cut = cutoffs(RetentionPolicy(90, "keep", 365), now, 30 * DAY)
    assert cut.events == cut.traits == cut.prompts == now - 90 * DAY and cut.answers is None
    # A recontact wait longer than the retention keeps prompts (and answers on them) longer.
    cut = cutoffs(RetentionPolicy(30, "anonymise", 60), now, 200 * DAY)
    assert cut.events == now - 30 * DAY  # events are not what the fatigue policy reads
    assert cut.prompts == now - 200 * DAY and cut.answers == now - 200 * DAY
    cut = cutoffs(RetentionPolicy(30, "delete", 400), now, None)
    assert cut.prompts == now - 30 * DAY and cut.answers == now - 400 * DAY

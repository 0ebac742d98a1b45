"""Effort drivers (buckets, ranking) and report filter parsing: pure functions."""
from __future__ import annotations

import pytest

from ces.core import drivers
from ces.core.report_filters import FilterError, parse
from ces.core.scoring import compare, score_from_distribution


def test_default_bucket_labels_and_lookup() -> None:
    labels = [label for label, _, _ in drivers.bucket_labels(drivers.DEFAULT_BOUNDS)]
    assert labels[:7] == ["<0", "0", "1", "2", "3-4", "5-9", "10-19"] and labels[-1] == "1000+"
    assert [drivers.bucket_of(v, drivers.DEFAULT_BOUNDS) for v in (-3, 0, 0.5, 1, 4, 4.9, 5, 19, 20, 5000)] == \
        ["<0", "0", "0", "1", "3-4", "3-4", "5-9", "10-19", "20-49", "1000+"]


def test_custom_bounds_validated() -> None:
    assert drivers.check_bounds([0, 10, 20.5]) == (0, 10, 20.5)
    assert drivers.bucket_of(20.4, (0, 10, 20.5)) == "10-<20.5"
    for bad in ([], [3, 1], [1, 1], [float("inf")]):
        with pytest.raises(ValueError):
            drivers.check_bounds(bad)


def test_rank_orders_by_difference_from_the_rest() -> None:
    counts = {("text", "chat"): {7: 40, 1: 10}, ("text", "phone"): {7: 10, 1: 40}, ("text", "email"): {7: 25, 1: 25}}
    rows = drivers.rank("ces7", counts)
    assert [r.value for r in rows] == ["phone", "email", "chat"]
    phone = rows[0]
    # Independent check: phone vs the rest (chat + email) with the scoring module's compare.
    rest = score_from_distribution("ces7", {7: 65, 1: 35})
    d = compare(rest, score_from_distribution("ces7", {7: 10, 1: 40}))
    assert phone.difference == pytest.approx(d.difference) and phone.difference == pytest.approx(20 - 65)
    assert phone.significant and phone.rest.n == 100
    assert rows[0].as_dict()["difference_ci"]["high"] < 0


def test_rank_single_value_has_no_difference() -> None:
    rows = drivers.rank("nps", {("number", "0"): {10: 3}})
    assert rows[0].difference is None and not rows[0].significant
    assert rows[0].as_dict()["bucket"] == {"low": 0, "high": 1}


def test_parse_filters() -> None:
    q = parse([("from", "2026-03-01"), ("to", "2026-03-31"), ("trigger", "1,2"), ("locale", "fr"),
               ("properties.channel", "chat"), ("properties.wait_minutes[gte]", "10"),
               ("properties.tier[in]", "gold,3"), ("interval", "month"), ("driver", "transfers")],
              ("interval", "driver"))
    assert q.start == 1772323200.0 and q.end == 1772323200.0 + 31 * 86400 and q.whole_days
    assert q.triggers == (1, 2) and q.locale == "fr" and q.interval == "month"
    chan, wait, tier = q.properties
    assert (chan.op, chan.values, chan.json_path) == ("eq", ("chat",), "$.channel")
    assert (wait.op, wait.values) == ("gte", (10,))
    assert tier.values == ("gold", "3", 3)
    assert not parse([("from", "2026-03-01T10:00:00+02:00")]).whole_days
    assert parse([("from", "2026-03-01T10:00:00")]).start == 1772323200.0 + 36000


@pytest.mark.parametrize("args, field", [
    ([("from", "2026-03-02"), ("to", "2026-03-01")], "to"),
    ([("from", "2026-13-45")], "from"),
    ([("properties.x[regex]", "a")], "properties.x[regex]"),
    ([("properties.x[gt]", "a")], "properties.x[gt]"),
    ([("properties.x[exists]", "maybe")], "properties.x[exists]"),
    ([("properties.a'b", "1")], "properties.a'b"),
    ([("page_size", "500")], "page_size"),
    ([("page", "0")], "page"),
    ([("interval", "year")], "interval"),
    ([("nope", "1")], "nope"),
    ([("locale", "fr"), ("locale", "en")], "locale"),
])
def test_parse_refuses_with_the_field(args, field) -> None:
    with pytest.raises(FilterError) as err:
        parse(args, ("page", "page_size", "interval"))
    assert err.value.field == field

"""Which single property filters the rollups per value answer exactly (core/rollup_filter.py)."""
from __future__ import annotations

import pytest

from ces.core.report_filters import parse
from ces.core.rollup_filter import rollup_cells


def cells(*args: tuple[str, str]):
    return rollup_cells(parse(list(args)))


def test_text_equality_and_in() -> None:
    assert cells(("properties.channel", "chat")) == ("channel", (("text", "chat"),))
    assert cells(("properties.channel[in]", "chat,phone,chat")) == ("channel", (("text", "chat"), ("text", "phone")))


def test_ranges_on_bucket_edges_only() -> None:
    assert cells(("properties.transfers[gte]", "2")) == (
        "transfers", tuple(("number", v) for v in ("2", "3-4", "5-9", "10-19", "20-49", "50-99", "100-199",
                                                  "200-499", "500-999", "1000+")))
    assert cells(("properties.transfers[lt]", "2")) == ("transfers", (("number", "<0"), ("number", "0"),
                                                                      ("number", "1")))
    assert cells(("properties.transfers[lt]", "0")) == ("transfers", (("number", "<0"),))
    for op, bound in (("gte", "4"), ("gt", "2"), ("lte", "2"), ("gte", "2.5")):
        assert cells((f"properties.transfers[{op}]", bound)) is None, (op, bound)


@pytest.mark.parametrize("args", [
    [("properties.transfers", "2")],                      # also the number 2: its bucket is wider
    [("properties.vip", "true")],                         # also the number 1
    [("properties.note", "x" * 65)],                      # longer than the rollups keep
    [("properties.channel[ne]", "chat")],
    [("properties.extra[exists]", "true")],
    [("properties.extra.level", "a")],                    # nested
    [("properties.channel", "chat"), ("properties.transfers[gte]", "2")],
    [("properties.channel", "chat"), ("tz", "Europe/Paris")],
    [("properties.channel", "chat"), ("from", "2026-03-01T06:00:00Z")],
    [("properties.channel", "chat"), ("locale", "en")],
    [("properties.channel", "chat"), ("variant", "b")],
    [],
])
def test_everything_else_reads_the_base_tables(args) -> None:
    assert rollup_cells(parse(args)) is None


def test_whole_days_and_triggers_are_fine() -> None:
    q = parse([("properties.channel", "chat"), ("from", "2026-03-01"), ("to", "2026-03-10"), ("trigger", "3")])
    assert rollup_cells(q) == ("channel", (("text", "chat"),))

"""The results page's address: the form's fields written as the report API's query, and the
default comparison's periods (pure functions of the dashboard module)."""
from __future__ import annotations

from datetime import datetime, timezone

from ces.core.report_filters import parse
from ces.dashboard.results import canonical_args, default_compare


def test_form_fields_become_the_api_query() -> None:
    args = [("from", "2026-03-01"), ("to", ""), ("trigger", "2"), ("q", ""), ("csrf_token", "x"),
            ("pkey", "channel"), ("pop", "eq"), ("pval", "chat"),
            ("pkey", "transfers"), ("pop", "gte"), ("pval", "2"),
            ("pkey", ""), ("pop", "eq"), ("pval", ""),  # the empty "new filter" row
            ("a.pkey", "channel"), ("a.pop", "eq"), ("a.pval", "phone"), ("b.pkey", ""), ("b.pop", "eq"), ("b.pval", ""),
            ("pkey", "vip"), ("pop", "exists"), ("pval", "")]
    assert canonical_args(args) == [
        ("from", "2026-03-01"), ("trigger", "2"), ("properties.channel", "chat"),
        ("properties.transfers[gte]", "2"), ("properties.vip[exists]", "true"), ("a.properties.channel", "phone")]
    # What comes out is what the report API parses.
    parse([a for a in canonical_args(args) if not a[0].startswith("a.")], ())


def test_a_property_without_a_value_is_left_out() -> None:
    assert canonical_args([("pkey", "channel"), ("pop", "eq"), ("pval", "")]) == []


def test_default_comparison_is_the_last_28_days_against_the_28_before() -> None:
    now = datetime(2026, 12, 1, 15, tzinfo=timezone.utc).timestamp()
    assert default_compare(parse([]), "UTC", now) == [
        ("a.from", "2026-10-07"), ("a.to", "2026-11-03"), ("b.from", "2026-11-04"), ("b.to", "2026-12-01")]
    # It ends with the view's own end when the view has one (a date `to` is inclusive).
    q = parse([("to", "2026-03-31")])
    assert default_compare(q, "UTC", now)[-1] == ("b.to", "2026-03-31")
    # Days in the site's zone: 23:30 UTC on Nov 30 is already Dec 1 in Paris.
    late = datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc).timestamp()
    assert default_compare(parse([], (), "Europe/Paris"), "Europe/Paris", late)[-1] == ("b.to", "2026-12-01")

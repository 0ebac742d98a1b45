"""core/columns.py against the SQL it replaces: a filter on columns keeps exactly the events
SQLite's JSON functions keep (storage/reports._prop_clause, the base tables' reference), the
driver labels are the base tables' labels, and local day numbers are time_zones.local_day_sql's."""
from __future__ import annotations

import json
import random
import sqlite3

import numpy as np
import pytest

from ces.core import columns
from ces.core.flat_properties import flatten
from ces.core.report_filters import parse
from ces.core.time_zones import local_day_sql, offsets
from ces.storage.reports import SCALAR_TYPES, _prop_clause, _value_case

VALUES = ["chat", "email", "2", "true", "", "x" * 70, 0, 1, 2, 2.5, 3, -1, 12, True, False, None,
          {"level": 1}, {"level": "high"}, [1, 2], 1e300]


def events(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        props = {}
        for key in ("channel", "transfers", "vip", "extra"):
            if rng.random() < 0.8:
                props[key] = rng.choice(VALUES)
        if isinstance(props.get("extra"), dict) and rng.random() < 0.5:
            props["extra"] = {"level": rng.choice(VALUES[:16]), "deep": {"x": rng.choice(VALUES[:16])}}
        out.append(props)
    return out


QUERIES = [
    "properties.channel=chat", "properties.channel[in]=chat,email,2", "properties.channel=2",
    "properties.transfers=2", "properties.transfers=true", "properties.vip=true", "properties.vip=false",
    "properties.vip=1", "properties.transfers[ne]=2", "properties.channel[ne]=chat",
    "properties.transfers[gt]=2", "properties.transfers[gte]=2", "properties.transfers[lt]=2.5",
    "properties.transfers[lte]=-1", "properties.extra[exists]=true", "properties.extra[exists]=false",
    "properties.extra.level=1", "properties.extra.level[gte]=1", "properties.extra.deep.x=chat",
    "properties.missing[exists]=false", "properties.missing[ne]=a", "properties.channel=",
    f"properties.channel={'x' * 70}", "properties.channel=chat&properties.transfers[gte]=2",
    "properties.channel[ne]=chat&properties.vip[exists]=true",
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_masks_equal_sqlite_json_filters(seed: int) -> None:
    rows = events(600, seed)
    db = sqlite3.connect(":memory:")
    db.execute("create table events (id integer primary key, properties text)")
    db.executemany("insert into events (id, properties) values (?, ?)", [(i, json.dumps(p)) for i, p in enumerate(rows)])
    flat = [flatten(p) for p in rows]
    for query in QUERIES:
        q = parse([tuple(kv.split("=", 1)) for kv in query.split("&")])  # type: ignore[misc]
        params: list = []
        where = " and ".join(_prop_clause(p, params).replace("e.properties", "properties") for p in q.properties)
        expected = {r[0] for r in db.execute(f"select id from events where {where}", params)}
        cols = columns.build(flat, [p.path for p in q.properties])
        got = set(np.nonzero(columns.mask(cols, q.properties, len(rows)))[0].tolist())
        assert got == expected, query
        assert 0 < len(expected) < len(rows) or query in ("properties.missing[exists]=false", "properties.missing[ne]=a"), query


def test_storage_round_trip_and_assembly_keep_the_values() -> None:
    rows = [flatten(p) for p in events(300, 7)]
    rows[5] = flatten({"transfers": 1e300, "channel": "y" * 300})  # a number no integer type holds
    whole = columns.build(rows)
    parts = [columns.build(rows[:100]), columns.build(rows[100:250]), columns.build(rows[250:])]
    for key, col in whole.items():
        packed = [columns.decode(*columns.encode(p[key])) if key in p else columns.pack(columns.Column.empty(n))
                  for p, n in zip(parts, (100, 150, 50))]
        joined = columns.assemble(packed)
        assert np.array_equal(joined.kind, col.kind), key
        assert np.array_equal(joined.num, col.num, equal_nan=True), key
        texts = [joined.texts[c] if c >= 0 else None for c in joined.code]
        assert texts == [col.texts[c] if c >= 0 else None for c in col.code], key
    assert columns.pack(whole["transfers"]).values.dtype == np.float64
    # A rare key's kinds are stored compressed, a common one's as they are; both read back.
    rare = columns.build([flatten({"order_17": 1} if i == 3 else {}) for i in range(4096)])["order_17"]
    kinds, _nums, _codes, meta = columns.encode(rare)
    assert len(kinds) < 200 and json.loads(meta)["z"] is True
    assert np.array_equal(columns.decode(*columns.encode(rare)).kind, rare.kind)
    kinds, _nums, _codes, meta = columns.encode(whole["channel"])
    assert len(kinds) == 300 and json.loads(meta)["z"] is False
    small = columns.pack(columns.build([flatten({"t": 3}), flatten({"t": -2})])["t"])
    assert small.values.dtype == np.int8 and small.codes.dtype == np.uint8


@pytest.mark.parametrize("bounds", [(0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000), (0, 2.5, 10)])
def test_driver_labels_equal_the_base_tables(bounds: tuple) -> None:
    rows = events(500, 5)
    db = sqlite3.connect(":memory:")
    db.execute("create table events (id integer primary key, properties text)")
    db.executemany("insert into events (id, properties) values (?, ?)", [(i, json.dumps(p)) for i, p in enumerate(rows)])
    kind, value = _value_case("jt", "jv", bounds)
    expected = {}
    for i, k, v in db.execute(
            f"select id, {kind}, {value} from (select id, json_type(properties, '$.transfers') as jt, "
            "json_extract(properties, '$.transfers') as jv from events) "
            f"where jt in {SCALAR_TYPES} and (jt != 'text' or length(jv) <= 64)"):
        expected[i] = (k, v)
    label, names = columns.labels(columns.build([flatten(p) for p in rows], ["transfers"])["transfers"], bounds)
    got = {i: names[v] for i, v in enumerate(label.tolist()) if v >= 0}
    assert got == expected
    assert len(expected) > 100


@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"])
def test_local_days_equal_local_day_sql(tz: str) -> None:
    rng = random.Random(tz)
    start, end = 1_700_000_000.0, 1_700_000_000.0 + 3 * 365 * 86400
    ts = np.array(sorted(rng.uniform(start, end) for _ in range(3000)) + [start, end - 1])
    db = sqlite3.connect(":memory:")
    db.execute("create table t (i integer primary key, at real)")
    db.executemany("insert into t (i, at) values (?, ?)", list(enumerate(ts.tolist())))
    expected = [r[0] for r in db.execute(f"select {local_day_sql('at', tz, start, end)} from t order by i")]
    assert columns.day_numbers(ts, offsets(tz, start, end)).tolist() == expected

"""Event properties as columns: what a report under any property filter evaluates in a few
vectorised passes instead of one JSON parse or index lookup per answer (storage/report_columns.py
keeps them; docs/reports.md, "Fast filters").

Pure: numpy, no SQL. One `Column` per flattened key (core/flat_properties.py) over n rows (events):

* `kind`: int8 per row — MISSING, or the JSON type as the filters tell them apart;
* `num`: float64 per row, the number (booleans 1 and 0, as `json_extract` gives them), NaN elsewhere;
* `code` + `texts`: int32 per row, an index into `texts` (-1: not a text).

`mask()` gives exactly what the base tables' JSON filters give (storage/reports.py `_prop_clause`,
the reference `answer_props` reproduces): an equality matches the text against the text
candidates and the number (booleans included) against the numeric ones; `ne` is true where the
key is missing or null; `gt`…`lte` compare numbers only; `exists` is any kind, null included.
"""
from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from . import drivers
from .flat_properties import Row
from .report_filters import PropertyFilter

MISSING, NUMBER, TEXT, BOOL, NULL, OBJECT, ARRAY = range(7)
KINDS = {"number": NUMBER, "text": TEXT, "bool": BOOL, "null": NULL, "object": OBJECT, "array": ARRAY}
MAX_TEXT = 64  # as the rollups: a longer text is not a driver value


@dataclass
class Column:
    kind: np.ndarray   # int8
    num: np.ndarray    # float64
    code: np.ndarray   # int32
    texts: list[str]

    @classmethod
    def empty(cls, n: int) -> "Column":
        return cls(np.zeros(n, np.int8), np.full(n, np.nan), np.full(n, -1, np.int32), [])

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, rows: np.ndarray) -> "Column":
        """The column at these row positions."""
        return Column(self.kind[rows], self.num[rows], self.code[rows], self.texts)


def build(rows: Sequence[Iterable[Row]], keys: Iterable[str] | None = None) -> dict[str, Column]:
    """Columns of each key (of `keys` only, when given) from each row's flattened properties."""
    wanted = None if keys is None else set(keys)
    n = len(rows)
    cols: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]] = {}
    for i, flat in enumerate(rows):
        for key, kind, num, txt in flat:
            if wanted is not None and key not in wanted:
                continue
            col = cols.get(key)
            if col is None:
                col = cols[key] = (np.zeros(n, np.int8), np.full(n, np.nan), np.full(n, -1, np.int32), {})
            col[0][i] = KINDS[kind]
            if num is not None:
                col[1][i] = num
            if txt is not None:
                col[2][i] = col[3].setdefault(txt, len(col[3]))
    out = {key: Column(k, v, c, list(d)) for key, (k, v, c, d) in cols.items()}
    for key in wanted or ():
        out.setdefault(key, Column.empty(n))
    return out


# -- storage: packed, no compression ----------------------------------------------------------------
# A stored column is its kinds (1 byte a row), the numbers of its number/boolean rows and the text
# codes of its text rows, each in the narrowest type that holds them exactly: a few bytes a row,
# read without decompressing (zlib on everything cost 250 ms of a 700 ms ranking over 20
# properties); only a sparse key's kinds are compressed.

@dataclass
class Packed:
    kind: np.ndarray     # int8, every row
    values: np.ndarray   # the NUMBER/BOOL rows' numbers, in row order
    codes: np.ndarray    # the TEXT rows' codes into `texts`, in row order
    texts: list[str]


def _narrow(values: np.ndarray) -> np.ndarray:
    if len(values) and np.all(np.mod(values, 1) == 0):
        low, high = values.min(), values.max()
        for dtype in (np.int8, np.int16, np.int32):
            info = np.iinfo(dtype)
            if info.min <= low and high <= info.max:
                return values.astype(dtype)
    return values


def pack(col: Column) -> Packed:
    size = len(col.texts)
    code_type = np.uint8 if size <= 256 else np.uint16 if size <= 65536 else np.int32
    return Packed(col.kind, _narrow(col.num[numeric(col.kind)]), col.code[col.kind == TEXT].astype(code_type), col.texts)


SPARSE = 0.25  # a key in fewer rows than this share has its kinds zlib-compressed (mostly MISSING)


def encode(col: Column) -> tuple[bytes, bytes, bytes, str]:
    """(kinds, numbers, codes, meta JSON) of a column, as report_segment_props stores them. The
    kinds of a sparse key are compressed (a site sending many rare keys would otherwise store a
    byte per row for each); a dense key's are not (decompressing them cost more than reading)."""
    p = pack(col)
    kinds = p.kind.tobytes()
    sparse = bool(len(kinds)) and int(np.count_nonzero(p.kind)) < SPARSE * len(kinds)
    meta = {"num": p.values.dtype.str, "code": p.codes.dtype.str, "texts": p.texts, "z": sparse}
    return zlib.compress(kinds, 1) if sparse else kinds, p.values.tobytes(), p.codes.tobytes(), \
        json.dumps(meta, ensure_ascii=False)


def decode(kind: bytes, num: bytes, code: bytes, meta: str) -> Packed:
    m = json.loads(meta)
    kinds = zlib.decompress(kind) if m.get("z") else kind
    return Packed(np.frombuffer(kinds, np.int8), np.frombuffer(num, m["num"]), np.frombuffer(code, m["code"]),
                  m["texts"])


def assemble(parts: Sequence[Packed]) -> Column:
    """One column from consecutive packed parts, their text codes mapped into one dictionary."""
    texts: dict[str, int] = {}
    codes = []
    for part in parts:
        if part.texts:
            mapping = np.array([texts.setdefault(t, len(texts)) for t in part.texts], np.int32)
            codes.append(mapping[part.codes])
    kind = np.concatenate([p.kind for p in parts]) if parts else np.zeros(0, np.int8)
    col = Column.empty(len(kind))
    col.kind = kind
    numbers = numeric(kind)
    if numbers.any():
        col.num[numbers] = np.concatenate([p.values.astype(np.float64) for p in parts])
    if codes:
        col.code[kind == TEXT] = np.concatenate(codes)
    col.texts = list(texts)
    return col


# -- filters ---------------------------------------------------------------------------------------

def numeric(kind: np.ndarray) -> np.ndarray:
    """Rows holding a number (booleans included)."""
    return (kind == NUMBER) | (kind == BOOL)


def _equal(col: Column, values: Sequence[object]) -> np.ndarray:
    out = np.zeros(len(col), bool)
    texts = {v for v in values if isinstance(v, str)}
    numbers = {float(v) for v in values if isinstance(v, (int, float))}  # booleans are 1 and 0
    if texts and col.texts:
        hit = np.array([t in texts for t in col.texts] + [False], bool)  # code -1 reads the last
        out |= hit[col.code]
    if numbers:
        out |= one_of(col.num, numbers) & numeric(col.kind)
    return out


def one_of(values: np.ndarray, wanted: Iterable[float]) -> np.ndarray:
    """values ∈ wanted: a comparison per wanted value when they are few (isin sorts)."""
    wanted = list(wanted)
    if len(wanted) > 8:
        return np.isin(values, wanted)
    out = np.zeros(len(values), bool)
    for v in wanted:
        out |= values == v
    return out


_RANGES = {"gt": np.greater, "gte": np.greater_equal, "lt": np.less, "lte": np.less_equal}


def matches(col: Column, p: PropertyFilter) -> np.ndarray:
    """Rows passing one property filter."""
    if p.op == "exists":
        present = col.kind != MISSING
        return present if p.values[0] else ~present
    if p.op in _RANGES:
        with np.errstate(invalid="ignore"):
            return (col.kind == NUMBER) & _RANGES[p.op](col.num, float(p.values[0]))  # type: ignore[arg-type]
    equal = _equal(col, p.values)
    return ~equal if p.op == "ne" else equal


def mask(columns: dict[str, Column], filters: Sequence[PropertyFilter], n: int) -> np.ndarray:
    out = np.ones(n, bool)
    for p in filters:
        out &= matches(columns[p.path], p)
    return out


# -- driver values ---------------------------------------------------------------------------------

def labels(col: Column, bounds: Sequence[float]) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """(label index per row, -1 where the row has no usable value; the (kind, value) of each
    index), as the rollups label a driver: numbers in `bounds`' buckets, booleans, texts of at
    most 64 characters."""
    bucket_names = [label for label, _low, _high in drivers.bucket_labels(bounds)]
    highs = np.array([float(b) for b in bounds])
    out = np.full(len(col), -1, np.int64)
    number = col.kind == NUMBER
    out[number] = np.searchsorted(highs, col.num[number], side="right")
    names: list[tuple[str, str]] = [("number", b) for b in bucket_names]
    base = len(names)
    boolean = col.kind == BOOL
    out[boolean] = base + (col.num[boolean] == 1)
    names += [("bool", "false"), ("bool", "true")]
    base = len(names)
    short = np.array([len(t) <= MAX_TEXT for t in col.texts] + [False], bool)
    text = (col.kind == TEXT) & short[col.code]
    out[text] = base + col.code[text]
    names += [("text", t) for t in col.texts]
    return out, names


# -- days ------------------------------------------------------------------------------------------

def day_numbers(ts: np.ndarray, changes: Sequence[tuple[float, int]]) -> np.ndarray:
    """Local day numbers of epoch seconds, given the zone's offsets ([(from, offset), ...], the
    first from -inf: core/time_zones.offsets) — as time_zones.local_day_sql computes them."""
    if len(changes) == 1:
        shifted = ts + changes[0][1]
    else:
        at = np.array([c[0] for c in changes[1:]])
        offs = np.array([c[1] for c in changes], np.float64)
        shifted = ts + offs[np.searchsorted(at, ts, side="right")]
    return np.trunc(shifted / 86400).astype(np.int64)  # SQL's cast(... as integer) truncates

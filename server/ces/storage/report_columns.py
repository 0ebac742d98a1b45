"""Report columns: events, answers and closed prompts kept as column segments, so that a report
under any event-property filter (two filters, `ne`, `exists`, nested keys, numbers, any range,
any time zone, a driver on any property) is a few vectorised passes over arrays instead of one
JSON parse or index lookup per row (docs/reports.md, "Fast filters"; core/columns.py evaluates).

Three kinds of segment, each covering the ids in (after_id, last_id] of one owner, back to back:

* `events` (owner: the site) — each event matched by a trigger: id, receipt time, trigger, and
  its flattened properties as one `report_segment_props` row per key (core/columns.encode);
* `answers` (owner: the survey) — id, time, trigger, score and the event it answers;
* `prompts` (owner: the survey) — each closed prompt, by its position in `report_closed_prompts`
  (filled by an SQL trigger when a prompt closes; the prompts closed before this table existed,
  or inserted closed by a seed or import, are walked in by the background job): time, trigger,
  final status, the delivered/shown flags and its event.

Rows are append-only once in a segment (events and answers never change; a closed prompt stays
closed), so a segment never goes stale — except by deletion: SQL triggers on the three tables
delete the segment holding a deleted row (erasure, retention), and the range becomes a gap. Gaps
and the rows after the last segment ("live": fewer than SEGMENT normally) are read from the base
tables at each report; `seal()` turns them into segments again (a report does it when they are
few, the background job otherwise). Open prompts are always read live (they change).

Portable SQL; the blobs are packed numpy arrays (core/columns.encode; bytea on PostgreSQL).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import columns, drivers
from ..core.flat_properties import flatten
from ..core.report_filters import DAY
from ..core.time_zones import is_utc, offsets
from .answer_props import decode_json
from .migrations import OPEN_PROMPT

SEGMENT = 4_096      # rows per segment
# Rows a report seals itself, or reads live, at most (as answer_props.SMALL_BACKLOG); beyond, the
# report takes the other paths (exact, slower) and the background job seals them.
LIVE_MAX = 20_000
CLOSED = ("answered", "dismissed", "expired", "cancelled")
_CLOSED_SQL = "('answered','dismissed','expired','cancelled')"

# Each segment's facts: (name, dtype) arrays of n values, one after the other in the `facts` blob
# (uncompressed: a report reads every segment of its survey, and zlib would cost more than the
# reading). Ids, times and events at full width; a prompt's `outcome` is status * 4 + delivered * 2
# + shown (status: its index in CLOSED).
LAYOUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "events": (("id", "<i8"), ("at", "<f8"), ("trigger", "<i4")),
    "answers": (("id", "<i8"), ("at", "<f8"), ("trigger", "<i4"), ("score", "<i2"), ("event", "<i8")),
    "prompts": (("at", "<f8"), ("trigger", "<i4"), ("outcome", "<i1"), ("event", "<i8")),
}

# Plain DDL for migration 0910_i15cols_report_columns (SQLite; its PostgreSQL port in
# migrations_postgres.py, `blob` as bytea), the SQL triggers apart.
I15COLS_SQL = [
    """create table if not exists report_segments (
        kind text not null, owner integer not null, last_id integer not null, after_id integer not null,
        n integer not null, facts blob not null, primary key (kind, owner, last_id))""",
    """create table if not exists report_segment_props (
        owner integer not null, last_id integer not null, key text not null,
        kinds blob not null, nums blob not null, codes blob not null, texts text not null,
        primary key (owner, key, last_id))""",
    # A deleted event's segment takes its property rows with it (the SQL trigger): by segment.
    "create index if not exists idx_report_segment_props_segment on report_segment_props (owner, last_id)",
    # The closed prompts in order of closing, by the prompt's rowid (an integer: its unique index
    # costs the answer's path less than one on the text id).
    """create table if not exists report_closed_prompts (
        seq integer primary key, prompt_rowid integer not null unique, survey_id integer not null)""",
    "create index if not exists idx_report_closed_prompts_survey on report_closed_prompts (survey_id, seq)",
    "create table if not exists report_columns_state (name text primary key, last_id integer not null)",
    # The open prompts, read live at each report with their event: the index of the open prompts'
    # count, wider by the trigger and the event, covers it (100 ms → 20 ms for 62,500 open prompts).
    "drop index if exists idx_prompts_open_survey",
    "create index idx_prompts_open_survey on prompts (survey_id, created_at, delivered_at, shown_at, status, "
    f"trigger_id, event_row) where {OPEN_PROMPT}",
]


def _segment_of(kind: str, owner: str, row_id: str) -> str:
    """SQL for the last_id of the segment of `kind` holding `row_id` (NULL when none)."""
    return (f"(select min(s.last_id) from report_segments s where s.kind = '{kind}' and s.owner = {owner} "
            f"and s.last_id >= {row_id} and s.after_id < {row_id})")


_LOG = ("insert into report_closed_prompts (prompt_rowid, survey_id) values (new.rowid, new.survey_id) "
        "on conflict (prompt_rowid) do nothing")
_SEQ = "(select seq from report_closed_prompts where prompt_rowid = old.rowid)"
_FORGET_ANSWER = f"delete from report_segments where kind = 'answers' and owner = old.survey_id and last_id = {_segment_of('answers', 'old.survey_id', 'old.id')}"
_FORGET_EVENT = [
    f"delete from report_segment_props where owner = old.site_id and last_id = {_segment_of('events', 'old.site_id', 'old.id')}",
    f"delete from report_segments where kind = 'events' and owner = old.site_id and last_id = {_segment_of('events', 'old.site_id', 'old.id')}",
]
_FORGET_PROMPT = [
    f"delete from report_segments where kind = 'prompts' and owner = old.survey_id and last_id = {_segment_of('prompts', 'old.survey_id', _SEQ)}",
    "delete from report_closed_prompts where prompt_rowid = old.rowid",
]

# No trigger on insert: the product inserts open prompts only, and a trigger, even one whose WHEN
# is false, costs every decision (+2 µs a prompt, bench_column_triggers.py); whatever inserts
# prompts already closed calls Reports.rebuild_funnel_rollup(), which restarts the walk (restart()).
TRIGGERS_SQLITE = [
    f"create trigger if not exists report_columns_on_close after update of status on prompts "
    f"when new.status in {_CLOSED_SQL} and old.status not in {_CLOSED_SQL} begin {_LOG}; end",
    f"create trigger if not exists report_columns_forget_answer after delete on answers begin {_FORGET_ANSWER}; end",
    f"create trigger if not exists report_columns_forget_event after delete on events "
    f"when old.trigger_id is not null begin {_FORGET_EVENT[0]}; {_FORGET_EVENT[1]}; end",
    f"create trigger if not exists report_columns_forget_prompt before delete on prompts "
    f"when old.status in {_CLOSED_SQL} begin {_FORGET_PROMPT[0]}; {_FORGET_PROMPT[1]}; end",
]


def _pg_function(name: str, body: str, returns: str = "null") -> str:
    return (f"create or replace function {name}() returns trigger language plpgsql as $$\n"
            f"begin\n  {body};\n  return {returns};\nend $$")


TRIGGERS_PG = [
    _pg_function("ces_report_columns_log", _LOG),
    f"create trigger report_columns_on_close after update of status on prompts for each row "
    f"when (new.status in {_CLOSED_SQL} and old.status not in {_CLOSED_SQL}) execute function ces_report_columns_log()",
    _pg_function("ces_report_columns_forget_answer", _FORGET_ANSWER),
    "create trigger report_columns_forget_answer after delete on answers for each row "
    "execute function ces_report_columns_forget_answer()",
    _pg_function("ces_report_columns_forget_event", ";\n  ".join(_FORGET_EVENT)),
    "create trigger report_columns_forget_event after delete on events for each row "
    "when (old.trigger_id is not null) execute function ces_report_columns_forget_event()",
    _pg_function("ces_report_columns_forget_prompt", ";\n  ".join(_FORGET_PROMPT), returns="old"),
    "create trigger report_columns_forget_prompt before delete on prompts for each row "
    f"when (old.status in {_CLOSED_SQL}) execute function ces_report_columns_forget_prompt()",
]


# -- reading the base tables -------------------------------------------------------------------------

_STATUS = {s: i for i, s in enumerate(CLOSED)}


def _source(kind: str, bounded: bool) -> tuple[str, str]:
    """(select list, FROM … WHERE …) of the base tables' rows of `kind` for an owner with ids in
    (after, upto] (parameters: owner, after[, upto]), and the id column to order by."""
    if kind == "events":
        cols, sql, col = ("id, received_at, trigger_id, properties",
                          "from events where site_id = ? and id > ? and trigger_id is not null", "id")
    elif kind == "answers":
        cols = "a.id, a.created_at, coalesce(p.trigger_id, 0), a.score, coalesce(p.event_row, 0)"
        sql, col = "from answers a join prompts p on p.id = a.prompt_id where a.survey_id = ? and a.id > ?", "a.id"
    else:
        cols = ("c.seq, p.created_at, coalesce(p.trigger_id, 0), p.status, "
                "case when p.delivered_at is not null or p.shown_at is not null or p.status in ('answered','dismissed') "
                "then 1 else 0 end, "
                "case when p.shown_at is not null or p.status in ('answered','dismissed') then 1 else 0 end, "
                "coalesce(p.event_row, 0)")
        sql = (f"from report_closed_prompts c join prompts p on p.rowid = c.prompt_rowid where c.survey_id = ? and c.seq > ? "
               f"and p.status in {_CLOSED_SQL}")
        col = "c.seq"
    if bounded:
        sql += f" and {col} <= ?"
    return cols, f"{sql} order by {col} limit ?"


def _params(owner: int, after: int, upto: int | None, limit: int) -> list[Any]:
    return [owner, after, *([upto] if upto is not None else []), limit]


def _rows(conn: Any, kind: str, owner: int, after: int, upto: int | None, limit: int) -> list[tuple[Any, ...]]:
    """The base tables' rows of `kind` for `owner` with ids in (after, upto], in id order, as
    (id, *facts[, properties])."""
    cols, rest = _source(kind, upto is not None)
    return conn.execute(f"select {cols} {rest}", _params(owner, after, upto, limit)).fetchall()


def _count(conn: Any, kind: str, owner: int, after: int, upto: int | None, cap: int) -> int:
    """How many such rows, counting at most `cap` (nothing but ids read)."""
    _cols, rest = _source(kind, upto is not None)
    return conn.execute(f"select count(*) from (select 1 as one {rest}) r", _params(owner, after, upto, cap)).fetchone()[0]


@dataclass
class Piece:
    """Consecutive rows of one kind read from the base tables: facts arrays, and (events) each
    row's flattened properties."""
    facts: dict[str, np.ndarray]
    flat: list[Any] | None = None

    @property
    def n(self) -> int:
        return len(next(iter(self.facts.values())))


def _piece(kind: str, rows: list[tuple[Any, ...]]) -> Piece:
    """Base-table rows (_rows()) as facts; a closed prompt's position in the log is not kept."""
    layout = LAYOUTS[kind]
    if kind == "prompts":
        rows = [(r[1] or 0.0, r[2], _STATUS[r[3]] * 4 + r[4] * 2 + r[5], r[6]) for r in rows]
    facts = {name: np.array([r[i] if r[i] is not None else 0 for r in rows], dtype)
             for i, (name, dtype) in enumerate(layout)}
    if kind != "events":
        return Piece(facts)
    return Piece(facts, flat=[flatten(decode_json(r[3])) for r in rows])


def _facts_blob(kind: str, piece: Piece) -> bytes:
    return b"".join(piece.facts[name].astype(dtype).tobytes() for name, dtype in LAYOUTS[kind])


def _facts_of(kind: str, n: int, raw: bytes) -> dict[str, np.ndarray]:
    out, at = {}, 0
    for name, dtype in LAYOUTS[kind]:
        size = np.dtype(dtype).itemsize * n
        out[name] = np.frombuffer(raw, dtype, n, at)
        at += size
    return out


# -- sealing ------------------------------------------------------------------------------------------

def _segments(conn: Any, kind: str, owner: int) -> list[tuple[int, int, int]]:
    return conn.execute("select after_id, last_id, n from report_segments where kind = ? and owner = ? "
                        "order by last_id", [kind, owner]).fetchall()


def _open_ranges(segs: Sequence[tuple[int, int, int]]) -> list[tuple[int, int | None]]:
    """The id ranges (after, upto] no segment covers: the gaps deletions left, then the tail."""
    out: list[tuple[int, int | None]] = []
    prev = 0
    for after, last, _n in segs:
        if after > prev:
            out.append((prev, after))
        prev = last
    out.append((prev, None))
    return out


def _store(conn: Any, kind: str, owner: int, after: int, last: int, piece: Piece) -> None:
    conn.execute("insert into report_segments (kind, owner, last_id, after_id, n, facts) values (?, ?, ?, ?, ?, ?)",
                 [kind, owner, last, after, piece.n, _facts_blob(kind, piece)])
    if kind == "events":
        conn.executemany(
            "insert into report_segment_props (owner, last_id, key, kinds, nums, codes, texts) values (?, ?, ?, ?, ?, ?, ?)",
            [(owner, last, key, *columns.encode(col)) for key, col in columns.build(piece.flat or []).items()])


def seal(conn: Any, kind: str, owner: int, budget: int) -> int:
    """Inside the caller's write transaction: store up to about `budget` rows of this owner as
    segments — each gap whole, then the tail in full SEGMENT pieces (the rest stays live); how
    many rows were read."""
    done = 0
    for after, upto in _open_ranges(_segments(conn, kind, owner)):
        while done < budget:
            rows = _rows(conn, kind, owner, after, upto, SEGMENT)
            done += len(rows)
            if upto is None and len(rows) < SEGMENT:
                break  # the tail's last, partial piece stays live
            last = rows[-1][0] if len(rows) == SEGMENT else upto
            _store(conn, kind, owner, after, last, _piece(kind, rows))  # type: ignore[arg-type]
            if last == upto:
                break
            after = last
        if done >= budget:
            break
    return done


def _live_count(conn: Any, kind: str, owner: int, cap: int) -> int:
    n = 0
    for after, upto in _open_ranges(_segments(conn, kind, owner)):
        n += _count(conn, kind, owner, after, upto, cap + 1)
        if n > cap:
            break
    return n


# -- the walk of the prompts closed before report_closed_prompts existed ---------------------------------

def _walk_state(conn: Any) -> tuple[int, int]:
    state = dict(conn.execute("select name, last_id from report_columns_state").fetchall())
    if "walk_top" not in state:
        top = conn.execute("select coalesce(max(rowid), 0) from prompts").fetchone()[0]
        conn.executemany("insert into report_columns_state (name, last_id) values (?, ?) on conflict (name) do nothing",
                         [("walked", 0), ("walk_top", top)])
        return 0, top
    return state["walked"], state["walk_top"]


def restart(conn: Any) -> None:
    """Walk every prompt again (inside the caller's write transaction): after prompts were
    inserted already closed (seeds, imports), which no SQL trigger logs. Those logged stay."""
    conn.execute("delete from report_columns_state")


def walk_done(conn: Any) -> bool:
    state = dict(conn.execute("select name, last_id from report_columns_state").fetchall())
    return "walk_top" in state and state["walked"] >= state["walk_top"]


def walk(conn: Any, limit: int) -> int:
    """Log up to `limit` prompts' worth of the walk (inside the caller's write transaction); how many."""
    walked, top = _walk_state(conn)
    if walked >= top:
        return 0
    upto = min(top, walked + limit)
    conn.execute("insert into report_closed_prompts (prompt_rowid, survey_id) select rowid, survey_id from prompts "
                 f"where rowid > ? and rowid <= ? and status in {_CLOSED_SQL} order by rowid "
                 "on conflict (prompt_rowid) do nothing", [walked, upto])
    conn.execute("update report_columns_state set last_id = ? where name = 'walked'", [upto])
    return upto - walked


# -- keeping up ---------------------------------------------------------------------------------------

def _owners(conn: Any) -> list[tuple[str, int]]:
    sites = [("events", r[0]) for r in conn.execute("select id from sites order by id").fetchall()]
    surveys = conn.execute("select id from surveys order by id").fetchall()
    return sites + [(kind, r[0]) for r in surveys for kind in ("answers", "prompts")]


def step(storage: Any, budget: int) -> int:
    """One step of the background job: the walk, then sealing, about `budget` rows, each owner in
    its own short write transaction (the checks outside it: decisions wait only for the writing);
    rows read (0: caught up)."""
    conn = storage.db.conn
    done = 0
    if not walk_done(conn):
        with storage.write(durable=False) as db:  # derived from the base tables: recomputable
            done = walk(db.conn, budget)
    for kind, owner in _owners(conn):
        if done >= budget:
            break
        if _has_full(conn, kind, owner):
            with storage.write(durable=False) as db:
                done += seal(db.conn, kind, owner, budget - done)
    return done


def _has_full(conn: Any, kind: str, owner: int) -> bool:
    """Something to seal: a gap, or a full SEGMENT of tail rows."""
    ranges = _open_ranges(_segments(conn, kind, owner))
    return len(ranges) > 1 or _count(conn, kind, owner, ranges[0][0], None, SEGMENT) == SEGMENT


def catch_up(storage: Any, site_id: int, survey_id: int, small: int | None = None) -> bool:
    """Before a report: seal this survey's and its site's open rows when at most `small` (default
    LIVE_MAX) are waiting (the background job seals larger backlogs); True when the columns can
    answer it."""
    small = LIVE_MAX if small is None else small
    conn = storage.db.conn
    if not walk_done(conn):
        with storage.write(durable=False) as db:
            walked, top = _walk_state(db.conn)
            if top - walked > small:
                return False
            walk(db.conn, top - walked)
    owners = (("events", site_id), ("answers", survey_id), ("prompts", survey_id))
    waiting = [(kind, owner) for kind, owner in owners if _has_full(conn, kind, owner)]
    for kind, owner in waiting:
        if _live_count(conn, kind, owner, small) > small:
            return False
    for kind, owner in waiting:
        with storage.write(durable=False) as db:
            seal(db.conn, kind, owner, small + SEGMENT)
    return True


def status(storage: Any) -> dict[str, Any]:
    """The background job's progress as an operator sees it (/healthz): whether the prompts closed
    before the columns existed are walked in, and how many owners (sites' events, surveys' answers
    or closed prompts) have rows waiting beyond the live tail (a gap, or a full segment)."""
    conn = storage.db.conn
    done = walk_done(conn)
    waiting = sum(1 for kind, owner in _owners(conn) if _has_full(conn, kind, owner))
    return {"caught_up": done and not waiting, "prompts_walked": done, "owners_waiting": waiting}


# -- loading --------------------------------------------------------------------------------------------

class NotReady(Exception):
    """More rows than LIVE_MAX are not in segments yet: the report takes the other paths."""


@dataclass
class Span:
    """Where rows sit in the loaded arrays: a stored segment's (last_id), or rows read live (their
    flattened properties, for events)."""
    offset: int
    n: int
    last_id: int | None = None
    flat: list[Any] | None = None
    _built: dict[str, columns.Column] | None = None

    def live_column(self, key: str) -> columns.Column:
        """A live span's column of `key` (every key built at the first ask: the ranking asks all)."""
        if self._built is None:
            self._built = columns.build(self.flat or [])
        return self._built.get(key) or columns.Column.empty(self.n)


BATCH = 64  # segments per query while loading: the blobs in memory at once stay a few MB


def _batches(conn: Any, sql: str, params: list[Any]) -> Any:
    """Rows of `sql` (… and last_id > ? order by last_id limit ?) in batches by last_id."""
    run = getattr(conn, "execute_binary", conn.execute)  # PostgreSQL: bytea as raw bytes
    after = -1
    while True:
        rows = run(sql, [*params, after, BATCH]).fetchall()
        yield from rows
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


@dataclass
class Rows:
    """One kind's rows of one owner, in id order: facts arrays and (events) columns on demand."""
    kind: str
    owner: int
    spans: list[Span]
    facts: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return sum(s.n for s in self.spans)

    def keys(self, conn: Any) -> list[str]:
        """Every property key of these rows (events)."""
        found = {r[0] for r in conn.execute("select distinct key from report_segment_props where owner = ?",
                                            [self.owner]).fetchall()}
        for span in self.spans:
            for flat in span.flat or ():
                found.update(row[0] for row in flat)
        return sorted(found)

    def column(self, conn: Any, key: str) -> columns.Column:
        """The column of `key` over every row: the stored segments' packed parts and the live rows'."""
        stored = {s.last_id: s for s in self.spans if s.last_id is not None}
        found: dict[int, columns.Packed] = {}
        if stored:
            for last_id, kinds, nums, codes, meta in _batches(
                    conn, "select last_id, kinds, nums, codes, texts from report_segment_props "
                    "where owner = ? and key = ? and last_id > ? order by last_id limit ?", [self.owner, key]):
                if last_id in stored:
                    found[last_id] = columns.decode(bytes(kinds), bytes(nums), bytes(codes), meta)
        parts = []
        missing: dict[int, columns.Packed] = {}  # a segment without the key: every row MISSING (one per size)
        for span in self.spans:
            if span.flat is not None:
                parts.append(columns.pack(span.live_column(key)))
            elif span.last_id in found:
                parts.append(found[span.last_id])
            else:
                if span.n not in missing:
                    missing[span.n] = columns.pack(columns.Column.empty(span.n))
                parts.append(missing[span.n])
        return columns.assemble(parts)


def load(conn: Any, kind: str, owner: int) -> Rows:
    """Every row of `kind` for `owner`: its segments and, read live, what they do not cover —
    into arrays allocated once (a report at 1M answers holds each fact once, not a copy per step)."""
    segs = _segments(conn, kind, owner)
    spans: list[Span] = []
    live_pieces: dict[int, Piece] = {}
    live = offset = 0
    for after, upto in _open_ranges(segs):  # the live rows first: how many there are
        rows = _rows(conn, kind, owner, after, upto, LIVE_MAX + 1 - live)
        live += len(rows)
        if live > LIVE_MAX:
            raise NotReady(kind)
        if rows:
            live_pieces[after] = _piece(kind, rows)
    prev = 0
    for after, last, n in [*segs, (None, None, 0)]:
        gap_start = prev if after is None or after > prev else None
        if gap_start is not None and gap_start in live_pieces:
            piece = live_pieces[gap_start]
            spans.append(Span(offset, piece.n, flat=piece.flat if kind == "events" else None))
            offset += piece.n
        if after is None:
            break
        if n:
            spans.append(Span(offset, n, last_id=last))
            offset += n
        prev = last
    facts = {name: np.zeros(offset, dtype) for name, dtype in LAYOUTS[kind]}
    by_last = {s.last_id: s for s in spans if s.last_id is not None}
    filled = 0
    for last, n, blob in _batches(conn, "select last_id, n, facts from report_segments where kind = ? and owner = ? "
                                  "and last_id > ? order by last_id limit ?", [kind, owner]):
        span = by_last.get(last)
        if span is not None and n == span.n:
            for name, values in _facts_of(kind, n, bytes(blob)).items():
                facts[name][span.offset:span.offset + n] = values
            filled += 1
    if filled != len(by_last):  # a segment deleted (or sealed) meanwhile, by another process: read again next time
        raise NotReady(kind)
    live_spans = [s for s in spans if s.last_id is None]
    for span, piece in zip(live_spans, live_pieces.values()):
        for name, values in piece.facts.items():
            facts[name][span.offset:span.offset + span.n] = values
    return Rows(kind, owner, spans, facts)


# -- a survey's report from the columns -------------------------------------------------------------------

class SurveyView:
    """One survey's answers, closed prompts and its site's events, loaded for one report."""

    def __init__(self, conn: Any, site_id: int, survey_id: int) -> None:
        self.conn, self.survey_id = conn, survey_id
        # The events last: every event an answer or prompt loaded here refers to exists by then.
        self.answers = load(conn, "answers", survey_id)
        self.prompts = load(conn, "prompts", survey_id)
        self.events = load(conn, "events", site_id)
        self._columns: dict[str, columns.Column] = {}
        ids = self.events.facts["id"]
        self._base = int(ids[0]) if len(ids) else 0
        self._index = np.full(int(ids[-1]) - self._base + 1 if len(ids) else 0, -1, np.int32)
        self._index[ids - self._base] = np.arange(len(ids), dtype=np.int32)
        self._masks: dict[tuple[Any, ...], tuple[np.ndarray, bool]] = {}

    def column(self, key: str) -> columns.Column:
        if key not in self._columns:
            self._columns[key] = self.events.column(self.conn, key)
        return self._columns[key]

    def _positions(self, event_rows: np.ndarray) -> np.ndarray:
        """Each row's position among the events (-1: no such event, as a deleted or missing one)."""
        rel = event_rows - self._base
        inside = (rel >= 0) & (rel < len(self._index))
        out = np.full(len(event_rows), -1, np.int64)
        out[inside] = self._index[rel[inside]]
        return out

    def _event_mask(self, q: Any) -> tuple[np.ndarray, bool]:
        """Events passing q's property filters, and whether a row without its event passes them
        (as the base tables' LEFT JOIN: `ne` and `exists=false` do)."""
        key = q.properties
        if key not in self._masks:
            n = len(self.events.facts["id"])
            cols = {p.path: self.column(p.path) for p in q.properties}
            empty = {p.path: columns.Column.empty(1) for p in q.properties}
            self._masks[key] = (columns.mask(cols, q.properties, n), bool(columns.mask(empty, q.properties, 1)[0]))
        return self._masks[key]

    def _passes(self, q: Any, event_rows: np.ndarray) -> np.ndarray:
        if not q.properties:
            return np.ones(len(event_rows), bool)
        mask, missing = self._event_mask(q)
        pos = self._positions(event_rows)
        return np.where(pos >= 0, mask[np.maximum(pos, 0)] if len(mask) else missing, missing)

    @staticmethod
    def _in_range(q: Any, at: np.ndarray, triggers: np.ndarray, trigger_ids: Sequence[int] | None = None) -> np.ndarray:
        keep = np.ones(len(at), bool)
        if q.start is not None:
            keep &= at >= q.start
        if q.end is not None:
            keep &= at < q.end
        ids = q.triggers if trigger_ids is None else trigger_ids
        if q.triggers or trigger_ids is not None:
            keep &= columns.one_of(triggers, ids)
        return keep

    def _answers(self, q: Any) -> np.ndarray:
        f = self.answers.facts
        return self._in_range(q, f["at"], f["trigger"]) & self._passes(q, f["event"])

    def answer_ids(self, q: Any, max_score: int | None = None) -> np.ndarray:
        """Ids of the answers passing q (and scoring at most `max_score`), in id order."""
        f = self.answers.facts
        keep = self._answers(q)
        if max_score is not None:
            keep &= f["score"] <= max_score
        return f["id"][keep]

    def days(self, q: Any, at: np.ndarray) -> np.ndarray:
        """Day numbers in q's zone, as Reports.day_sql computes them (the zone's changes over the
        survey's answers)."""
        if is_utc(q.tz):
            return np.trunc(at / DAY).astype(np.int64)
        every = self.answers.facts["at"]
        low, high = (float(every.min()) - DAY, float(every.max()) + DAY) if len(every) else (0.0, float(DAY))
        return columns.day_numbers(at, offsets(q.tz, low, high))

    def trend_rows(self, q: Any) -> list[tuple[int, int, int, int]]:
        """(day, trigger id or 0, score, n) of the answers passing q."""
        f = self.answers.facts
        keep = self._answers(q)
        return _grouped(self.days(q, f["at"][keep]), f["trigger"][keep], f["score"][keep])

    def distribution(self, q: Any) -> list[tuple[int, int, int]]:
        """(day, score, n) of the answers passing q."""
        f = self.answers.facts
        keep = self._answers(q)
        return _grouped(self.days(q, f["at"][keep]), f["score"][keep])

    def driver_rows(self, q: Any, key: str, bounds: Sequence[float]) -> list[tuple[str, str, int, int]]:
        """(kind, value or bucket label, score, n) of the answers passing q with a usable `key`."""
        f = self.answers.facts
        keep = self._answers(q)
        label, names = columns.labels(self.column(key), bounds)
        pos = self._positions(f["event"][keep])
        values = np.where(pos >= 0, label[np.maximum(pos, 0)] if len(label) else -1, -1)
        has = values >= 0
        return [(*names[v], s, n) for v, s, n in _grouped(values[has], f["score"][keep][has])]

    def property_counts(self, q: Any, by_trigger: bool) -> list[tuple[Any, ...]]:
        """(trigger id when by_trigger, key, kind, value or bucket label, score, n) of every top-level
        event property of the answers passing q, numbers in the default buckets: the driver
        ranking's counts (storage/insights.py), as the rollups hold them."""
        f = self.answers.facts
        keep = self._answers(q)
        pos = self._positions(f["event"][keep])
        found = pos >= 0
        pos, scores, triggers = pos[found], f["score"][keep][found], f["trigger"][keep][found]
        out: list[tuple[Any, ...]] = []
        for key in self.events.keys(self.conn):
            if "." in key:
                continue
            # Not kept in self._columns: every key of the site, one at a time, is a lot of memory.
            label, names = columns.labels(self.events.column(self.conn, key).take(pos), drivers.DEFAULT_BOUNDS)
            has = label >= 0
            if by_trigger:
                out += [(t, key, *names[v], s, n) for t, v, s, n in _grouped(triggers[has], label[has], scores[has])]
            else:
                out += [(key, *names[v], s, n) for v, s, n in _grouped(label[has], scores[has])]
        return out

    def funnel_parts(self, q: Any, trigger_ids: Sequence[int], rows: Sequence[tuple[int, int, int]]
                     ) -> tuple[list[tuple[str, int, int, int]], tuple[int, int, int], int]:
        """(closed prompts' (status, delivered, shown, n), open prompts' (count, delivered, shown),
        events matched) under q, for storage/reports._funnel_of(); `rows` are the open prompts in
        q's range and triggers as (event, delivered, shown), read live (Reports.funnel)."""
        f = self.prompts.facts
        keep = self._in_range(q, f["at"], f["trigger"]) & self._passes(q, f["event"])
        counts = np.bincount(f["outcome"][keep], minlength=4 * len(CLOSED))
        closed = [(CLOSED[o // 4], o // 2 % 2, o % 2, int(counts[o])) for o in np.nonzero(counts)[0].tolist()]
        open_now = (0, 0, 0)
        if rows:
            arr = np.array(rows, np.int64)
            passing = arr[self._passes(q, arr[:, 0])]
            open_now = (len(passing), int(passing[:, 1].sum()), int(passing[:, 2].sum()))
        e = self.events.facts
        ids = [t for t in trigger_ids if not q.triggers or t in q.triggers]
        matched = int((self._in_range(q, e["at"], e["trigger"], ids) & self._passes(q, e["id"])).sum()) if ids else 0
        return closed, open_now, matched


def _grouped(*arrays: np.ndarray) -> list[tuple[int, ...]]:
    """GROUP BY the arrays (integers) with count(*): one (value, value, …, n) tuple per group."""
    if not len(arrays[0]):
        return []
    lows = [int(a.min()) for a in arrays]
    sizes = [int(a.max()) - low + 1 for a, low in zip(arrays, lows)]
    code = np.zeros(len(arrays[0]), np.int64)
    for a, low, size in zip(arrays, lows, sizes):
        code = code * size + (a - low)
    counts = np.bincount(code) if int(np.prod(sizes, dtype=np.float64)) <= 4_000_000 else None
    if counts is not None:
        groups = np.nonzero(counts)[0]
        ns = counts[groups]
    else:
        groups, ns = np.unique(code, return_counts=True)
    out = []
    for g, n in zip(groups.tolist(), ns.tolist()):
        values = []
        for low, size in zip(reversed(lows), reversed(sizes)):
            values.append(g % size + low)
            g //= size
        out.append((*reversed(values), n))
    return out

"""`answer_props`: each answer's event properties stored beside it, one row per property, so a
report filtered on a property reads an index instead of joining prompts and events and parsing
JSON for every answer (docs/reports.md, "Fast filters").

Each answer also has one marker row, key '' (kind `answer`): it carries the answer's survey, time,
trigger and score like every row, is where a filter of "not equal" or "does not exist" starts
from, and tells which answers are already copied. The rows are copied from the base tables in
`catch_up()` (every report calls it first, and the background job) and `refresh()`: the answers
above the highest marker, 20,000 per transaction. Answers
are append-only (their score, time and prompt never change), so nothing copied goes stale; an
answer deleted (erasure, retention) takes its rows with it (ON DELETE CASCADE), and an id the
database gives again after its newest answer was deleted is above the highest marker again.

`report_props_blocks` (the driver ranking's rollup, by blocks of 28 days) is kept in the same
transactions from the same rows.

A large installation's existing answers are copied in the background (answer_props_job.py, a
PeriodicJob started with the server), not by the migration: while more than SMALL_BACKLOG answers
are behind, reports read the base tables (exact, slower) and the driver ranking answers 503
`catching_up` (`status()` says how far the copy is: /healthz and each report's `meta`).

Portable SQL only: the JSON is parsed in Python (core/flat_properties.py), never by the database.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..core import drivers
from ..core.flat_properties import flatten
from ..core.report_filters import PropertyFilter, ReportQuery

CHUNK = 20_000
MARKER = ""

# Plain DDL (TEXT / INTEGER / REAL) for migration 0710_i15drivers_answer_props and its PostgreSQL
# port (pg_ddl() of branch pg).
I15_ANSWER_PROPS_SQL = [
    """create table if not exists answer_props (
        answer_id integer not null references answers(id) on delete cascade,
        key text not null,
        kind text not null,
        num real,
        txt text,
        survey_id integer not null,
        created_at real not null,
        trigger_id integer not null,
        score integer not null)""",
    # A filter reads a range of this index and nothing else: the survey's rows of one key, by
    # text value (equality) or number (ranges), each with the time, trigger and score it counts.
    # answer_id before the time: an equality's answers come in id order, so the lookups of the
    # other filters and of the driver walk idx_answer_props_value forwards instead of at random
    # (4x faster at 1M answers when the ids are not in time order, as in bench_report's seed).
    "create index if not exists idx_answer_props_filter on answer_props "
    "(survey_id, key, txt, num, answer_id, created_at, trigger_id, score)",
    # One answer's value of a key (the driver, the other filters) in one b-tree lookup, without a
    # second one into the table. No primary key: the planner would pick its narrower index for
    # these lookups and read the table too (twice the time); one row per (answer, key) holds
    # because rows are only added for answers above the highest copied, under the write lock.
    "create index if not exists idx_answer_props_value on answer_props (answer_id, key, kind, num, txt)",
    # The driver ranking's rollup: answers per survey, top-level property, block of 28 UTC days,
    # trigger, value (numbers in the default buckets) and score, kept with the rows above (the
    # same transaction adds both; an erasure takes both out, `forget()`).
    """create table if not exists report_props_blocks (
        survey_id integer not null, key text not null, block integer not null, trigger_id integer not null,
        kind text not null, value text not null, score integer not null, n integer not null,
        primary key (survey_id, key, block, trigger_id, kind, value, score))""",
]

BLOCK_DAYS = 28
MAX_TEXT = 64  # as the rollups: longer texts are not driver values
# The default buckets' (high bound, label) pairs: bucket_of() without rebuilding them per row.
_EDGES = [(high, label) for label, _low, high in drivers.bucket_labels(drivers.DEFAULT_BOUNDS)]


def _bucket(num: float) -> str:
    for high, label in _EDGES:
        if high is None or num < high:
            return label
    raise AssertionError("unreachable")


def block_value(key: str, kind: str, num: float | None, txt: str | None) -> tuple[str, str] | None:
    """(kind, value label) of a row as the rollups count it, or None (nested, null, object, long text)."""
    if not key or "." in key:
        return None
    if kind == "number":
        return "number", _bucket(num)  # type: ignore[arg-type]
    if kind == "bool":
        return "bool", "true" if num == 1 else "false"
    if kind == "text" and txt is not None and len(txt) <= MAX_TEXT:
        return "text", txt
    return None


def _block_counts(rows: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
    """Counts for report_props_blocks from answer_props rows (answer_id, key, kind, num, txt,
    survey_id, created_at, trigger_id, score)."""
    counts: dict[tuple[Any, ...], int] = {}
    for _answer_id, key, kind, num, txt, survey_id, created_at, trigger_id, score in rows:
        label = block_value(key, kind, num, txt)
        if label is None:
            continue
        k = (survey_id, key, int(created_at // 86400) // BLOCK_DAYS, trigger_id, *label, score)
        counts[k] = counts.get(k, 0) + 1
    return counts


def forget(conn: Any, answer_ids: list[int]) -> None:
    """Take these answers out of report_props_blocks (before they are deleted; their answer_props
    rows go with them by the foreign key)."""
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(answer_ids), 500):
        chunk = answer_ids[i:i + 500]
        rows += conn.execute(
            "select answer_id, key, kind, num, txt, survey_id, created_at, trigger_id, score from answer_props "
            f"where answer_id in ({','.join('?' * len(chunk))})", chunk).fetchall()
    for (survey_id, key, block, trigger_id, kind, value, score), n in _block_counts(rows).items():
        where = ("survey_id = ? and key = ? and block = ? and trigger_id = ? and kind = ? and value = ? "
                 "and score = ?")
        params = [survey_id, key, block, trigger_id, kind, value, score]
        conn.execute(f"update report_props_blocks set n = n - ? where {where}", [n, *params])
        conn.execute(f"delete from report_props_blocks where {where} and n <= 0", params)


def decode_json(raw: Any) -> Any:
    """An event's stored properties as JSON values; None for anything unreadable."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def copy_new(conn: Any, limit: int = CHUNK) -> int:
    """Copy up to `limit` answers not yet copied (inside the caller's transaction); how many."""
    # Every copied answer has its marker, so the highest id here is the last answer copied.
    last = conn.execute("select max(answer_id) from answer_props").fetchone()[0] or 0
    rows = conn.execute(
        "select a.id, a.survey_id, a.created_at, coalesce(p.trigger_id, 0), a.score, e.properties "
        "from answers a join prompts p on p.id = a.prompt_id left join events e on e.id = p.event_row "
        "where a.id > ? order by a.id limit ?", [last, limit]).fetchall()
    out: list[tuple[Any, ...]] = []
    for answer_id, survey_id, created_at, trigger_id, score, properties in rows:
        facts = (survey_id, created_at, trigger_id, score)
        out.append((answer_id, MARKER, "answer", None, None, *facts))
        for key, kind, num, txt in flatten(decode_json(properties)):
            out.append((answer_id, key, kind, num, txt, *facts))
    conn.executemany(
        "insert into answer_props (answer_id, key, kind, num, txt, survey_id, created_at, trigger_id, score) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?)", out)
    conn.executemany(
        "insert into report_props_blocks (survey_id, key, block, trigger_id, kind, value, score, n) "
        "values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (survey_id, key, block, trigger_id, kind, value, score) "
        "do update set n = report_props_blocks.n + excluded.n", [(*k, n) for k, n in _block_counts(out).items()])
    return len(rows)


def refresh(storage: Any) -> int:
    """Copy every answer not yet copied, one chunk per short transaction; how many were copied."""
    done = 0
    while True:
        n = copy_chunk(storage)
        done += n
        if n < CHUNK:
            return done


def copy_chunk(storage: Any, limit: int = CHUNK) -> int:
    """One short transaction copying up to `limit` answers; how many. Under the write lock and keyed
    on the highest copied id, so processes copying at once never copy an answer twice."""
    with storage.write(durable=False) as db:  # derived from the answers: recomputable
        return copy_new(db.conn, limit)


# -- catching up -----------------------------------------------------------------------------------

# A report copies the answers not yet copied itself when they are at most this many (the answers
# since the background job's last run, answer_props_job.py); beyond, it reads the base tables and
# leaves the copy to the job, so that a large installation's first start is not a copy of its
# whole history on the request path.
SMALL_BACKLOG = CHUNK


class CatchingUp(Exception):
    """answer_props is still being filled by the background job: what reads it alone would be
    incomplete (the driver ranking, fix first)."""

    def __init__(self, behind: int) -> None:
        super().__init__(f"the property index is catching up: {behind} answers still to copy; try again shortly")
        self.behind = behind


def last_copied(conn: Any) -> int:
    return conn.execute("select max(answer_id) from answer_props").fetchone()[0] or 0


def behind(conn: Any, cap: int | None = None) -> int:
    """Answers not yet copied (at most cap + 1 counted when `cap` is given: cheap at any size)."""
    last = last_copied(conn)
    if cap is None:
        return conn.execute("select count(*) from answers where id > ?", [last]).fetchone()[0]
    return conn.execute("select count(*) from (select 1 from answers where id > ? order by id limit ?) b",
                        [last, cap + 1]).fetchone()[0]


def catch_up(storage: Any, small: int = SMALL_BACKLOG) -> bool:
    """Copy the answers not yet copied when they are at most `small`; True when every answer is
    then copied, False when more are behind (nothing copied here: the background job copies them)."""
    if behind(storage.db.conn, small) > small:
        return False
    refresh(storage)
    return True


def status(storage: Any) -> dict[str, Any]:
    """The catch-up as an operator sees it (/healthz, the report's `meta`)."""
    conn = storage.db.conn
    left = behind(conn)
    return {"caught_up": left == 0, "answers_behind": left, "last_copied_answer_id": last_copied(conn)}


# -- filters ---------------------------------------------------------------------------------------

POSITIVE = ("eq", "in", "gt", "gte", "lt", "lte")
_RANGE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def usable(q: ReportQuery) -> bool:
    """These rows answer the query exactly: locale and variant live on the prompts, not here."""
    return q.locale is None and q.variant is None


def _matches(alias: str, p: PropertyFilter, params: list[Any]) -> str:
    """The condition on a row `alias` of key p.path for p's operator (eq/in/range/exists true)."""
    if p.op == "exists":
        return "1 = 1"
    if p.op in _RANGE:
        params.append(p.values[0])
        return f"({alias}.kind = 'number' and {alias}.num {_RANGE[p.op]} ?)"
    texts = [v for v in p.values if isinstance(v, str)]
    numbers = [float(v) for v in p.values if isinstance(v, (int, float))]  # booleans are 1 and 0, as JSON reads them
    parts = []
    if texts:
        parts.append(f"{alias}.txt in ({','.join('?' * len(texts))})")
        params.extend(texts)
    if numbers:
        parts.append(f"{alias}.num in ({','.join('?' * len(numbers))})")
        params.extend(numbers)
    return "(" + " or ".join(parts) + ")" if parts else "1 = 0"


def _positive(p: PropertyFilter) -> bool:
    return p.op in POSITIVE or (p.op == "exists" and p.values[0])


def _exists(p: PropertyFilter, params: list[Any], n: int) -> str:
    """EXISTS / NOT EXISTS of the answer `a`'s row of p's key matching p."""
    alias = f"o{n}"
    params.append(p.path)
    if p.op == "exists" and not p.values[0]:
        return f"not exists (select 1 from answer_props {alias} where {alias}.answer_id = a.answer_id and {alias}.key = ?)"
    if p.op == "ne":  # a missing key, or JSON null, counts as "not equal" (as in the base tables)
        cond = _matches(alias, PropertyFilter(p.path, "eq", p.values), params)
        return f"not exists (select 1 from answer_props {alias} where {alias}.answer_id = a.answer_id and {alias}.key = ? and {cond})"
    cond = _matches(alias, p, params)
    return f"exists (select 1 from answer_props {alias} where {alias}.answer_id = a.answer_id and {alias}.key = ? and {cond})"


def where(q: ReportQuery, survey_id: int, params: list[Any]) -> str:
    """WHERE of the answers passing q's filters, as rows `a` of answer_props (one per answer, with
    a.created_at, a.trigger_id, a.score). The first positive property filter picks the rows from
    the index; the others are checked per answer on the primary key."""
    props = list(q.properties)
    lead = next((p for p in props if _positive(p)), None)
    if lead is not None:
        props.remove(lead)
        clauses = ["a.survey_id = ?", "a.key = ?"]
        params.extend([survey_id, lead.path])
        cond = _matches("a", lead, params)
        if cond != "1 = 1":
            clauses.append(cond)
    else:
        clauses = ["a.survey_id = ?", "a.key = ?"]
        params.extend([survey_id, MARKER])
    if q.start is not None:
        clauses.append("a.created_at >= ?")
        params.append(q.start)
    if q.end is not None:
        clauses.append("a.created_at < ?")
        params.append(q.end)
    if q.triggers:
        clauses.append(f"a.trigger_id in ({','.join('?' * len(q.triggers))})")
        params.extend(q.triggers)
    for i, p in enumerate(props):
        clauses.append(_exists(p, params, i))
    return "where " + " and ".join(clauses)


def driver_value_sql(alias: str, bounds: Sequence[float], max_text: int) -> tuple[str, str, str]:
    """(kind, value or bucket label, "usable") SQL over a driver row `alias`, as the rollups label them."""
    from .reports import bucket_case  # the one definition of the bucket labels in SQL
    kind = f"case {alias}.kind when 'number' then 'number' when 'text' then 'text' else 'bool' end"
    value = (f"case {alias}.kind when 'number' then {bucket_case(alias + '.num', bounds or drivers.DEFAULT_BOUNDS)} "
             f"when 'text' then {alias}.txt when 'bool' then case when {alias}.num = 1 then 'true' else 'false' end end")
    ok = (f"({alias}.kind in ('number', 'bool') or ({alias}.kind = 'text' and length({alias}.txt) <= {max_text}))")
    return kind, value, ok

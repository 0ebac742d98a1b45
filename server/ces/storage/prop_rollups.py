"""The funnel's rollups per event-property value, so that a report filtered on one property that
a rollup answers exactly (core/rollup_filter.py) reads no prompt or event of the past:

* `report_funnel_props_daily` — closed prompts (answered, dismissed, expired, cancelled) per
  survey, top-level property of their event, prompt day (UTC), trigger, value (texts ≤ 64
  characters; numbers in the default buckets; booleans), final status and the delivered/shown
  flags: `report_funnel_daily` with the property value. A prompt is folded once, when closed:
  the SQL trigger of migration 0900_i15fast_prop_rollups puts a prompt that closes in
  `funnel_props_queue` (one small insert on the answer's path), and `fold()` counts the queued
  prompts and empties the queue. The prompts that were closed before that migration are counted
  by a walk over the prompts' rowid (`prompts_walked` up to `prompts_top`), in chunks, skipping
  the queued ones; the queue is folded only once the walk is complete, so no prompt is counted
  twice (a prompt queued after the walk passed it was not counted by the walk: it closed later).
  The walk's bounds are set by the first fold (no state row: every prompt there is then).
* `report_events_props_daily` — events matched by a trigger per trigger, property, receipt day
  and value: `report_events_daily` with the value, folded by id (events are append-only).

Open prompts are counted live (they are few). The JSON is parsed in Python (core/flat_properties),
never by the database: portable SQL. A large backlog (an upgraded installation's history) is
folded by the background job (answer_props_job.py) in short transactions; until then the reports
read the base tables. Erasure takes the forgotten rows out (`forget()`); retention's deletions of
old events and unanswered prompts are kept counted, as the other rollups keep them
(docs/privacy.md, "Reports over the past").
"""
from __future__ import annotations

from typing import Any

from ..core.flat_properties import flatten
from .answer_props import block_value, decode_json

CHUNK = 20_000
SMALL_BACKLOG = 20_000  # what a report folds itself; beyond, the background job does
CLOSED = ("answered", "dismissed", "expired", "cancelled")
_CLOSED_SQL = "('answered','dismissed','expired','cancelled')"
_FUNNEL_KEY = "survey_id, key, day, trigger_id, kind, value, status, delivered, shown"
_EVENTS_KEY = "trigger_id, key, day, kind, value"

# Plain DDL for migration 0900_i15fast_prop_rollups (SQLite) and its PostgreSQL port (pg_ddl),
# the SQL triggers apart (PL/pgSQL there: migrations_postgres.py).
I15FAST_PROP_ROLLUPS_SQL = [
    f"""create table if not exists report_funnel_props_daily (
        survey_id integer not null, key text not null, day integer not null, trigger_id integer not null,
        kind text not null, value text not null, status text not null, delivered integer not null,
        shown integer not null, n integer not null, primary key ({_FUNNEL_KEY}))""",
    f"""create table if not exists report_events_props_daily (
        trigger_id integer not null, key text not null, day integer not null, kind text not null,
        value text not null, n integer not null, primary key ({_EVENTS_KEY}))""",
    # Closed since the walk began and not counted yet; a deleted prompt leaves it (never counted).
    """create table if not exists funnel_props_queue (
        prompt_id text primary key references prompts(id) on delete cascade)""",
    "create table if not exists prop_rollups_state (name text primary key, last_id integer not null)",
]
QUEUE_ON_CLOSE_SQLITE = (
    "create trigger if not exists funnel_props_on_close after update of status on prompts "
    f"when new.status in {_CLOSED_SQL} and old.status not in {_CLOSED_SQL} "
    "begin insert into funnel_props_queue (prompt_id) values (new.id) on conflict (prompt_id) do nothing; end")
QUEUE_ON_CLOSE_PG = [
    """create or replace function ces_funnel_props_queue() returns trigger language plpgsql as $$
begin
  insert into funnel_props_queue (prompt_id) values (new.id) on conflict (prompt_id) do nothing;
  return null;
end $$""",
    "create trigger funnel_props_on_close after update of status on prompts for each row "
    f"when (new.status in {_CLOSED_SQL} and old.status not in {_CLOSED_SQL}) "
    "execute function ces_funnel_props_queue()",
]


def _labels(raw: Any) -> list[tuple[str, str, str]]:
    """(key, kind, value label) of an event's top-level properties, as the rollups count them."""
    out = []
    for key, kind, num, txt in flatten(decode_json(raw)):
        label = block_value(key, kind, num, txt)
        if label is not None:
            out.append((key, *label))
    return out


def _day(ts: float | None) -> int:
    return int((ts or 0) // 86400)


_PROMPT_COLS = ("p.survey_id, p.created_at, coalesce(p.trigger_id, 0), p.status, "
                "(p.delivered_at is not null or p.shown_at is not null or p.status in ('answered','dismissed')), "
                "(p.shown_at is not null or p.status in ('answered','dismissed')), e.properties")


def _funnel_counts(rows: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
    counts: dict[tuple[Any, ...], int] = {}
    for survey_id, created_at, trigger_id, status, delivered, shown, properties in rows:
        facts = (_day(created_at), trigger_id)
        for key, kind, value in _labels(properties):
            k = (survey_id, key, *facts, kind, value, status, 1 if delivered else 0, 1 if shown else 0)
            counts[k] = counts.get(k, 0) + 1
    return counts


def _events_counts(rows: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
    counts: dict[tuple[Any, ...], int] = {}
    for trigger_id, received_at, properties in rows:
        for key, kind, value in _labels(properties):
            k = (trigger_id, key, _day(received_at), kind, value)
            counts[k] = counts.get(k, 0) + 1
    return counts


def _add(conn: Any, table: str, key: str, counts: dict[tuple[Any, ...], int], sign: int = 1) -> None:
    if not counts:
        return
    cols = key.split(", ")
    if sign > 0:
        conn.executemany(
            f"insert into {table} ({key}, n) values ({','.join('?' * (len(cols) + 1))}) "
            f"on conflict ({key}) do update set n = {table}.n + excluded.n", [(*k, n) for k, n in counts.items()])
        return
    where = " and ".join(f"{c} = ?" for c in cols)
    conn.executemany(f"update {table} set n = n - ? where {where}", [(n, *k) for k, n in counts.items()])
    conn.executemany(f"delete from {table} where {where} and n <= 0", list(counts))


def _state(conn: Any) -> dict[str, int]:
    """The walk's and the events' positions; before the first fold (a new or migrated database),
    the walk is to cover every prompt there is now (stored by the first fold, `_stored()`)."""
    state = {name: last for name, last in conn.execute("select name, last_id from prop_rollups_state")}
    if "prompts_top" not in state:
        top = conn.execute("select coalesce(max(rowid), 0) from prompts").fetchone()[0]
        state = {"prompts_walked": 0, "prompts_top": top, "events": 0}
    return state


def _stored(conn: Any) -> dict[str, int]:
    state = _state(conn)
    conn.executemany("insert into prop_rollups_state (name, last_id) values (?, ?) on conflict (name) do nothing",
                     list(state.items()))
    return state


def _set(conn: Any, name: str, value: int) -> None:
    conn.execute("update prop_rollups_state set last_id = ? where name = ?", [value, name])


def walk_done(conn: Any) -> bool:
    """Every prompt that existed when the rollups started was walked (the positions, SQLite rowids,
    no longer matter: `ces migrate-data` keeps the rollups then, and recounts them otherwise)."""
    state = {name: last for name, last in conn.execute("select name, last_id from prop_rollups_state")}
    return "prompts_top" in state and state["prompts_walked"] >= state["prompts_top"]


def restart(conn: Any) -> None:
    """Count every closed prompt and every event again from nothing (inside the caller's write
    transaction): after prompts were inserted already closed (seeds, imports)."""
    for table in ("report_funnel_props_daily", "report_events_props_daily", "funnel_props_queue",
                  "prop_rollups_state"):  # no state: the walk covers every prompt there is (`_state()`)
        conn.execute(f"delete from {table}")


# -- folding ---------------------------------------------------------------------------------------

def fold_chunk(conn: Any, limit: int = CHUNK) -> int:
    """One step (inside the caller's write transaction): walk up to `limit` prompts, or fold up to
    `limit` queued prompts once the walk is done, and up to `limit` new events; how many rows
    were read (0: nothing left)."""
    state = _stored(conn)
    done = 0
    walked, top = state["prompts_walked"], state["prompts_top"]
    if walked < top:
        upto = min(top, walked + limit)
        rows = conn.execute(
            f"select {_PROMPT_COLS} from prompts p left join events e on e.id = p.event_row "
            f"where p.rowid > ? and p.rowid <= ? and p.status in {_CLOSED_SQL} "
            "and not exists (select 1 from funnel_props_queue q where q.prompt_id = p.id)", [walked, upto]).fetchall()
        _add(conn, "report_funnel_props_daily", _FUNNEL_KEY, _funnel_counts(rows))
        _set(conn, "prompts_walked", upto)
        done += max(1, upto - walked)
    else:
        ids = [r[0] for r in conn.execute("select prompt_id from funnel_props_queue order by prompt_id limit ?",
                                          [limit]).fetchall()]
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(f"select {_PROMPT_COLS} from prompts p left join events e on e.id = p.event_row "
                                f"where p.id in ({marks}) and p.status in {_CLOSED_SQL}", chunk).fetchall()
            _add(conn, "report_funnel_props_daily", _FUNNEL_KEY, _funnel_counts(rows))
            conn.execute(f"delete from funnel_props_queue where prompt_id in ({marks})", chunk)
        done += len(ids)
    last = state["events"]
    top_event = conn.execute("select coalesce(max(id), 0) from events").fetchone()[0]
    if top_event < last:  # the newest events were deleted: their ids may be given again
        _set(conn, "events", top_event)
    elif top_event > last:
        upto = min(top_event, last + limit)
        rows = conn.execute("select trigger_id, received_at, properties from events where id > ? and id <= ? "
                            "and trigger_id is not null", [last, upto]).fetchall()
        _add(conn, "report_events_props_daily", _EVENTS_KEY, _events_counts(rows))
        _set(conn, "events", upto)
        done += upto - last
    return done


def behind(conn: Any) -> int:
    """Rows still to fold: prompts to walk, queued prompts, new events (ids)."""
    state = _state(conn)
    queued = conn.execute("select count(*) from funnel_props_queue").fetchone()[0] \
        if state["prompts_walked"] >= state["prompts_top"] else 0
    top_event = conn.execute("select coalesce(max(id), 0) from events").fetchone()[0]
    return max(0, state["prompts_top"] - state["prompts_walked"]) + queued + max(0, top_event - state["events"])


def catch_up(storage: Any, small: int = SMALL_BACKLOG) -> bool:
    """Fold what is behind when it is at most `small`; True when the rollups then cover every
    closed prompt and every event, False when more is behind (the background job folds it)."""
    if behind(storage.db.conn) > small:
        return False
    while True:
        with storage.write(durable=False) as db:  # derived from the base tables: recomputable
            if fold_chunk(db.conn) == 0:
                return True


def fold_step(storage: Any, limit: int = CHUNK) -> int:
    """One short transaction of the background job; how many rows it read (0: caught up)."""
    with storage.write(durable=False) as db:
        return fold_chunk(db.conn, limit)


# -- erasure ---------------------------------------------------------------------------------------

def forget(conn: Any) -> None:
    """Take the prompts and events in temp.forget_prompts / temp.forget_events out of these
    rollups (storage/erasure.py `forget()`, before it deletes them): what was counted of them."""
    state = _state(conn)
    walked, top = state["prompts_walked"], state["prompts_top"]
    # Counted: closed, not queued, and reached by the walk (or closed after it: queued then folded).
    rows = conn.execute(
        f"select {_PROMPT_COLS} from temp.forget_prompts f cross join prompts p on p.id = f.id "
        f"left join events e on e.id = p.event_row where p.status in {_CLOSED_SQL} "
        "and not exists (select 1 from funnel_props_queue q where q.prompt_id = p.id) "
        "and (p.rowid <= ? or p.rowid > ?)", [walked, top]).fetchall()
    _add(conn, "report_funnel_props_daily", _FUNNEL_KEY, _funnel_counts(rows), sign=-1)
    rows = conn.execute("select e.trigger_id, e.received_at, e.properties from temp.forget_events f "
                        "cross join events e on e.id = f.id where e.id <= ? and e.trigger_id is not null",
                        [state["events"]]).fetchall()
    _add(conn, "report_events_props_daily", _EVENTS_KEY, _events_counts(rows), sign=-1)


def clamp_events(conn: Any) -> None:
    """After events were deleted: the newest ids may be given again, so the watermark comes down
    to the remaining maximum (everything up to it is folded)."""
    conn.execute("update prop_rollups_state set last_id = (select coalesce(max(id), 0) from events) "
                 "where name = 'events' and last_id > (select coalesce(max(id), 0) from events)")


# -- reading ---------------------------------------------------------------------------------------

Cells = tuple[tuple[str, str], ...]


def _cells_sql(cells: Cells, params: list[Any]) -> str:
    parts = []
    for kind, value in cells:
        parts.append("(kind = ? and value = ?)")
        params.extend([kind, value])
    return "(" + " or ".join(parts) + ")" if parts else "1 = 0"


def _days(start: float | None, end: float | None, params: list[Any]) -> str:
    sql = ""
    if start is not None:
        sql += " and day >= ?"
        params.append(int(start // 86400))
    if end is not None:
        sql += " and day < ?"
        params.append(int(end // 86400))
    return sql


def _triggers(triggers: tuple[int, ...], params: list[Any]) -> str:
    if not triggers:
        return ""
    params.extend(triggers)
    return f" and trigger_id in ({','.join('?' * len(triggers))})"


def answer_facts_sql(survey_id: int, key: str, cells: Cells, start: float | None, end: float | None,
                     triggers: tuple[int, ...], params: list[Any], columns: str = "day, trigger_id, score, n") -> str:
    """`columns` (default day, trigger_id, score, n) of the answers whose event's `key` is in
    `cells`, from the answers' rollup per property value (report_props_daily, kept by
    Reports.refresh_rollups)."""
    params.extend([survey_id, key])
    sql = f"select {columns} from report_props_daily where survey_id = ? and key = ?"
    sql += " and " + _cells_sql(cells, params) + _days(start, end, params) + _triggers(triggers, params)
    return sql


def closed_funnel(conn: Any, survey_id: int, key: str, cells: Cells, start: float | None, end: float | None,
                  triggers: tuple[int, ...]) -> list[tuple[str, int, int, int]]:
    """(status, delivered, shown, n) of the closed prompts whose event's `key` is in `cells`."""
    params: list[Any] = [survey_id, key]
    sql = ("select status, delivered, shown, sum(n) from report_funnel_props_daily where survey_id = ? and key = ? "
           "and " + _cells_sql(cells, params) + _days(start, end, params) + _triggers(triggers, params))
    return conn.execute(sql + " group by status, delivered, shown", params).fetchall()


def events_matched(conn: Any, trigger_ids: list[int], key: str, cells: Cells, start: float | None,
                   end: float | None) -> int:
    params: list[Any] = [key]
    sql = ("select coalesce(sum(n), 0) from report_events_props_daily where key = ? and "
           + _cells_sql(cells, params) + _days(start, end, params) + _triggers(tuple(trigger_ids), params))
    return conn.execute(sql, params).fetchone()[0]

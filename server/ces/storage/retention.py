"""SQL of the retention: old rows found outside the write lock, then removed in small transactions.

Each step reads candidate ids in a window of row ids WITHOUT the write lock (WAL readers never
block writers), then deletes or rewrites at most `batch` of them per `BEGIN IMMEDIATE`, checking
every condition again inside it (a prompt answered meanwhile keeps its event). So the longest
the lock is held is one small batch (docs/benchmarks.md measures it on 1M rows). Events,
prompts and answers are walked by rowid: rows are appended with the current time, so their ids
grow with time, and the walk stops at the first window whose rows are all too young, without an
index by time on the event hot path.

Rollups keep their counts when retention removes events and unanswered prompts (a count is about
nobody), so the usual reports over the past do not change. Answers removed in "delete" mode go
through `erasure.forget()`, which takes them out of the rollups too.
"""
from __future__ import annotations

import secrets
import sqlite3
import time
from typing import Any, Callable

from . import Storage
from .erasure import forget

WINDOW = 5_000  # row ids read per candidate query
TARGET_SECONDS = 0.005  # what one retention transaction aims to hold the write lock for
ANON_PREFIX = "anonymised-"

# One batch run inside the write lock: (connection, candidate ids) -> rows changed.
Apply = Callable[[Any, list[Any]], int]


class Pacer:
    """How many rows the next transaction takes: it starts small and adapts, so that one
    transaction holds the write lock about `target` seconds, never more than `batch` rows —
    whatever the machine, the cache's temperature or how much work a row costs."""

    def __init__(self, batch: int, target: float = TARGET_SECONDS) -> None:
        self.batch, self.target = batch, target
        self.size = max(1, min(batch, 32))

    def took(self, seconds: float) -> None:
        if seconds > self.target:
            self.size = max(1, self.size // 2)
        elif seconds < self.target / 2:
            self.size = min(self.batch, self.size * 2)


def _apply_paced(storage: Storage, ids: list[Any], pacer: Pacer, apply: Apply,
                 on_batch: Callable[[], None] | None) -> int:
    changed, i = 0, 0
    while i < len(ids):
        chunk = ids[i:i + pacer.size]
        i += len(chunk)
        started = time.perf_counter()
        with storage.write(durable=False) as db:
            changed += apply(db.conn, chunk)
        # Timed with its COMMIT (writing the pages to the WAL is most of a big batch's time) and
        # with any wait for the lock (under contention, smaller batches are what is wanted).
        pacer.took(time.perf_counter() - started)
        if on_batch is not None:
            on_batch()
    return changed


def _walk(storage: Storage, table: str, site_id: int, cutoff: float, time_col: str, where: str,
          params: list[Any], batch: int, apply: Apply, on_batch: Callable[[], None] | None) -> int:
    """Walk `table` by rowid in windows; in each, the site's rows matching `where` go through
    `apply` in short write transactions (at most `batch` rows each, fewer when rows are slow). Stops
    after the first window whose rows are all at or after `cutoff` (by `time_col`)."""
    conn = storage.db.conn
    top = conn.execute(f"select coalesce(max(rowid), 0) from {table}").fetchone()[0]
    changed, low = 0, 0
    pacer = Pacer(batch)
    while low < top:
        high = low + WINDOW
        rows = conn.execute(
            f"select rowid, {time_col} < ? and ({where}) from {table} where rowid > ? and rowid <= ? and site_id = ?",
            [cutoff, *params, low, high, site_id]).fetchall()
        low = high
        if rows and not conn.execute(f"select 1 from {table} where rowid > ? and rowid <= ? and {time_col} < ? "
                                     "limit 1", [high - WINDOW, high, cutoff]).fetchone():
            break  # everything here is young: so is everything after
        changed += _apply_paced(storage, [r[0] for r in rows if r[1]], pacer, apply, on_batch)
    return changed


def _clamp_watermark(conn: Any, table: str) -> None:
    """As in erasure.forget(): a deleted newest row must not make a later row's id fall under the watermark."""
    conn.execute("update report_rollup_state set last_id = min(last_id, "
                 f"(select coalesce(max(id), 0) from {table})) where name = ?", [table])


_KEEP_EVENT = ("not exists (select 1 from prompts p where p.id = events.prompt_id "
               "and p.status in ('answered','issued','delivered','shown'))")


def delete_events(storage: Storage, site_id: int, before: float, batch: int,
                  on_batch: Callable[[], None] | None = None) -> int:
    """Events received before `before`, except those of an answered or open prompt (they stay with it)."""
    def apply(conn: Any, ids: list[int]) -> int:
        marks = ",".join("?" * len(ids))
        n = conn.execute(f"delete from events where id in ({marks}) and received_at < ? and {_KEEP_EVENT}",
                         [*ids, before]).rowcount
        _clamp_watermark(conn, "events")
        return n
    return _walk(storage, "events", site_id, before, "received_at", _KEEP_EVENT, [], batch, apply, on_batch)


_DROPPABLE_PROMPT = "status in ('dismissed','expired') and coalesce(closed_at, created_at) < ?"


def delete_prompts(storage: Storage, site_id: int, before: float, batch: int,
                   on_batch: Callable[[], None] | None = None) -> int:
    """Prompts never answered (dismissed, expired) and closed before `before`."""
    def apply(conn: Any, ids: list[int]) -> int:
        marks = ",".join("?" * len(ids))
        return conn.execute(f"delete from prompts where rowid in ({marks}) and {_DROPPABLE_PROMPT}",
                            [*ids, before]).rowcount
    return _walk(storage, "prompts", site_id, before, "created_at", _DROPPABLE_PROMPT, [before], batch, apply,
                 on_batch)


def anonymise_answers(storage: Storage, site_id: int, before: float, now: float, batch: int,
                      on_batch: Callable[[], None] | None = None) -> int:
    """Answers created before `before`: the user id becomes a random token in the answer, its prompt
    and its event (one token per answer: two old answers of one person cannot be linked)."""
    def apply(conn: Any, ids: list[int]) -> int:
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            f"select a.id, a.prompt_id, p.event_row from answers a left join prompts p on p.id = a.prompt_id "
            f"where a.id in ({marks}) and a.created_at < ? and a.anonymised_at is null", [*ids, before]).fetchall()
        for answer_id, prompt_id, event_row in rows:
            token = ANON_PREFIX + secrets.token_hex(10)
            conn.execute("update answers set user_id = ?, anonymised_at = ? where id = ?", [token, now, answer_id])
            conn.execute("update prompts set user_id = ? where id = ?", [token, prompt_id])
            if event_row is not None:
                conn.execute("update events set user_id = ? where id = ?", [token, event_row])
        return len(rows)
    return _walk(storage, "answers", site_id, before, "created_at", "anonymised_at is null", [], batch, apply,
                 on_batch)


def delete_answers(storage: Storage, site_id: int, before: float, batch: int,
                   on_batch: Callable[[], None] | None = None) -> int:
    """Answers created before `before`, with their prompt and event, out of the rollups too."""
    def apply(conn: Any, ids: list[int]) -> int:
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            f"select a.id, a.prompt_id, p.event_row from answers a left join prompts p on p.id = a.prompt_id "
            f"where a.id in ({marks}) and a.created_at < ?", [*ids, before]).fetchall()
        forget(conn, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows if r[2] is not None])
        return len(rows)
    return _walk(storage, "answers", site_id, before, "created_at", "1", [], batch, apply, on_batch)


def delete_traits(storage: Storage, site_id: int, before: float, batch: int,
                  on_batch: Callable[[], None] | None = None) -> int:
    """Traits not updated since `before` of users of whom no event is kept any more."""
    conn = storage.db.conn
    ids = [r[0] for r in conn.execute(
        "select u.rowid from users u where u.site_id = ? and u.updated_at < ? and not exists "
        "(select 1 from events e where e.site_id = u.site_id and e.user_id = u.user_id)", [site_id, before])]

    def apply(conn: Any, chunk: list[int]) -> int:
        return conn.execute(
            f"delete from users where rowid in ({','.join('?' * len(chunk))}) and updated_at < ? and not exists "
            "(select 1 from events e where e.site_id = users.site_id and e.user_id = users.user_id)",
            [*chunk, before]).rowcount
    return _apply_paced(storage, ids, Pacer(batch), apply, on_batch)


def delete_deliveries(storage: Storage, site_id: int, before: float, batch: int,
                      on_batch: Callable[[], None] | None = None) -> int:
    """Webhook deliveries done with (sent, failed, cancelled) and last touched before `before`:
    their payloads carry answers and user ids."""
    conn = storage.db.conn
    ids = [r[0] for r in conn.execute("select id from webhook_deliveries where site_id = ? and status != 'pending' "
                                      "and updated_at < ?", [site_id, before])]

    def apply(conn: Any, chunk: list[int]) -> int:
        return conn.execute(f"delete from webhook_deliveries where id in ({','.join('?' * len(chunk))}) "
                            "and status != 'pending' and updated_at < ?", [*chunk, before]).rowcount
    return _apply_paced(storage, ids, Pacer(batch), apply, on_batch)


def checkpoint(storage: Storage) -> None:
    """Copy the WAL back into the database between two batches, outside the write lock (PASSIVE
    never blocks anyone). Retention writes many pages quickly; left to SQLite's automatic
    checkpoint, the commit that crosses its threshold would do the copying while holding the
    lock (30-40 ms spikes in bench/bench_retention.py, against under 8 ms with this)."""
    try:
        storage.db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error:
        pass  # busy: the next batch tries again


def site_settings(storage: Storage) -> list[tuple[int, Any]]:
    """(site id, settings JSON) of every site."""
    return storage.db.conn.execute("select id, settings from sites order by id").fetchall()

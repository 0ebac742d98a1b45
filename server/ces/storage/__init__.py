"""Storage: every SQL statement of the product lives in this package.

One SQLite file in WAL mode, one connection per thread (sqlite3 objects never cross
threads). Writes that must be atomic (check-then-record decisions, answers) go through
`write()`: a process lock plus `BEGIN IMMEDIATE`, so they are serialized both between the
threads of one process and between processes sharing the file.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import secrets
import sqlite3
import threading
from base64 import urlsafe_b64encode
from contextlib import contextmanager
from os import urandom
from typing import Any, Iterable, Iterator

from sqlite_utils import Database

from ..core.compact_json import compact_json
from .checkpoint import AUTOCHECKPOINT_PAGES, Checkpointer
from .dialect import SQLITE, Dialect
from .migrations import OPEN_PROMPT, migrations
from .writer_lock import WriterLock

JSON_COLUMNS = {"settings", "allowed_origins", "texts", "appearance", "quota", "conditions", "variants", "properties", "traits",
                "occurrences", "cancel_events"}
OPEN_STATUSES = ("issued", "delivered", "shown")


def new_key(prefix: str, nbytes: int = 18) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def new_prompt_id(now: float) -> str:
    """A prompt id that sorts by creation time: the milliseconds in hex, then 72 random bits.

    Prompts are the most inserted rows; an id that grows with time appends to the primary
    key's b-tree instead of dirtying a random page of it on every insert (less to write per
    commit and per checkpoint). Ownership, not secrecy, protects a prompt: every use of an id
    checks the prompt belongs to the user.
    """
    return f"p_{int(now * 1000):011x}{urlsafe_b64encode(urandom(9)).decode()}"  # = token_urlsafe(9), cheaper


def decode(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row with its JSON columns parsed."""
    if row is None:
        return None
    return {k: (json.loads(v) if k in JSON_COLUMNS and isinstance(v, str) else v) for k, v in row.items()}


def encode(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (compact_json(v) if k in JSON_COLUMNS and v is not None else v)
            for k, v in values.items()}


def sqlite_path(database: str) -> str:
    """The file of a SQLite database setting: a path, or `sqlite:PATH` / `sqlite:///PATH`."""
    for prefix in ("sqlite:///", "sqlite://", "sqlite:"):
        if database.startswith(prefix):
            return database[len(prefix):] or ":memory:"
    return database


def insert_row(db: Any, table: str, values: dict[str, Any]) -> int:
    """INSERT one row; its integer id. Plain SQL (not the sqlite-utils table API): both engines run it."""
    cols = ", ".join(f'"{k}"' for k in values)
    return db.execute(f"insert into {table} ({cols}) values ({','.join('?' * len(values))})",
                      list(values.values())).lastrowid


def _in_lists(values: list[Any], size: int = 500) -> Iterator[tuple[list[Any], str]]:
    """`values` in slices that stay far below SQLite's host-parameter limit, each with its `?,?,…`."""
    for i in range(0, len(values), size):
        chunk = values[i:i + size]
        yield chunk, ",".join("?" * len(chunk))


POOL_SIZE = 16  # idle connections kept for `borrowed()`


class Storage:
    """The product's storage. `Storage("ces.db")` is SQLite (this class); `Storage("postgresql://…")`
    is the same class on PostgreSQL (engine_postgres.PostgresStorage overrides only the connection
    machinery: connections, write(), migrations)."""

    def __new__(cls, path: Any = "", *args: Any, **kwargs: Any) -> "Storage":
        if cls is Storage and str(path).startswith(("postgresql://", "postgres://")):
            from .engine_postgres import PostgresStorage
            cls = PostgresStorage
        return super().__new__(cls)

    dialect: Dialect = SQLITE  # what differs between the engines beyond spelling (dialect.py)
    streams_rows = False  # server-side cursors (`streaming()`): PostgreSQL's engine has them

    @property
    def engine(self) -> str:
        """"sqlite" or "postgresql" (for messages and tests; the code paths never branch on it)."""
        return "sqlite"

    def __init__(self, path: str, synchronous: str = "FULL") -> None:
        self.path = sqlite_path(str(path))
        self.synchronous = synchronous
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._checkpointer = Checkpointer(self.path)
        self._writer = WriterLock(self.path) if self.path != ":memory:" else None
        self._pool: list[tuple[Database, str]] = []  # (connection, its synchronous level)
        self._pool_lock = threading.Lock()

    # -- connections -----------------------------------------------------------------
    def _connect(self, shared: bool = False) -> Database:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=not shared)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        return Database(conn)

    @property
    def db(self) -> Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
            self._local.synchronous = self.synchronous
        return db

    def describe(self) -> str:
        """The database, as messages name it (never a password)."""
        return self.path

    def shutdown(self) -> None:
        """Close what this object holds open before the process forks or ends (SQLite: this
        thread's connection, the pooled ones and the checkpointer's; PostgreSQL: its pool).

        Nothing may stay open across gunicorn's fork: SQLite keeps its locks' bookkeeping per
        process, so children that inherit an open connection's state believe they hold locks
        they do not, and two of them writing corrupt the file ("database disk image is
        malformed" within seconds under `--workers 2`), even if neither uses the inherited one.
        """
        self.close()
        with self._pool_lock:
            pooled, self._pool = self._pool, []
        for db, _level in pooled:
            db.conn.close()
        self._checkpointer.stop()
        if self._writer is not None:
            with self._write_lock:  # not while this process's writer holds it
                self._writer.close()

    def close(self) -> None:
        """Close this thread's connection (the others close with their threads)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None

    @contextmanager
    def borrowed(self) -> Iterator[None]:
        """Run the block on a pooled connection, given back at its end.

        For threads that mostly wait (a websocket's): each keeping its own connection would cost
        2 file descriptors per open socket, and opening one per message costs ~0.8 ms (the schema
        is read again); a pooled one is ready. A thread that has its own connection keeps using it.
        """
        if getattr(self._local, "db", None) is not None:
            yield
            return
        with self._pool_lock:
            db, level = self._pool.pop() if self._pool else (None, self.synchronous)
        if db is None:
            db = self._connect(shared=True)  # used by one thread at a time, not always the same
        self._local.db, self._local.synchronous = db, level
        try:
            yield
        finally:
            level, self._local.db = self._local.synchronous, None
            with self._pool_lock:
                keep = len(self._pool) < POOL_SIZE and not db.conn.in_transaction
                if keep:
                    self._pool.append((db, level))
            if not keep:
                db.conn.close()

    @contextmanager
    def setting_up(self) -> Iterator[None]:
        """One process at a time sets the database up (migrations, the first run's seed).

        Servers and workers started at the same moment on a fresh file would otherwise race:
        sqlite-utils applies each migration in a deferred transaction, and two of them upgrading
        to write at once fail at once with "database is locked" (busy_timeout does not apply to
        that deadlock). A lock on a file beside the database orders them; the later ones find the
        work done. SQLite files are shared by processes of one host only, as is this lock.
        """
        with self._write_lock:
            if self.path == ":memory:":
                yield
                return
            with open(self.path + ".setup-lock", "a+") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    def migrate(self) -> None:
        with self.setting_up():
            migrations.apply(self.db)

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[Database]:
        """An immediate transaction: nobody else writes until it commits or rolls back.

        `durable` commits are fsynced (the configured level, FULL by default): an acked answer
        survives a power cut. High-volume event decisions pass durable=False (NORMAL in WAL
        mode: safe against a crash of the process, not of the machine), which removes the fsync
        from the push path; the next durable commit makes them durable too.
        """
        with self._write_lock:
            db = self.db
            level = self.synchronous if durable else "NORMAL"
            if getattr(self._local, "synchronous", None) != level:  # a statement saved per batch
                db.execute(f"PRAGMA synchronous={level}")
                self._local.synchronous = level
            if self._writer is not None:
                self._writer.acquire()  # the other processes' writers queue here (writer_lock.py)
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            finally:
                if self._writer is not None:
                    self._writer.release()
        self._checkpointer.wrote()

    def table_names(self) -> list[str]:
        """The product's tables (the engine's own aside), by name."""
        return [r[0] for r in self.db.execute("select name from sqlite_master where type = 'table' "
                                              "and name not like 'sqlite_%' order by name")]

    def one(self, sql: str, params: Iterable[Any] = ()) -> dict[str, Any] | None:
        for row in self.db.query(sql, list(params)):
            return decode(row)
        return None

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        return [decode(r) for r in self.db.query(sql, list(params))]  # type: ignore[misc]

    # -- sites -------------------------------------------------------------------------
    def create_site(self, name: str, now: float, site_key: str | None = None,
                    secret_key: str | None = None, identity_verification: bool = False,
                    allowed_origins: Iterable[str] = ()) -> dict[str, Any]:
        with self.write() as db:
            row_id = insert_row(db, "sites", {
                "name": name, "site_key": site_key or new_key("site", 12),
                "secret_key": secret_key or new_key("sk", 24),
                "identity_verification": int(identity_verification), "settings": "{}", "created_at": now,
                "allowed_origins": compact_json(list(allowed_origins)),
            })
        return self.get_site(row_id)  # type: ignore[return-value]

    def get_site(self, site_id: int) -> dict[str, Any] | None:
        return self.one("select * from sites where id = ?", [site_id])

    def site_by_key(self, site_key: str) -> dict[str, Any] | None:
        return self.one("select * from sites where site_key = ?", [site_key])

    def site_by_secret(self, secret_key: str) -> dict[str, Any] | None:
        return self.one("select * from sites where secret_key = ?", [secret_key])

    def first_site(self) -> dict[str, Any] | None:
        return self.one("select * from sites order by id limit 1")

    def set_identity_verification(self, site_id: int, on: bool) -> None:
        with self.write() as db:
            db.execute("update sites set identity_verification = ? where id = ?", [int(on), site_id])

    # -- admin tokens ------------------------------------------------------------------------
    @staticmethod
    def token_digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def create_admin_token(self, name: str, now: float) -> tuple[dict[str, Any], str]:
        """A new token: (its row, the token itself, shown once and never stored)."""
        token = new_key("ces_admin", 24)
        with self.write() as db:
            row_id = insert_row(db, "admin_tokens", {"name": name, "token_hash": self.token_digest(token),
                                                     "created_at": now})
        return self.one("select id, name, created_at, revoked_at from admin_tokens where id = ?", [row_id]), token  # type: ignore[return-value]

    def admin_by_token(self, token: str) -> dict[str, Any] | None:
        return self.one("select id, name, created_at from admin_tokens where token_hash = ? and revoked_at is null",
                        [self.token_digest(token)])

    def list_admin_tokens(self) -> list[dict[str, Any]]:
        return self.all("select id, name, created_at, revoked_at from admin_tokens order by id")

    def revoke_admin_token(self, token_id: int, now: float) -> bool:
        with self.write() as db:
            cur = db.execute("update admin_tokens set revoked_at = ? where id = ? and revoked_at is null",
                             [now, token_id])
            return cur.rowcount == 1

    # -- surveys and triggers -----------------------------------------------------------
    def create_survey(self, site_id: int, now: float, **fields: Any) -> dict[str, Any]:
        with self.write() as db:
            row_id = insert_row(db, "surveys", encode({
                "site_id": site_id, "created_at": now, "updated_at": now, **fields}))
        return self.get_survey(row_id)  # type: ignore[return-value]

    def get_survey(self, survey_id: int) -> dict[str, Any] | None:
        return self.one("select * from surveys where id = ?", [survey_id])

    def create_trigger(self, site_id: int, now: float, **fields: Any) -> dict[str, Any]:
        with self.write() as db:
            row_id = insert_row(db, "triggers", encode({
                "site_id": site_id, "created_at": now, "updated_at": now, **fields}))
        return self.one("select * from triggers where id = ?", [row_id])  # type: ignore[return-value]

    def active_triggers(self, site_id: int, event_name: str) -> list[dict[str, Any]]:
        return self.all(
            "select t.*, s.metric as survey_metric from triggers t join surveys s on s.id = t.survey_id "
            "where t.site_id = ? and t.event_name = ? and t.status = 'active' and s.status = 'active' "
            "order by t.priority desc, t.id", [site_id, event_name])

    # -- events and decisions -------------------------------------------------------------
    def event_by_id(self, site_id: int, event_id: str) -> dict[str, Any] | None:
        return self.one("select * from events where site_id = ? and event_id = ?", [site_id, event_id])

    def insert_event(self, db: Database, row: dict[str, Any]) -> int:
        return insert_row(db, "events", encode(row))

    # -- prompts ----------------------------------------------------------------------------
    def last_shown_at(self, site_id: int, user_id: str) -> float | None:
        """When this user last saw a prompt (shown, or closed after being shown)."""
        row = self.one(
            "select max(coalesce(shown_at, closed_at)) as t from prompts "
            "where site_id = ? and user_id = ? and (shown_at is not null or status in ('answered','dismissed'))",
            [site_id, user_id])
        return row["t"] if row else None

    def open_prompt(self, site_id: int, user_id: str, now: float) -> dict[str, Any] | None:
        return self.one(
            "select * from prompts where site_id = ? and user_id = ? and status in ('issued','delivered','shown') "
            "and expires_at > ? order by created_at limit 1", [site_id, user_id, now])

    def get_prompt(self, prompt_id: str) -> dict[str, Any] | None:
        return self.one("select * from prompts where id = ?", [prompt_id])

    def deliverable_prompts(self, site_id: int, user_id: str, now: float) -> list[dict[str, Any]]:
        """The user's prompts that may be put on screen now, oldest first."""
        return self.all(
            "select * from prompts where site_id = ? and user_id = ? and status in ('issued','delivered','shown') "
            "and deliver_after <= ? and expires_at > ? order by created_at", [site_id, user_id, now, now])

    def expire_due(self, now: float) -> int:
        with self.write(durable=False) as db:  # derived from expires_at: recomputable
            cur = db.execute(
                f"update prompts set status = 'expired', closed_at = expires_at where {OPEN_PROMPT} "
                "and expires_at <= ?", [now])
            return cur.rowcount

    def mark_shown(self, prompt_id: str, now: float, locale: str | None) -> None:
        with self.write() as db:
            db.execute("update prompts set status = 'shown', shown_at = coalesce(shown_at, ?), "
                       "delivered_at = coalesce(delivered_at, ?), locale = coalesce(?, locale) "
                       "where id = ? and status in ('issued','delivered')", [now, now, locale, prompt_id])

    def close_prompt(self, db: Database, prompt_id: str, status: str, now: float) -> None:
        db.execute("update prompts set status = ?, closed_at = ? where id = ?", [status, now, prompt_id])

    # -- answers ----------------------------------------------------------------------------
    def insert_answer(self, db: Database, row: dict[str, Any]) -> int:
        return insert_row(db, "answers", row)

    def answer_for(self, prompt_id: str) -> dict[str, Any] | None:
        return self.one("select * from answers where prompt_id = ?", [prompt_id])

    def set_comment(self, db: Database, prompt_id: str, comment: str) -> None:
        db.execute("update answers set comment = ? where prompt_id = ?", [comment, prompt_id])

    def score_distribution(self, survey_id: int) -> dict[int, int]:
        return {r["score"]: r["n"] for r in self.db.query(
            "select score, count(*) as n from answers where survey_id = ? group by score", [survey_id])}

    # -- users ----------------------------------------------------------------------------------
    def merge_traits(self, db: Database, site_id: int, user_id: str, traits: dict[str, Any], now: float) -> None:
        row = self.one("select traits from users where site_id = ? and user_id = ?", [site_id, user_id])
        merged = dict(row["traits"]) if row else {}
        for key, value in traits.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        db.execute("insert into users (site_id, user_id, traits, updated_at) values (?, ?, ?, ?) "
                   "on conflict (site_id, user_id) do update set traits = excluded.traits, updated_at = excluded.updated_at",
                   [site_id, user_id, compact_json(merged), now])

    def traits(self, site_id: int, user_id: str) -> dict[str, Any]:
        row = self.one("select traits from users where site_id = ? and user_id = ?", [site_id, user_id])
        return row["traits"] if row else {}

    # =====================================================================================
    # -- rules (issue 3): what the decision engine asks, and the admin API's resources ----
    # The engine's questions run inside the ingest transaction (same thread, same
    # connection), on the raw sqlite3 connection: they are the hot path of every event.

    RULES_TRIGGER_COLUMNS = ("id", "event_name", "survey_id", "conditions", "source", "sample_rate", "variants",
                             "delay_seconds", "ttl_seconds", "transaction_key", "priority",
                             "occurrences", "cancel_events", "cancel_same_transaction")
    RULES_SURVEY_COLUMNS = ("id", "metric", "status", "quota")

    def rules_rows(self, site_id: int) -> tuple[tuple[Any, ...] | None, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The site's raw rule rows: ((settings JSON, time zone), active triggers, surveys), columns
        as in RULES_*_COLUMNS, ordered by id. Undecoded: the engine's cache compares them as they are."""
        conn = self.db.conn
        row = conn.execute("select settings, time_zone from sites where id = ?", (site_id,)).fetchone()
        triggers = conn.execute(f"select {', '.join(self.RULES_TRIGGER_COLUMNS)} from triggers "
                                "where site_id = ? and status = 'active' order by id", (site_id,)).fetchall()
        surveys = conn.execute(f"select {', '.join(self.RULES_SURVEY_COLUMNS)} from surveys where site_id = ? "
                               "order by id", (site_id,)).fetchall()
        return (tuple(row) if row else None), triggers, surveys

    def rules_seen_events(self, site_id: int, event_ids: list[str]) -> dict[str, str | None]:
        """event_id -> prompt_id for the ids already received on the site."""
        seen: dict[str, str | None] = {}
        conn = self.db.conn
        for chunk, marks in _in_lists(event_ids):
            for event_id, prompt_id in conn.execute(
                    f"select event_id, prompt_id from events where site_id = ? and event_id in ({marks})",
                    (site_id, *chunk)):
                seen[event_id] = prompt_id
        return seen

    def rules_users_prompts(self, site_id: int, user_ids: Iterable[str],
                            since: float | None) -> list[tuple[Any, ...]]:
        """These users' open prompts, and their closed ones closed at or after `since` (None: open only).

        (user_id, id, survey_id, metric, status, created_at, shown_at, closed_at, expires_at). A
        closed prompt's contact time is never after its closed_at, so `closed_at >= since` loses
        nothing. Index prompts(site_id, user_id, status), one query per 500 users.
        """
        rows: list[tuple[Any, ...]] = []
        conn = self.db.conn
        for chunk, marks in _in_lists(list(user_ids)):
            rows += conn.execute(
                "select p.user_id, p.id, p.survey_id, s.metric, p.status, p.created_at, p.shown_at, p.closed_at, "
                "p.expires_at from prompts p join surveys s on s.id = p.survey_id "
                f"where p.site_id = ? and p.user_id in ({marks}) "
                # A cancelled prompt never reached the user: no contact, not in any history.
                "and (p.status in ('issued','delivered','shown') or (p.closed_at >= ? and p.status != 'cancelled'))",
                (site_id, *chunk, float("inf") if since is None else since)).fetchall()
        return rows

    def rules_transaction_prompts(self, site_id: int, transactions: Iterable[str]) -> dict[str, str]:
        """transaction (stored form) -> the id of a prompt already issued for it, site-wide.

        Index idx_prompts_site_transaction: an IN list on the column implies its `is not null`
        (adding that term makes SQLite scan the range instead; EXPLAIN QUERY PLAN checked)."""
        found: dict[str, str] = {}
        conn = self.db.conn
        for chunk, marks in _in_lists(list(transactions)):
            for transaction, prompt_id in conn.execute(
                    "select \"transaction\", min(id) from prompts where site_id = ? "
                    # A cancelled prompt asked nothing: the transaction may be asked about again.
                    f"and \"transaction\" in ({marks}) and status != 'cancelled' group by 1", (site_id, *chunk)):
                found[transaction] = prompt_id
        return found

    def rules_survey_counts(self, survey_id: int, day_start: float,
                            limits: tuple[int | None, int | None, int | None, int | None]) -> tuple[int, int, int, int]:
        """(prompts today, answers today, prompts in total, answers in total), each counted up to
        its limit in `limits` (the survey's quota for it; None: not counted, 0).

        A quota only asks "has the count reached the limit?", so no count reads more than `limit`
        index entries (survey_id, created_at): a busy survey's batch costs the same at its 10th and
        its 100,000th prompt of the day, and a survey with a daily quota only never counts its history.
        """
        sql = ("select 1 from prompts where survey_id = ? and created_at >= ?",
               "select 1 from answers where survey_id = ? and created_at >= ?",
               "select 1 from prompts where survey_id = ?",
               "select 1 from answers where survey_id = ?")
        conn = self.db.conn
        out = [0, 0, 0, 0]
        for i, limit in enumerate(limits):
            if limit is not None:
                params = (survey_id, day_start, limit) if i < 2 else (survey_id, limit)
                out[i] = conn.execute(f"select count(*) from ({sql[i]} limit ?)", params).fetchone()[0]
        return out[0], out[1], out[2], out[3]

    def rules_next_event_row(self, db: Database) -> int:
        """The id the next event row gets (inside `write()`: nobody else inserts meanwhile)."""
        return db.conn.execute("select coalesce(max(id), 0) + 1 from events").fetchone()[0]

    def rules_insert_prompts(self, db: Database, prompts: list[tuple[Any, ...]]) -> None:
        """New open prompts, in one executemany: (id, site_id, user_id, survey_id, trigger_id,
        transaction, created_at, deliver_after, expires_at, event_row, variant)."""
        db.conn.executemany(
            "insert into prompts (id, site_id, user_id, survey_id, trigger_id, \"transaction\", created_at, "
            "deliver_after, expires_at, event_row, variant, status) values (?,?,?,?,?,?,?,?,?,?,?,'issued')", prompts)

    def rules_insert_events(self, db: Database, events: list[tuple[Any, ...]]) -> None:
        """Decided events, in one executemany: (id, site_id, event_id, user_id, name, properties JSON,
        timestamp, received_at, source, decision, reason, detail, trigger_id, prompt_id)."""
        db.conn.executemany(
            "insert into events (id, site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
            "decision, reason, detail, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", events)

    def user_decisions(self, site_id: int, user_id: str, limit: int) -> tuple[list[dict[str, Any]], int]:
        """The user's latest decisions, newest first, and how many there are in all."""
        rows = self.all(
            "select event_id, name, source, properties, timestamp, received_at, decision, reason, detail, "
            "trigger_id, prompt_id from events where site_id = ? and user_id = ? "
            "order by received_at desc, id desc limit ?", [site_id, user_id, limit])
        total = self.one("select count(*) as n from events where site_id = ? and user_id = ?", [site_id, user_id])
        return rows, total["n"] if total else 0

    # -- admin resources (surveys, triggers, sites) ------------------------------------------
    def list_sites(self) -> list[dict[str, Any]]:
        return self.all("select id, name, site_key, identity_verification, settings, created_at from sites order by id")

    def set_site_settings(self, site_id: int, settings: dict[str, Any]) -> None:
        with self.write() as db:
            db.execute("update sites set settings = ? where id = ?", [json.dumps(settings), site_id])

    def list_rows(self, table: str, filters: dict[str, Any], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Rows of `table` ("surveys" or "triggers") matching equality filters, by id; and the total."""
        assert table in ("surveys", "triggers")
        where = " and ".join(f"{k} = ?" for k in filters) or "1"
        params = list(filters.values())
        rows = self.all(f"select * from {table} where {where} order by id limit ? offset ?", [*params, limit, offset])
        total = self.one(f"select count(*) as n from {table} where {where}", params)
        return rows, total["n"] if total else 0

    def get_row(self, table: str, row_id: int) -> dict[str, Any] | None:
        assert table in ("surveys", "triggers")
        return self.one(f"select * from {table} where id = ?", [row_id])

    def update_row(self, table: str, row_id: int, values: dict[str, Any], now: float) -> dict[str, Any] | None:
        assert table in ("surveys", "triggers")
        if values:
            encoded = encode({**values, "updated_at": now})
            sets = ", ".join(f"{k} = ?" for k in encoded)
            with self.write() as db:
                db.execute(f"update {table} set {sets} where id = ?", [*encoded.values(), row_id])
        return self.get_row(table, row_id)

    def delete_row(self, table: str, row_id: int) -> bool:
        assert table in ("surveys", "triggers")
        with self.write() as db:
            return db.execute(f"delete from {table} where id = ?", [row_id]).rowcount == 1

    def survey_uses(self, survey_id: int) -> dict[str, int]:
        """What still refers to a survey: triggers (directly or as a variant), prompts."""
        triggers = self.one(
            "select count(*) as n from triggers t where t.survey_id = ?1 or exists "
            "(select 1 from json_each(t.variants) v where cast(json_extract(v.value, '$.survey_id') as integer) = ?1)",
            [survey_id])
        prompts = self.one("select count(*) as n from prompts where survey_id = ?", [survey_id])
        return {"triggers": triggers["n"] if triggers else 0, "prompts": prompts["n"] if prompts else 0}

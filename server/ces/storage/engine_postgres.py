"""The PostgreSQL engine: `Storage` on a psycopg 3 pool, selected by a `postgresql://` URL.

Everything a query asks is the shared `Storage` code; this module only answers "how do I talk
to this engine": connections, transactions, locking, durability, migrations. The storage code
calls `db.execute(sql, params)` (and `db.conn.execute`, `db.query`) as it does on SQLite; `PgDb`
gives it that interface, rewriting the SQL once per statement (dialect.to_postgres).

Connections: outside a transaction each statement borrows a pooled connection (autocommit) and
gives it back with its rows fetched, so thousands of greenlets share a few connections. A
`write()` (or a `BEGIN` the code issues itself, for a consistent read) pins one connection to the
thread until it ends.

Locking: `write()` is the same promise as SQLite's `BEGIN IMMEDIATE`: one writer at a time,
here across every server on the database (a transaction-level advisory lock, released at
commit). The check-then-record decisions (one open prompt per user, quotas, one answer per
prompt) rely on it, and reads inside it see every commit made before it got the lock.
docs/benchmarks.md has the figures that chose it over row locks and SERIALIZABLE with retries.
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterable, Iterator, Sequence

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from . import Storage, decode
from . import migrations_postgres
from .dialect import POSTGRES, postgres_params, to_postgres

WRITE_LOCK = 0x6365735F77  # "ces_w": the advisory lock every write() holds


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


# -- parameters and results typed as SQLite would -----------------------------------------------------

class _Untyped(Dumper):
    """Numbers and booleans sent untyped: PostgreSQL types each parameter from where it is used
    (`bigint_col = $1`, `json_extract(…) in ($1, $2)`), as SQLite's dynamic typing does. A typed
    int would make `text = bigint` an error where SQLite compares."""
    oid = 0
    format = Format.TEXT

    def dump(self, obj: Any) -> bytes:
        if obj is True or obj is False:
            return b"1" if obj else b"0"  # '1'/'0' are valid input for both bigint and boolean
        if isinstance(obj, float) and obj in (float("inf"), float("-inf")):
            return b"Infinity" if obj > 0 else b"-Infinity"
        return repr(obj).encode() if isinstance(obj, float) else str(obj).encode()


class _NumericAsNumber(Loader):
    """sum() of bigints is numeric in PostgreSQL: an int (or a float) here, as SQLite returns."""

    def load(self, data: Any) -> Any:
        text = bytes(data).decode()
        return int(text) if "." not in text and "e" not in text.lower() and text not in ("NaN",) else float(text)


def _configure(conn: psycopg.Connection) -> None:
    for kind in (int, float, bool):
        conn.adapters.register_dumper(kind, _Untyped)
    conn.adapters.register_loader("numeric", _NumericAsNumber)


# -- the connection interface the storage code uses -----------------------------------------------------

class Result:
    """A statement's outcome with its rows already fetched (the connection is free again)."""

    def __init__(self, cur: psycopg.Cursor | None, returning_id: bool = False) -> None:
        if cur is None:  # a BEGIN/COMMIT the engine handled itself
            self.description, self.rowcount, self._rows, self.lastrowid = None, -1, [], None
            return
        self.description = cur.description
        self.rowcount = cur.rowcount
        self._rows: list[Any] = cur.fetchall() if cur.description is not None else []
        self.lastrowid = self._rows[0][0] if returning_id and self._rows else None
        if returning_id:
            self.description, self._rows = None, []

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


# Tables whose integer id the code reads back as `cursor.lastrowid` after an insert.
ID_TABLES = frozenset({"sites", "events", "surveys", "triggers", "answers", "admin_tokens", "webhooks", "webhook_deliveries",
                       "erasures", "audit_log"})


def _insert_table(sql: str) -> str | None:
    head = sql.lstrip()[:80].lower()
    if not head.startswith("insert into "):
        return None
    return head[len("insert into "):].split(None, 1)[0].split("(")[0].strip('"')


class _Constant:
    def __init__(self, value: Any) -> None:
        self.value = value


_PLAIN_INSERT = re.compile(r"^\s*insert\s+into\s+(\w+)\s*\(([^)]*)\)\s*values\s*\(([^()]*)\)\s*$", re.I | re.S)


@lru_cache(maxsize=256)
def _as_copy(sql: str) -> tuple[str, tuple[Any, ...]] | None:
    """`insert into t (a, b, c) values (?, ?, 'x')` → ("copy t (a, b, c) from stdin", layout): for
    each column, the parameter's index, or a constant. None for anything else (upserts, RETURNING…)."""
    m = _PLAIN_INSERT.match(sql)
    if m is None:
        return None
    columns = [c.strip() for c in m.group(2).split(",")]
    values = [v.strip() for v in m.group(3).split(",")]
    if len(columns) != len(values):
        return None
    layout: list[Any] = []
    index = 0
    for value in values:
        if value == "?":
            layout.append(index)
            index += 1
        elif re.fullmatch(r"'[^']*'", value):
            layout.append(_Constant(value[1:-1]))
        elif re.fullmatch(r"-?\d+", value):
            layout.append(_Constant(int(value)))
        else:
            return None
    return f"copy {m.group(1)} ({', '.join(columns)}) from stdin", tuple(layout)


class PgDb:
    """What `storage.db` is on PostgreSQL: execute / executemany / query, and `.conn` (itself)."""

    dialect = POSTGRES

    def __init__(self, storage: "PostgresStorage") -> None:
        self.storage = storage

    @property
    def conn(self) -> "PgDb":
        return self

    @property
    def in_transaction(self) -> bool:
        return self.storage._pinned() is not None

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        pinned = self.storage._pinned()
        if pinned is not None:
            yield pinned
        else:
            with self.storage.pool.connection() as conn:
                yield conn

    def execute_binary(self, sql: str, params: Sequence[Any] | None = ()) -> Result:
        """A SELECT whose results come in PostgreSQL's binary format: bytea as raw bytes, not hex
        text to decode (the report columns' segments: docs/benchmarks.md, PostgreSQL)."""
        text, numbered = to_postgres(sql)
        with self._connection() as conn:
            return Result(conn.execute(text, postgres_params(numbered, params), binary=True))  # type: ignore[arg-type]

    def execute(self, sql: str, params: Sequence[Any] | None = ()) -> Result:
        verb = sql.strip().upper()
        if verb in ("BEGIN", "BEGIN DEFERRED", "BEGIN IMMEDIATE"):
            self.storage._begin_read()  # a read snapshot the code asked for (erasure's export)
            return Result(None)
        if verb in ("COMMIT", "ROLLBACK"):
            self.storage._end_read(commit=verb == "COMMIT")
            return Result(None)
        if verb.startswith("PRAGMA"):  # SQLite's own settings (a WAL checkpoint): nothing to do here
            return Result(None)
        text, numbered = to_postgres(sql)
        table = _insert_table(text)
        returning = table in ID_TABLES and " returning " not in text.lower()
        if returning:
            text += " returning id"
        with self._connection() as conn:
            cur = conn.execute(text, postgres_params(numbered, params))  # type: ignore[arg-type]
            return Result(cur, returning_id=returning)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        rows = list(seq)
        if not rows:
            return
        copy = _as_copy(sql)
        with self._connection() as conn, conn.cursor() as cur:
            if copy is not None and len(rows) > 1:
                # A plain multi-row INSERT as COPY: one statement for the batch, where executemany
                # would run (pipelined) one INSERT per row; the decisions' hot path (100 events).
                statement, layout = copy
                with cur.copy(statement) as out:
                    for row in rows:
                        out.write_row([row[i] if isinstance(i, int) else i.value for i in layout])
                return
            text, numbered = to_postgres(sql)
            cur.executemany(text, [postgres_params(numbered, p) for p in rows])  # pipelined: one round trip

    def query(self, sql: str, params: Sequence[Any] | None = ()) -> Iterator[dict[str, Any]]:
        text, numbered = to_postgres(sql)
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(text, postgres_params(numbered, params))  # type: ignore[arg-type]
            rows = cur.fetchall()
        return iter(rows)


class PostgresStorage(Storage):
    """`Storage` whose connections are PostgreSQL's (see the module's docstring)."""
    dialect = POSTGRES
    streams_rows = True

    def __init__(self, path: str, synchronous: str = "FULL", pool_size: int = 10) -> None:
        self.path = path
        self.synchronous = synchronous
        self._local = threading.local()
        self.pool = ConnectionPool(path, min_size=1, max_size=pool_size, open=True, configure=_configure,
                                   kwargs={"autocommit": True}, name="ces")
        self._db = PgDb(self)

    # -- the thread's pinned connection ---------------------------------------------------------
    @property
    def engine(self) -> str:
        return "postgresql"

    def _pinned(self) -> psycopg.Connection | None:
        return getattr(self._local, "conn", None)

    @property
    def db(self) -> PgDb:  # type: ignore[override]
        return self._db

    def close(self) -> None:
        """Nothing is kept per thread outside a transaction."""

    def describe(self) -> str:
        from urllib.parse import urlsplit, urlunsplit
        parts = urlsplit(self.path)
        host = parts.hostname or ""
        netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def shutdown(self) -> None:
        self.pool.close()

    @contextmanager
    def borrowed(self) -> Iterator[None]:
        yield  # every statement borrows from the pool already

    @contextmanager
    def setting_up(self) -> Iterator[None]:
        with self.pool.connection() as conn:
            conn.execute("select pg_advisory_lock(%s)", [migrations_postgres.MIGRATIONS_LOCK + 1])
            try:
                yield
            finally:
                conn.execute("select pg_advisory_unlock(%s)", [migrations_postgres.MIGRATIONS_LOCK + 1])

    def migrate(self) -> None:
        with self.pool.connection() as conn:
            migrations_postgres.apply(conn)

    @contextmanager
    def _pinned_transaction(self, *setup: str) -> Iterator[psycopg.Connection]:
        if self._pinned() is not None:
            raise RuntimeError("a transaction is already open on this thread")
        with self.pool.connection() as conn:
            # One round trip: BEGIN and the setup statements as one simple-protocol string.
            conn.execute("; ".join(("begin", *setup)))  # type: ignore[arg-type]
            self._local.conn = conn
            try:
                yield conn
            except BaseException:
                self._local.conn = None
                conn.execute("rollback")
                raise
            self._local.conn = None
            conn.execute("commit")

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[PgDb]:  # type: ignore[override]
        """One writer at a time on the whole database; `durable` commits wait for the WAL flush
        (synchronous_commit on): an acknowledged answer survives a crash of the machine."""
        setup = [f"select pg_advisory_xact_lock({WRITE_LOCK})"]
        if not durable or self.synchronous == "OFF":
            setup.append("set local synchronous_commit = off")
        with self._pinned_transaction(*setup):
            yield self._db

    # A read snapshot the storage code opens with `BEGIN` … `COMMIT` (one consistent export).
    def _begin_read(self) -> None:
        cm = self._pinned_transaction("set transaction isolation level repeatable read read only")
        cm.__enter__()
        self._local.read_cm = cm

    def _end_read(self, commit: bool) -> None:
        cm = getattr(self._local, "read_cm", None)
        if cm is None:
            return
        self._local.read_cm = None
        if commit:
            cm.__exit__(None, None, None)
        else:
            try:
                raise RuntimeError("rolled back")
            except RuntimeError as err:
                cm.__exit__(type(err), err, err.__traceback__)

    @contextmanager
    def streaming(self, sql: str, params: Sequence[Any] = (), size: int = 2000) -> Iterator[Iterator[tuple[Any, ...]]]:
        """Rows of `sql` through a server-side cursor, `size` per round trip: memory stays bounded."""
        text, numbered = to_postgres(sql)
        with self.pool.connection() as conn, conn.transaction():
            # DECLARE/FETCH spelled out: psycopg's named cursor would quote its FETCH count with
            # the untyped number dumper these connections use.
            conn.execute(f"declare ces_stream no scroll cursor for {text}", postgres_params(numbered, params))

            def rows() -> Iterator[tuple[Any, ...]]:
                while batch := conn.execute(f"fetch forward {int(size)} from ces_stream").fetchall():
                    yield from batch

            yield rows()

    def table_names(self) -> list[str]:
        return [r[0] for r in self._db.execute(
            "select table_name from information_schema.tables where table_schema = 'public' "
            "and table_type = 'BASE TABLE' order by table_name")]

    def one(self, sql: str, params: Iterable[Any] = ()) -> dict[str, Any] | None:
        for row in self._db.query(sql, list(params)):
            return decode(row)
        return None

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        return [decode(r) for r in self._db.query(sql, list(params))]  # type: ignore[misc]

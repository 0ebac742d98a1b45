"""Move an installation from SQLite to PostgreSQL: every table, row for row, verified by counts.

The target is migrated first (the same named steps as every PostgreSQL database) and must hold
no site yet: nothing is merged into an installation already in use. Tables are copied parents
first, by rowid (the order SQLite inserted them), with COPY, in ONE transaction: a failed or
interrupted move leaves the target as empty as it was. The rollups are copied as they are (their
watermarks with them), then the identity sequences are moved past the copied ids, and every
table's count is compared with its source's.
"""
from __future__ import annotations

from typing import Callable

from . import Storage
from .engine_postgres import PostgresStorage

# Parents before children (foreign keys); the tables a newer SQLite file has beyond these are
# copied after them, in name order.
ORDER = ("sites", "surveys", "triggers", "admin_tokens", "events", "prompts", "answers", "users", "webhooks",
         "webhook_deliveries", "report_rollup_state", "report_answers_daily", "report_props_daily",
         "report_funnel_daily", "report_events_daily", "opt_outs", "erasures", "audit_log", "visits")
# The report columns (storage/report_columns.py) are not copied: their segments hold positions of
# this file's prompt-close log, which the target's SQL trigger fills anew as the prompts are copied;
# the target's background job seals them again (until then its reports take the other paths).
REPORT_COLUMNS = {"report_segments", "report_segment_props", "report_closed_prompts", "report_columns_state"}
SKIP = {"_sqlite_migrations", "ces_migrations", *REPORT_COLUMNS}
CHUNK = 5000


class TargetNotEmpty(Exception):
    """The PostgreSQL database already holds an installation."""


def _columns_sqlite(source: Storage, table: str) -> list[str]:
    return [r[1] for r in source.db.conn.execute(f'pragma table_info("{table}")').fetchall()]


def _columns_pg(target: PostgresStorage, table: str) -> list[str]:
    return [r[0] for r in target.db.execute(
        "select column_name from information_schema.columns where table_schema = 'public' and table_name = ? "
        "and is_generated = 'NEVER' and coalesce(identity_generation, '') != 'ALWAYS' order by ordinal_position",
        [table])]


def plan(source: Storage, target: PostgresStorage) -> list[tuple[str, list[str], int]]:
    """(table, columns copied, rows) for every table of the source the target has too."""
    tables = [t for t in source.table_names() if t not in SKIP]
    missing = [t for t in tables if t not in target.table_names()]
    if missing:
        raise ValueError(f"the PostgreSQL schema has no table {', '.join(missing)}: is this server older than the file?")
    ordered = [t for t in ORDER if t in tables] + sorted(t for t in tables if t not in ORDER)
    out = []
    for table in ordered:
        pg_cols = set(_columns_pg(target, table))
        cols = [c for c in _columns_sqlite(source, table) if c in pg_cols]
        n = source.db.conn.execute(f'select count(*) from "{table}"').fetchone()[0]
        out.append((table, cols, n))
    return out


def copy_all(source: Storage, target: PostgresStorage,
             progress: Callable[[str, int], None] = lambda table, rows: None) -> dict[str, tuple[int, int]]:
    """Copy every table; table → (rows in the source, rows in the target). `progress(table, n)`
    after each chunk of n rows. Raises TargetNotEmpty, or ValueError when the counts differ."""
    target.migrate()
    if target.one("select count(*) as n from sites")["n"]:  # type: ignore[index]
        raise TargetNotEmpty("the PostgreSQL database already has sites: migrate-data only fills an empty one")
    steps = plan(source, target)
    sconn = source.db.conn
    with target.pool.connection() as conn, conn.transaction():
        for table, cols, _n in steps:
            names = ", ".join(f'"{c}"' for c in cols)
            order = "rowid" if not _without_rowid(source, table) else "1"
            cur = sconn.execute(f'select {names} from "{table}" order by {order}')
            with conn.cursor().copy(f'copy "{table}" ({names}) from stdin') as copy:
                while rows := cur.fetchmany(CHUNK):
                    for row in rows:
                        copy.write_row(row)
                    progress(table, len(rows))
        for table, cols, _n in steps:
            if "id" in cols and conn.execute("select pg_get_serial_sequence(%s, 'id')", [table]).fetchone()[0]:
                conn.execute(f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"coalesce((select max(id) from \"{table}\"), 0) + 1, false)")
        counts = {table: (n, conn.execute(f'select count(*) from "{table}"').fetchone()[0]) for table, _c, n in steps}
        wrong = {t: c for t, c in counts.items() if c[0] != c[1]}
        if wrong:
            raise ValueError(f"counts differ after the copy (source, target): {wrong}; nothing was kept")
    return counts


def _without_rowid(source: Storage, table: str) -> bool:
    sql = source.db.conn.execute("select sql from sqlite_master where type = 'table' and name = ?",
                                 [table]).fetchone()
    return bool(sql and "without rowid" in (sql[0] or "").lower())


def totals(steps: list[tuple[str, list[str], int]]) -> int:
    return sum(n for _t, _c, n in steps)

"""A consistent copy of a live SQLite database, taken without stopping the server.

SQLite's online backup API, in ONE step: the copy is read inside a single read transaction, so it
is the database as of one instant (WAL mode: readers never block the server's writes, and the
server's writes do not restart a one-step backup the way they restart a stepped one). The copy is
written to a temporary file next to the target, switched to rollback-journal mode (one
self-contained file, no -wal beside it), checked with `PRAGMA integrity_check`, fsynced and only
then renamed onto the target: a crash mid-way never leaves a half backup under the target's name.
"""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: str
    bytes: int
    seconds: float
    integrity: str


def backup(source: str | os.PathLike, target: str | os.PathLike) -> BackupResult:
    """Copy the database at `source` to `target` (replaced if it exists)."""
    started = time.monotonic()
    if str(source).startswith(("postgresql://", "postgres://")):
        raise BackupError("`ces backup` copies a SQLite file; back a PostgreSQL database up with pg_dump "
                          "(docs/deployment.md, PostgreSQL)")
    source, target = Path(source), Path(target)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    if target.resolve() == source.resolve():
        raise BackupError("the backup must not overwrite the database itself")
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    src = sqlite3.connect(source, timeout=30)  # read only in practice; rw so a cold WAL file opens
    try:
        src.execute("PRAGMA busy_timeout=30000")
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # pages=-1: everything in one step, one snapshot
            dst.execute("PRAGMA journal_mode=DELETE")
            integrity = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    except sqlite3.Error as err:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"backup failed: {err}") from err
    finally:
        src.close()
    if integrity != "ok":
        tmp.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {integrity}")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return BackupResult(str(target), target.stat().st_size, time.monotonic() - started, integrity)

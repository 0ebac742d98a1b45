"""`ces serve --workers 2` on one SQLite file: nothing of the database crosses gunicorn's fork.

The serving process migrates and seeds the database before gunicorn forks its workers. A SQLite
connection still open at the fork (the checkpointer's, a pooled one) hands every child a copy of
SQLite's per-process lock bookkeeping: the children then believe they hold locks they do not, and
two of them writing at once corrupted the file within seconds ("database disk image is
malformed", found by bench/bench_bus.py --decisions). On PostgreSQL the same start closes its pool.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from ces.testing import fresh_rows, post_event_batches
from scale_out import SECRET, cluster_factory, poll, redis_server, redis_up  # noqa: F401

pytestmark = pytest.mark.sqlite_only


def _database_files_open(pid: int, db: str) -> list[str]:
    names = {os.path.realpath(db + suffix) for suffix in ("", "-wal", "-shm")}
    fd_dir = Path(f"/proc/{pid}/fd")
    opened = []
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target in names:
            opened.append(target)
    return opened


def test_two_workers_write_one_sqlite_file_without_corrupting_it(database, redis_up, cluster_factory):
    cluster = cluster_factory(redis_up.url)
    cluster.env["CES_LIMIT_API_EVENTS_PER_KEY"] = "100000000/minute"
    (server,) = cluster.add(1, args=("--workers", "2"))
    # The serving process (gunicorn's arbiter) set the database up and wrote to it (the first
    # run's site), yet holds none of its files: the workers opened their own after the fork.
    assert _database_files_open(server.proc.pid, database) == []
    # Two workers up, each writing its presence row at its sweep: two writers from here on.
    poll(lambda: len(fresh_rows(database, "select distinct pid from server_processes")) == 2, 15,
         "both workers' presence rows")

    sent, failures = post_event_batches(server.url, SECRET, seconds=4)
    assert failures == []
    assert sent > 0
    cluster.stop()
    conn = sqlite3.connect(database)
    assert conn.execute("pragma integrity_check").fetchall() == [("ok",)]
    assert conn.execute("select count(*) from events where name = 'page_viewed'").fetchone()[0] == sent

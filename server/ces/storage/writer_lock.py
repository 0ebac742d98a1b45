"""One writer at a time across the processes sharing a SQLite file, woken as soon as it may write.

SQLite lets one process write at a time and makes the others wait in its busy handler, which
sleeps in steps (1, 2, 5, 10 … ms) and retries: with two worker processes deciding events, most of
a waiting process's time went to sleeping past the moment the lock was free (`--workers 2` gave
0.5-0.9 of one worker's decisions per second, bench/bench_bus.py --decisions). Holding a `flock`
on a file beside the database around each write transaction queues the writers in the kernel
instead, which wakes the next one when the lock is released. SQLite's own locking still decides
what is correct (writers that do not take this lock, such as the migrations, wait as before);
this only orders the product's writers.
"""
from __future__ import annotations

import fcntl
import os


class WriterLock:
    """Called by Storage.write() with its process-wide write lock held: one thread at a time here."""

    def __init__(self, database_path: str) -> None:
        self.path = database_path + ".write-lock"
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        # A descriptor per process: flock() locks belong to the open file, which a forked child
        # would share with its parent (and each other) if it kept the inherited one.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self) -> None:
        fcntl.flock(self._file(), fcntl.LOCK_EX)

    def release(self) -> None:
        fcntl.flock(self._file(), fcntl.LOCK_UN)

    def close(self) -> None:
        """Before the process forks (Storage.shutdown)."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None

"""WAL checkpoints off the request path.

In WAL mode every commit appends pages to the -wal file; a checkpoint copies them back into the
database file and fsyncs it. SQLite's automatic checkpoint runs inside whichever commit crosses
the threshold, so one request in every few pays for copying everybody's pages plus an fsync
(bench/bench_decisions.py saw 1 ms median commits with 20 ms spikes). Here a daemon thread on
its own connection runs PASSIVE checkpoints (they never block readers or writers) shortly after
writes, and exits after a few idle seconds; SQLite's own automatic checkpoint stays on, at a
higher threshold, as the safety net that keeps the -wal file bounded if this thread falls behind.
"""
from __future__ import annotations

import sqlite3
import threading
import time

from ..offload import off_loop

AUTOCHECKPOINT_PAGES = 10_000   # the safety net: about 40 MB of WAL at 4 KiB pages
INTERVAL = 0.25                 # seconds between checkpoints while writes keep coming
IDLE_EXIT = 5.0                 # seconds without writes before the thread ends


class Checkpointer:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def wrote(self) -> None:
        """Called after a commit: a checkpoint is due soon."""
        self._dirty.set()
        if self._thread is None and not self._stopping.is_set():
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="ces-checkpoint", daemon=True)
                    self._thread.start()

    def stop(self) -> None:
        """End the thread and close its connection now (before the process forks: a connection
        open across fork() corrupts the file once two children write, see Storage.shutdown())."""
        self._stopping.set()
        self._dirty.set()  # wake it
        thread = self._thread
        if thread is not None:
            thread.join()
        self._stopping.clear()
        self._dirty.clear()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            while True:
                if self._stopping.is_set():
                    with self._lock:
                        self._thread = None
                    return
                if not self._dirty.wait(IDLE_EXIT):
                    with self._lock:
                        if not self._dirty.is_set():  # nobody wrote meanwhile: stop
                            self._thread = None
                            return
                    continue
                self._dirty.clear()
                if self._stopping.is_set():
                    continue
                try:
                    # Copying pages back and fsyncing can take a while: not on the event loop.
                    off_loop(lambda: conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall())
                except sqlite3.Error:
                    pass  # busy or closing: the next write asks again, autocheckpoint is the net
                self._stopping.wait(INTERVAL)
        finally:
            conn.close()

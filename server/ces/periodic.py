"""A background job run now and then: first `first_run` seconds after start, then every
`interval` seconds, in a daemon thread (a greenlet under gevent's patching). The retention job,
the alerts and digests, and the theme.grown check are each one; several processes may run one on
a database, so what a job sends it claims in the database first."""
from __future__ import annotations

import logging
import threading

from .storage import Storage

log = logging.getLogger(__name__)


class PeriodicJob:
    name = "ces-job"

    def __init__(self, storage: Storage, interval: float, first_run: float) -> None:
        self.storage, self.interval, self.first_run = storage, interval, first_run
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once); an `interval` of 0 or less means never."""
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def run_once(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        wait = self.first_run
        while not self._stop.wait(wait):
            try:
                self.run_once()
            except Exception:  # the next run tries again; the server goes on
                log.exception("%s failed", self.name)
            finally:
                self.storage.close()  # this thread's connection: nothing held between runs
            wait = self.interval

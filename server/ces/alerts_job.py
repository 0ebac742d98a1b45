"""The periodic job of alerts and digests: `alerts.run()` every `interval` seconds in a daemon
thread (a greenlet under gevent), as the retention job does. Several processes may run it on one
database: each notice is claimed once (alerts.py), so nothing is sent twice."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from . import alerts
from .services import Services

log = logging.getLogger(__name__)


class AlertsJob:
    def __init__(self, services: Services, clock: Callable[[], float], interval: float,
                 first_run: float = 60.0) -> None:
        self.services, self.clock = services, clock
        self.interval, self.first_run = interval, first_run
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="ces-alerts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        wait = self.first_run
        while not self._stop.wait(wait):
            try:
                sent = alerts.run(self.services, self.clock())
                if sent:
                    log.info("alerts sent: %s", sent)
            except Exception:  # the next run tries again; the server goes on
                log.exception("alerts run failed")
            finally:
                self.services.storage.close()
            wait = self.interval

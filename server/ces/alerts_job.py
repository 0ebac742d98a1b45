"""The periodic job of alerts and digests: `alerts.run()` every `interval` seconds in a daemon
thread (a greenlet under gevent), as the retention job does. Several processes may run it on one
database: each notice is claimed once (alerts.py), so nothing is sent twice."""
from __future__ import annotations

import logging
from typing import Callable

from . import alerts
from .periodic import PeriodicJob
from .services import Services

log = logging.getLogger(__name__)


class AlertsJob(PeriodicJob):
    name = "ces-alerts"

    def __init__(self, services: Services, clock: Callable[[], float], interval: float,
                 first_run: float = 60.0) -> None:
        super().__init__(services.storage, interval, first_run)
        self.services, self.clock = services, clock

    def run_once(self) -> None:
        sent = alerts.run(self.services, self.clock())
        if sent:
            log.info("alerts sent: %s", sent)

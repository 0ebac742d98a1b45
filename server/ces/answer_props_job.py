"""The background copy of answers into `answer_props` (storage/answer_props.py), and the sealing
of the report columns (storage/report_columns.py): a large installation's existing rows after the
upgrade that made the tables, then each run the rows since the last one, so that reports seldom
copy or seal any themselves.

One chunk of answers per short transaction (JOB_CHUNK), with a pause between chunks so that the widgets'
writes get the lock in between. Several processes may run it on one database: each chunk is
copied under the write lock from the highest copied id, so no answer is copied twice."""
from __future__ import annotations

import logging
import time

from .periodic import PeriodicJob
from .storage import Storage
from .storage import answer_props, report_columns

log = logging.getLogger(__name__)


# Answers (or prompts, events) per transaction of the job. Each holds the write lock, so every
# decision waits for it: 20,000 answers of 20 properties took 2.25 s, 2,000 took 0.26 s
# (1M-answer file, 2026-12-01); the catch-up takes a little longer in smaller steps.
JOB_CHUNK = 2_000


class AnswerPropsJob(PeriodicJob):
    name = "ces-answer-props"

    def __init__(self, storage: Storage, interval: float, first_run: float = 1.0,
                 chunk: int = JOB_CHUNK, pause: float = 0.05) -> None:
        super().__init__(storage, interval, first_run)
        self.chunk, self.pause = chunk, pause
        self.copied = 0  # by this process, since it started (for the logs and tests)
        self.columns_status: dict | None = None  # report_columns.status() at the end of the last run (/healthz)

    def run_once(self) -> None:
        started, copied = time.monotonic(), 0
        while not self._stop.is_set():
            n = answer_props.copy_chunk(self.storage, self.chunk)
            copied += n
            self.copied += n
            if n < self.chunk:
                break
            if self.pause:
                time.sleep(self.pause)  # let the writers in between two chunks
        # The report columns (storage/report_columns.py): the walk of old closed prompts, then segments.
        while not self._stop.is_set() and report_columns.step(self.storage, self.chunk):
            if self.pause:
                time.sleep(self.pause)
        self.columns_status = {**report_columns.status(self.storage), "checked_at": time.time()}
        if copied >= self.chunk:
            log.info("answer_props: %s answers copied in %.1f s", copied, time.monotonic() - started)

"""When to try a request again, and how long to wait first."""
from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from typing import Optional


def is_retryable(status: int) -> bool:
    """5xx, 408 (request timeout) and 429 (too many requests) are worth another try; other 4xx
    will fail the same way every time."""
    return status >= 500 or status in (408, 429)


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt ``n`` (0-based) waits between half and all of
    ``min(backoff_max, backoff_base * 2**n)``, so that many clients knocked out by the same outage
    do not come back in lockstep. A server's ``Retry-After`` replaces the computed wait, capped at
    ``retry_after_max``."""

    max_retries: int = 10
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 300.0

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** min(attempt, 32)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def wait_before_retry(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry_after_max)
        return self.backoff(attempt)

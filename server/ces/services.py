"""What the adapters share: storage, the hub of open sockets, the courier of prompts and the clock."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

from .hub import Hub
from .rules_cache import RulesCache
from .storage import Storage
from .storage import presence

if TYPE_CHECKING:
    from .hub import Connection


class Courier(Protocol):
    """Gets prompts onto screens, in whichever process holds the sockets (delivery.py builds it;
    named here so that services never imports delivery)."""

    def prompts_issued(self, site_id: int, issued: Sequence[tuple[str, str, float]]) -> None:
        """(prompt_id, user_id, deliver_after) just committed: due ones are rung, delayed ones timed."""

    def prompts_closed(self, site_id: int, user_id: str, prompt_ids: Sequence[str],
                       by: "Connection | None" = None) -> None:
        """Take closed prompts off the user's other tabs, wherever they are connected."""

    def ring(self, site_id: int, user_ids: Sequence[str]) -> None:
        """These users have something to receive (a survey paused or resumed): reconcile their tabs."""

    def deliver_pending(self, conn: "Connection") -> int:
        """On connect (or identify): every prompt that waited for this user."""

    def stop(self) -> None: ...


def _process_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class Services:
    storage: Storage
    hub: Hub = field(default_factory=Hub)
    # Injected so tests can move time forward (recontact waits are days long).
    clock: Callable[[], float] = time.time
    courier: Courier | None = None
    rules: RulesCache = field(default_factory=RulesCache)
    # This process among all the servers sharing the database (presence rows, doorbells).
    process_id: str = field(default_factory=_process_id)
    # A process's presence row older than this is a process gone (killed without a goodbye).
    presence_ttl: float = 10.0

    def now(self) -> float:
        return self.clock()

    def connected_count(self, site_id: int | None = None) -> int:
        """Widgets connected to every server process sharing this database (of one site, or all):
        this one's own count, live, plus the others' as of their last presence row (written when
        their count changes, else every few seconds)."""
        others = [p for p in presence.connected(self.storage, time.time() - self.presence_ttl)
                  if p["id"] != self.process_id]
        if site_id is None:
            return self.hub.count() + sum(p["sockets"] for p in others)
        return self.hub.count_site(site_id) + sum(p["by_site"].get(site_id, 0) for p in others)

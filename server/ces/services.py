"""What the adapters share: storage, the hub of open sockets, the prompt scheduler and the clock."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .hub import Hub
from .rules_cache import RulesCache
from .storage import Storage

if TYPE_CHECKING:
    from .delivery import Scheduler


@dataclass
class Services:
    storage: Storage
    hub: Hub = field(default_factory=Hub)
    # Injected so tests can move time forward (recontact waits are days long).
    clock: Callable[[], float] = time.time
    scheduler: "Scheduler | None" = None
    rules: RulesCache = field(default_factory=RulesCache)

    def now(self) -> float:
        return self.clock()

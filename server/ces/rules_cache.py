"""A site's triggers, surveys and fatigue policy, compiled for the engine, reused while unchanged.

Every batch of events reads the site's rule rows again (one indexed query each), so a trigger
changed through any process applies from the next batch on. What is cached is only the work
done on those rows — JSON decoding, validating the policy, compiling conditions, sorting
triggers into arbitration order — keyed on the raw rows themselves: any change to any column
of any of them is a different key, and the rules are compiled again.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from .core.decision import Survey, Trigger, order
from .core.fatigue import FatiguePolicy, policy_from_dict
from .core.time_zones import UTC_NAME, site_time_zone
from .storage import Storage, decode

_MAX_SITES = 256  # compiled rule sets kept; beyond that the oldest is dropped


@dataclass(frozen=True)
class Rules:
    policy: FatiguePolicy
    surveys: dict[int, Survey]
    triggers: dict[str, list[Trigger]]   # by event name, in arbitration order
    by_id: dict[int, Trigger]
    # event name -> the triggers whose pending delayed prompts that event calls off
    cancels: dict[str, list[Trigger]] = field(default_factory=dict)
    time_zone: str = UTC_NAME   # the site's (IANA name)


def policy_from_settings(settings: Any) -> FatiguePolicy:
    """The site's fatigue policy: `settings["fatigue"]` over FatiguePolicy()'s defaults."""
    if isinstance(settings, str):
        settings = json.loads(settings or "{}")
    try:
        return policy_from_dict((settings or {}).get("fatigue") or {})
    except ValueError:  # only valid policies are stored (PUT /sites/<id>/fatigue validates)
        return FatiguePolicy()


def compile_rules(settings: Any, trigger_rows: list[dict[str, Any]], survey_rows: list[dict[str, Any]],
                  time_zone: str | None = None) -> Rules:
    surveys = {s["id"]: Survey.from_row(s) for s in survey_rows}
    triggers: dict[str, list[Trigger]] = {}
    by_id: dict[int, Trigger] = {}
    for row in trigger_rows:
        trigger = Trigger.from_row(row)
        triggers.setdefault(trigger.event_name, []).append(trigger)
        by_id[trigger.id] = trigger
    cancels: dict[str, list[Trigger]] = {}
    for trigger in by_id.values():
        for name in trigger.cancel_events:
            cancels.setdefault(name, []).append(trigger)
    return Rules(policy_from_settings(settings), surveys, {n: order(ts) for n, ts in triggers.items()}, by_id,
                 cancels, site_time_zone({"time_zone": time_zone}))


class RulesCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_site: dict[int, tuple[tuple[Any, ...], Rules]] = {}

    def rules(self, storage: Storage, site_id: int) -> Rules:
        """The site's rules as stored right now (read on the caller's connection and transaction)."""
        site, triggers, surveys = storage.rules_rows(site_id)
        settings, time_zone = site if site is not None else (None, None)
        key = (settings, time_zone, tuple(triggers), tuple(surveys))
        with self._lock:
            found = self._by_site.get(site_id)
        if found is not None and found[0] == key:
            return found[1]
        compiled = compile_rules(settings, [decode(r) for r in _as_dicts(storage.RULES_TRIGGER_COLUMNS, triggers)],
                                 [decode(r) for r in _as_dicts(storage.RULES_SURVEY_COLUMNS, surveys)], time_zone)
        with self._lock:
            if len(self._by_site) >= _MAX_SITES and site_id not in self._by_site:
                self._by_site.pop(next(iter(self._by_site)))
            self._by_site[site_id] = (key, compiled)
        return compiled


def _as_dicts(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row)) for row in rows]

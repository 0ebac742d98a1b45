"""Configuration as code, the pure part: what an import changes, from what is stored and what the
file wants. Rows are compared in their file form (stable keys, no database ids).

Nothing is ever deleted: a survey or trigger the file no longer lists is paused, so its answers
and reports stay; importing the same file again plans nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

ACTIVE, PAUSED = "active", "paused"


@dataclass
class Plan:
    """What an import does, in the order it does it."""

    # (site key, kind, name); kind "site" for the site itself
    creates: list[tuple[str, str, str]] = field(default_factory=list)
    changes: list[tuple[str, str, str, list[str]]] = field(default_factory=list)  # (site, kind, name, fields)
    pauses: list[tuple[str, str, str]] = field(default_factory=list)
    kept: list[tuple[str, str, str]] = field(default_factory=list)            # not in the file, left as they are

    @property
    def empty(self) -> bool:
        return not (self.creates or self.changes or self.pauses)

    def lines(self) -> list[str]:
        out = [f"create {_what(*c)}" for c in self.creates]
        out += [f"change {_what(site, kind, name)}: {', '.join(fields)}" for site, kind, name, fields in self.changes]
        out += [f"pause {_what(*p)} (not in the file; its answers stay)" for p in self.pauses]
        out += [f"keep {_what(*k)} (not in the file; delete it with the API if it should go)" for k in self.kept]
        return out


def _what(site: str, kind: str, name: str) -> str:
    return f"site {site}" if kind == "site" else f"{kind} {name} of site {site}"


def changed_fields(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """The keys of `wanted` whose value differs from `current`'s, in `wanted`'s order."""
    return [k for k, v in wanted.items() if current.get(k) != v]


def diff_rows(plan: Plan, site: str, kind: str, current: Mapping[str, Mapping[str, Any]],
              wanted: Mapping[str, Mapping[str, Any]], pausable: bool = True) -> None:
    """Add to `plan` what turns `current` (by key) into `wanted` (by key) for one site's rows of one kind."""
    for key, row in wanted.items():
        if key not in current:
            plan.creates.append((site, kind, key))
        else:
            fields = changed_fields(current[key], row)
            if fields:
                plan.changes.append((site, kind, key, fields))
    for key, row in current.items():
        if key in wanted:
            continue
        if pausable and row.get("status") == ACTIVE:
            plan.pauses.append((site, kind, key))
        elif not pausable:
            plan.kept.append((site, kind, key))

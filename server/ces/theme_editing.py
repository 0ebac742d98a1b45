"""Changing a site's themes: rename, extend or turn off a starter theme, add one of the site's own,
merge one theme into another, reset or delete. One service for the admin API (api/themes.py) and
the dashboard's Themes page, so both refuse the same things in the same words, and each change
is audited once.

A change is validated as a whole (core/themes.check_config) inside one transaction; a refused one
stores nothing. Comments are themed again under the new version at the next report.
"""
from __future__ import annotations

from typing import Any, Callable

from . import audit
from . import themes as service
from .core.themes import KEY_RE, STARTER_KEYS
from .storage import Storage


class ThemeEditError(Exception):
    """A refused change: the HTTP status it deserves, the field at fault, the whole message and
    the one to show next to the field."""

    def __init__(self, status: int, field: str, message: str, detail: str) -> None:
        super().__init__(message)
        self.status, self.field, self.message, self.detail = status, field, message, detail

    @property
    def code(self) -> str:
        return {400: "validation_error", 404: "not_found"}.get(self.status, "conflict")


def _unknown(key: str) -> ThemeEditError:
    return ThemeEditError(404, "theme_id", f"No theme {key}.", f"Unknown theme {key}.")


def check_key(key: str) -> str:
    if not KEY_RE.match(key):
        raise ThemeEditError(400, "key", "A theme key is 1 to 40 lower-case letters, digits and '-'.",
                             "1 to 40 lower-case letters, digits and '-'.")
    return key


def _apply(storage: Storage, actor: str, site_id: int, change: Callable[[dict[str, Any]], dict[str, Any]],
           action: str, key: str, detail: dict[str, Any], now: float, field: str, status: int = 400) -> None:
    try:
        service.change_site_themes(storage, site_id, change, now)
    except ValueError as err:
        raise ThemeEditError(status, field, f"Invalid themes: {err}", str(err)) from None
    audit.record(storage, actor, action, f"site:{site_id}/theme:{key}", detail)


def put_theme(storage: Storage, actor: str, site_id: int, key: str, entry: dict[str, Any], now: float,
              field: str = "themes") -> None:
    """Set theme `key`'s label, added terms and on/off (None values left out); a merge it is part
    of stays (undo it with reset_theme)."""
    key = check_key(key)
    entry = {k: v for k, v in entry.items() if v is not None}

    def change(entries: dict[str, Any]) -> dict[str, Any]:
        if "merged_into" in entries.get(key, {}):
            entry["merged_into"] = entries[key]["merged_into"]
        return {**entries, key: entry}
    _apply(storage, actor, site_id, change, "theme.put", key, entry, now, field)


def merge_theme(storage: Storage, actor: str, site_id: int, key: str, into: str, now: float) -> None:
    """Merge theme `key` into `into`: its comments count for `into` from the next report on."""
    key = check_key(key)

    def change(entries: dict[str, Any]) -> dict[str, Any]:
        if key not in STARTER_KEYS and key not in entries:
            raise _unknown(key)
        return {**entries, key: {**entries.get(key, {}), "merged_into": into}}
    _apply(storage, actor, site_id, change, "theme.merge", key, {"into": into}, now, "into")


def reset_theme(storage: Storage, actor: str, site_id: int, key: str, now: float) -> None:
    """A theme of the site's own is deleted; a starter theme goes back to how it ships (unmerged,
    its own label and terms, on)."""
    key = check_key(key)
    if key not in service.site_config(storage, site_id).get("themes", {}):
        if key in STARTER_KEYS:
            return
        raise _unknown(key)

    def change(entries: dict[str, Any]) -> dict[str, Any]:
        if key not in entries:  # deleted meanwhile: nothing left to do
            return entries
        return {k: v for k, v in entries.items() if k != key}
    _apply(storage, actor, site_id, change, "theme.delete", key, {}, now, "key", status=409)

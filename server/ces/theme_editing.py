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
from .core.themes import FOUND_PREFIX, KEY_RE, MAX_LABEL, MAX_TERMS, STARTER_KEYS, check_term
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


def site_themes_view(storage: Storage, site_id: int) -> dict[str, Any]:
    """The site's themes as the API lists them: those in use (merged ones folded into their
    target), the keys turned off, and the settings as stored."""
    config = service.site_config(storage, site_id)
    themes, version = service.site_themes(storage, site_id)
    entries = config.get("themes", {})
    return {"site_id": site_id, "version": version,
            "themes": [{"key": t.key, "label": t.label, "kind": t.kind, "merged_from": list(t.merged_from),
                        "added_terms": entries.get(t.key, {}).get("terms", []), "terms": list(t.terms)}
                       for t in themes],
            "off": sorted(k for k, e in entries.items() if e.get("enabled") is False),
            "settings": config}


def _refuse(field: str, detail: str) -> ThemeEditError:
    return ThemeEditError(400, field, f"Invalid {field}: {detail}", detail)


def check_entry(key: str, entry: dict[str, Any]) -> None:
    """The fields of one theme, each refused under its own name (the whole settings are checked
    again by core.themes.check_config when stored)."""
    if key.startswith(FOUND_PREFIX):
        raise _refuse("key", f"'{FOUND_PREFIX}' starts the keys of found themes; choose another key.")
    label = entry.get("label")
    if label is not None and (not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL):
        raise _refuse("label", f"A label is 1 to {MAX_LABEL} characters.")
    terms = entry.get("terms") or []
    if len(terms) > MAX_TERMS:
        raise _refuse("terms", f"At most {MAX_TERMS} terms.")
    for term in terms:
        try:
            check_term(term)
        except ValueError as err:
            raise _refuse("terms", f"{str(err)[0].upper()}{str(err)[1:]}.") from None
    if key not in STARTER_KEYS:
        if label is None:
            raise _refuse("label", "A theme of your own needs a label.")
        if not terms:
            raise _refuse("terms", "A theme of your own needs at least one term.")


def put_theme(storage: Storage, actor: str, site_id: int, key: str, entry: dict[str, Any], now: float) -> None:
    """Set theme `key`'s label, added terms and on/off (None values left out); a merge it is part
    of stays (undo it with reset_theme)."""
    key = check_key(key)
    entry = {k: v for k, v in entry.items() if v is not None}
    check_entry(key, entry)

    def change(entries: dict[str, Any]) -> dict[str, Any]:
        if "merged_into" in entries.get(key, {}):
            entry["merged_into"] = entries[key]["merged_into"]
        return {**entries, key: entry}
    _apply(storage, actor, site_id, change, "theme.put", key, entry, now, "themes")


def merge_theme(storage: Storage, actor: str, site_id: int, key: str, into: str, now: float) -> None:
    """Merge theme `key` into `into`: its comments count for `into` from the next report on."""
    key = check_key(key)

    def change(entries: dict[str, Any]) -> dict[str, Any]:
        if key not in STARTER_KEYS and key not in entries:
            raise _unknown(key)
        return {**entries, key: {**entries.get(key, {}), "merged_into": into}}
    _apply(storage, actor, site_id, change, "theme.merge", key, {"into": into}, now, "into")


def unmerge_theme(storage: Storage, actor: str, site_id: int, key: str, now: float) -> None:
    """Take theme `key` out of the theme it was merged into; what else the site set for it stays."""
    key = check_key(key)

    def change(entries: dict[str, Any]) -> dict[str, Any]:
        if key not in STARTER_KEYS and key not in entries:
            raise _unknown(key)
        if "merged_into" not in entries.get(key, {}):
            raise ThemeEditError(409, "key", f"Theme {key} is not merged into another.",
                                 "Not merged into another theme.")
        rest = {k: v for k, v in entries[key].items() if k != "merged_into"}
        return {**{k: v for k, v in entries.items() if k != key}, **({key: rest} if rest else {})}
    _apply(storage, actor, site_id, change, "theme.unmerge", key, {}, now, "key", status=409)


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

"""Allowed origins: which web pages may open a site's widget socket.

A site lists the origins of the pages that embed its widget. An entry is an exact origin
(`https://shop.example`, `http://localhost:8000`), every subdomain of one (`https://*.shop.example`,
which does not match the bare `https://shop.example`), or `*` for any page (but never the opaque origin `null`). Browsers send the
page's origin with the websocket upgrade and a page cannot forge it, so this stops another site's
pages from using a site's public key; it cannot stop a non-browser client, which may send any
origin or none (identity verification is the protection there).
"""
from __future__ import annotations

import re
from typing import Iterable

ANY = "*"
MAX_ENTRIES = 100
MAX_LENGTH = 253 + 16
# scheme://host[:port] with nothing after it: no path, no query, no user info.
_ORIGIN = re.compile(r"^(https?)://(\*\.)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
                     r"|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$")


def normalize(origin: str) -> str:
    """Origins compare case-insensitively on scheme and host; a default port is the same origin."""
    origin = origin.strip().lower().rstrip("/")
    for scheme, port in (("http://", ":80"), ("https://", ":443")):
        if origin.startswith(scheme) and origin.endswith(port):
            return origin[: -len(port)]
    return origin


def entry_problem(entry: object) -> str | None:
    """Why `entry` is not a valid allowed-origin entry; None when it is."""
    if not isinstance(entry, str):
        return "Each origin is a string."
    if entry == ANY:
        return None
    if len(entry) > MAX_LENGTH:
        return f"An origin is at most {MAX_LENGTH} characters."
    match = _ORIGIN.match(normalize(entry))
    if match is None:
        return (f"'{entry[:80]}' is not an origin: write scheme://host[:port] with nothing after it, "
                "e.g. https://shop.example or https://*.shop.example.")
    port = match.group(4)
    if port is not None and not 0 < int(port) < 65536:
        return f"'{entry[:80]}' has a port outside 1-65535."
    return None


def list_problem(entries: object) -> str | None:
    """Why `entries` is not a valid list of allowed origins; None when it is."""
    if not isinstance(entries, list):
        return "A list of origins."
    if len(entries) > MAX_ENTRIES:
        return f"At most {MAX_ENTRIES} origins."
    for entry in entries:
        problem = entry_problem(entry)
        if problem:
            return problem
    return None


def clean(entries: Iterable[str]) -> list[str]:
    """The normalized entries, each once, in the order given."""
    seen: dict[str, None] = {}
    for entry in entries:
        seen.setdefault(entry if entry == ANY else normalize(entry), None)
    return list(seen)


def allowed(origin: str | None, entries: Iterable[str]) -> bool:
    """Whether a page of `origin` may use the site. A request without an Origin is not a
    browser page's (browsers always send it on a websocket upgrade) and is let through."""
    if origin is None:
        return True
    origin = normalize(origin)
    if origin == "null":  # sandboxed frames, file:// pages, redirects across origins: no page to trust
        return False
    for entry in entries:
        if entry == ANY:
            return True
        entry = normalize(entry)
        if "://*." in entry:
            scheme, rest = entry.split("://*.", 1)
            if origin.startswith(scheme + "://") and origin.endswith("." + rest):
                return True
        elif origin == entry:
            return True
    return False

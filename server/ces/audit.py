"""The audit log: who changed what, when, through the admin API or the CLI.

One call for every adapter:

    audit.record(storage_or_db, actor, "survey.update", "survey:3", {"fields": ["status"]})

`storage_or_db` is the Storage (the entry is written in its own transaction, right after the
change) or the Database of a transaction in progress (the entry commits with the change, as
erasures do). `actor` is a dict: {"kind": "token"|"cli"|"site", "id": …, "name": …}; build it with
`token_actor()`, `cli_actor()` or, inside a request, `http_actor()`. Details say what changed
(field names, ids), never a person's data: an erasure names the SHA-256 of the user id.
"""
from __future__ import annotations

import getpass
import os
import time
from typing import Any, Mapping

from sqlite_utils import Database

from .storage import Storage
from .storage import audit as audit_sql

Actor = dict[str, Any]


def token_actor(admin: Mapping[str, Any]) -> Actor:
    """An admin token's row (as `current_admin()` returns it)."""
    return {"kind": "token", "id": admin.get("id"), "name": admin.get("name")}


def site_actor(site: Mapping[str, Any]) -> Actor:
    """A site's backend, calling with its secret key."""
    return {"kind": "site", "id": site.get("id"), "name": site.get("name")}


def cli_actor() -> Actor:
    """Whoever runs the `ces` command: the operating-system user (CES_AUDIT_ACTOR overrides it)."""
    name = os.environ.get("CES_AUDIT_ACTOR")
    if not name:
        try:
            name = getpass.getuser()
        except Exception:  # no passwd entry (containers)
            name = str(os.getuid())
    return {"kind": "cli", "id": None, "name": name}


def http_actor() -> Actor:
    """The caller of the current request: its admin token, else its site's secret key."""
    from .api import auth  # Flask only here: the CLI imports this module too
    from .api.errors import ApiError
    try:
        return token_actor(auth.current_admin())
    except ApiError:
        return site_actor(auth.current_site())


def record(where: Storage | Database, actor: Actor, action: str, target: str | None = None,
           detail: Any = None, now: float | None = None) -> int:
    """Append one entry; its id."""
    now = time.time() if now is None else now
    if isinstance(where, Storage):
        with where.write() as db:
            return audit_sql.insert(db, now, actor, action, target, detail)
    return audit_sql.insert(where, now, actor, action, target, detail)

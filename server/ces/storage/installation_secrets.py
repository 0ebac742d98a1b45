"""SQL of the installation's own secrets (the dashboard's session key): made once, then kept."""
from __future__ import annotations

import secrets

from . import Storage


def installation_secret(storage: Storage, name: str, now: float, nbytes: int = 32) -> str:
    """The secret `name` of this installation, created on first use. Two processes starting
    together on a new database agree: the first insert wins, the other reads it back."""
    with storage.write() as db:
        db.execute("insert into installation_secrets (name, value, created_at) values (?, ?, ?) "
                   "on conflict (name) do nothing", [name, secrets.token_hex(nbytes), now])
    row = storage.one("select value from installation_secrets where name = ?", [name])
    return row["value"]  # type: ignore[index]

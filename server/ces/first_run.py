"""What `ces serve` and `ces demo` print about the dashboard: where it is and how to log in.

On `ces demo`'s first run the demo also gets five weeks of history (demo_seed.py) and an admin
token to log in with, printed once (it is stored hashed, like every token).
"""
from __future__ import annotations

import time
from typing import Any

from . import audit
from .storage import Storage
from .storage.tokens import TokenStore


def dashboard_lines(storage: Storage, base: str, db: str, demo: bool, new_site: dict[str, Any] | None) -> list[str]:
    """The lines to print (and, on the demo's first run, its history and login made)."""
    url = f"{base}/dashboard/"
    if new_site is not None and demo:
        from .demo_seed import seed_demo_history
        answers = seed_demo_history(storage, new_site, time.time())
        row, token = TokenStore(storage).create("ces demo", time.time())
        audit.record(storage, audit.cli_actor(), "token.create", f"token:{row['id']}",
                     {"name": row["name"], "site_id": None, "read_only": False, "by": "ces demo"})
        return [f"Added five weeks of demo history ({answers} answers) so the dashboard has something to show.",
                f"Dashboard: {url}",
                f"  log in with this admin token (shown only now): {token}"]
    if new_site is not None:
        return [f"Dashboard: {url}",
                f"  log in with an admin token (`ces token create NAME --db {db}`) or as a user "
                f"(`ces user create EMAIL --db {db}`)"]
    return [f"Dashboard: {url}   (log in with an admin token or a user: docs/dashboard.md)"]

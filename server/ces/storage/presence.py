"""Which server processes are alive and how many widgets each holds: one row per process,
refreshed at every sweep, so the count of connected widgets is known across processes and
machines (also while Redis is down) without asking any of them."""
from __future__ import annotations

import json
from typing import Any

from . import Storage


def heartbeat(storage: Storage, process_id: str, host: str, pid: int, sockets: int, now: float,
              by_site: dict[int, int] | None = None) -> None:
    """This process's row: its sockets in all, and per site ({site id: widgets})."""
    sites = json.dumps({str(k): v for k, v in sorted((by_site or {}).items())})
    with storage.write(durable=False) as db:  # a count refreshed every few seconds: no fsync
        db.execute("insert into server_processes (id, host, pid, sockets, started_at, seen_at, site_sockets) "
                   "values (?,?,?,?,?,?,?) on conflict (id) do update set sockets = excluded.sockets, "
                   "seen_at = excluded.seen_at, site_sockets = excluded.site_sockets",
                   [process_id, host, pid, sockets, now, now, sites])


def forget(storage: Storage, process_id: str, stale_before: float | None = None) -> None:
    """Remove this process's row (a clean stop), and the rows of processes not seen since `stale_before`."""
    with storage.write(durable=False) as db:
        db.execute("delete from server_processes where id = ?", [process_id])
        if stale_before is not None:
            db.execute("delete from server_processes where seen_at < ?", [stale_before])


def connected(storage: Storage, seen_after: float) -> list[dict[str, Any]]:
    """The processes seen since `seen_after`: id, host, pid, sockets, seen_at, and `by_site`
    ({site id: widgets}; empty for a row written before the per-site counts existed)."""
    rows = storage.all("select id, host, pid, sockets, seen_at, site_sockets from server_processes "
                       "where seen_at > ? order by id", [seen_after])
    for row in rows:
        raw = row.pop("site_sockets")
        row["by_site"] = {int(k): int(v) for k, v in (json.loads(raw) if isinstance(raw, str) and raw else {}).items()}
    return rows

"""Which server processes are alive and how many widgets each holds: one row per process,
refreshed at every sweep, so the count of connected widgets is known across processes and
machines (also while Redis is down) without asking any of them."""
from __future__ import annotations

from . import Storage


def heartbeat(storage: Storage, process_id: str, host: str, pid: int, sockets: int, now: float) -> None:
    with storage.write(durable=False) as db:  # a count refreshed every few seconds: no fsync
        db.execute("insert into server_processes (id, host, pid, sockets, started_at, seen_at) values (?,?,?,?,?,?) "
                   "on conflict (id) do update set sockets = excluded.sockets, seen_at = excluded.seen_at",
                   [process_id, host, pid, sockets, now, now])


def forget(storage: Storage, process_id: str, stale_before: float | None = None) -> None:
    """Remove this process's row (a clean stop), and the rows of processes not seen since `stale_before`."""
    with storage.write(durable=False) as db:
        db.execute("delete from server_processes where id = ?", [process_id])
        if stale_before is not None:
            db.execute("delete from server_processes where seen_at < ?", [stale_before])


def connected(storage: Storage, seen_after: float) -> list[dict]:
    """The processes seen since `seen_after`: id, host, pid, sockets, seen_at."""
    return storage.all("select id, host, pid, sockets, seen_at from server_processes where seen_at > ? order by id",
                       [seen_after])

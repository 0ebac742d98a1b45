"""SQL of the audit log: one row per change made through the admin API or the CLI."""
from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from ..core.compact_json import compact_json
from . import Storage

COLUMNS = ("id", "created_at", "actor_kind", "actor_id", "actor_name", "action", "target", "detail")


def insert(db: Database, now: float, actor: dict[str, Any], action: str, target: str | None,
           detail: Any) -> int:
    """Inside the caller's transaction."""
    return db.conn.execute(
        "insert into audit_log (created_at, actor_kind, actor_id, actor_name, action, target, detail) "
        "values (?, ?, ?, ?, ?, ?, ?)",
        [now, actor.get("kind") or "unknown", None if actor.get("id") is None else str(actor["id"]),
         actor.get("name"), action, target, None if detail is None else compact_json(detail)]).lastrowid


def entries(storage: Storage, filters: dict[str, Any], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Newest first. `filters`: action (exact, or a prefix ending in '.'), target, actor_kind, since, until."""
    clauses, params = [], []
    for key, value in filters.items():
        if value is None:
            continue
        if key == "action" and value.endswith("."):
            clauses.append("substr(action, 1, ?) = ?")
            params += [len(value), value]
        elif key in ("action", "target", "actor_kind"):
            clauses.append(f"{key} = ?")
            params.append(value)
        elif key == "since":
            clauses.append("created_at >= ?")
            params.append(value)
        elif key == "until":
            clauses.append("created_at < ?")
            params.append(value)
    where = ("where " + " and ".join(clauses)) if clauses else ""
    conn = storage.db.conn
    total = conn.execute(f"select count(*) from audit_log {where}", params).fetchone()[0]
    rows = conn.execute(f"select {', '.join(COLUMNS)} from audit_log {where} order by id desc limit ? offset ?",
                        params + [limit, offset]).fetchall()
    return [dict(zip(COLUMNS, r)) for r in rows], total

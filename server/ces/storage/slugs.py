"""Is a survey's or a trigger's slug already taken on its site?"""
from __future__ import annotations

from typing import Any

TABLES = ("surveys", "triggers")


def slug_taken(storage: Any, table: str, site_id: int, slug: str, row_id: int | None = None) -> bool:
    """True when another row of `table` on the site has `slug` (`row_id`: the row being changed)."""
    assert table in TABLES
    # No `? is null` test of the row id: PostgreSQL cannot type a parameter that is only compared with null.
    other = "" if row_id is None else " and id <> ?"
    params = [site_id, slug] + ([] if row_id is None else [row_id])
    return storage.one(f"select id from {table} where site_id = ? and slug = ?{other}", params) is not None

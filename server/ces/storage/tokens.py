"""SQL of admin tokens with their scope: one site or every site, read-only or read-write."""
from __future__ import annotations

from typing import Any

from . import Storage, new_key

COLUMNS = "id, name, site_id, read_only, created_at, revoked_at"


class TokenStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def create(self, name: str, now: float, site_id: int | None = None,
               read_only: bool = False) -> tuple[dict[str, Any], str]:
        """A new token: (its row, the token itself, shown once and never stored)."""
        token = new_key("ces_admin", 24)
        with self.storage.write() as db:
            row_id = db.execute(
                "insert into admin_tokens (name, token_hash, created_at, site_id, read_only) values (?, ?, ?, ?, ?)",
                [name, Storage.token_digest(token), now, site_id, int(read_only)]).lastrowid
        return self.storage.one(f"select {COLUMNS} from admin_tokens where id = ?", [row_id]), token  # type: ignore[return-value]

    def by_token(self, token: str) -> dict[str, Any] | None:
        """The active token's row (with its scope), None for an unknown or revoked one."""
        return self.storage.one(f"select {COLUMNS} from admin_tokens where token_hash = ? and revoked_at is null",
                                [Storage.token_digest(token)])

    def list(self) -> list[dict[str, Any]]:
        return self.storage.all(
            "select t.id, t.name, t.site_id, t.read_only, t.created_at, t.revoked_at, s.site_key "
            "from admin_tokens t left join sites s on s.id = t.site_id order by t.id")

"""SQL of dashboard users (email + password hash, scoped to every site or one site)."""
from __future__ import annotations

from typing import Any

from . import Storage

COLUMNS = "id, email, site_id, read_only, created_at, disabled_at"


class DashboardUserStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def create(self, email: str, password_hash: str, now: float, site_id: int | None = None,
               read_only: bool = False) -> dict[str, Any] | None:
        """The new user's row; None when the email is taken (nothing changed)."""
        with self.storage.write() as db:
            row = db.execute(
                "insert into dashboard_users (email, password_hash, site_id, read_only, created_at) "
                "values (?, ?, ?, ?, ?) on conflict (email) do nothing returning id",
                [email, password_hash, site_id, int(read_only), now]).fetchone()
        return None if row is None else self.get(row[0])

    def get(self, user_id: int) -> dict[str, Any] | None:
        return self.storage.one(f"select {COLUMNS} from dashboard_users where id = ?", [user_id])

    def active(self, user_id: int) -> dict[str, Any] | None:
        return self.storage.one(f"select {COLUMNS} from dashboard_users where id = ? and disabled_at is null",
                                [user_id])

    def credentials(self, email: str) -> dict[str, Any] | None:
        """The active user with this email, with its password hash (for checking a login only)."""
        return self.storage.one(f"select {COLUMNS}, password_hash from dashboard_users "
                                "where email = ? and disabled_at is null", [email])

    def set_password(self, user_id: int, password_hash: str) -> bool:
        with self.storage.write() as db:
            return db.execute("update dashboard_users set password_hash = ? where id = ?",
                              [password_hash, user_id]).rowcount == 1

    def list(self) -> list[dict[str, Any]]:
        return self.storage.all(f"select {COLUMNS} from dashboard_users order by id")

    def disable(self, user_id: int, now: float) -> bool:
        with self.storage.write() as db:
            return db.execute("update dashboard_users set disabled_at = ? where id = ? and disabled_at is null",
                              [now, user_id]).rowcount == 1


def active_admin_token(storage: Storage, token_id: int) -> dict[str, Any] | None:
    """The admin token `token_id` with its scope while it is not revoked (a dashboard session
    made with a token ends when the token is revoked)."""
    return storage.one("select id, name, site_id, read_only from admin_tokens where id = ? and revoked_at is null",
                       [token_id])

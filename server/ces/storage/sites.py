"""SQL of sites as the admin API and `ces site` manage them: read, change, rotate the secret key."""
from __future__ import annotations

from typing import Any, Iterable

from ..core.compact_json import compact_json
from . import Storage, new_key

# Every column a caller may read; the secret keys are left to the callers that need them.
PUBLIC_COLUMNS = ("id, name, site_key, identity_verification, settings, allowed_origins, time_zone, created_at, "
                  "previous_secret_expires_at")
CHANGEABLE = ("name", "identity_verification", "allowed_origins", "time_zone")


class SiteStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def create(self, name: str, now: float, identity_verification: bool, allowed_origins: Iterable[str],
               time_zone: str, site_key: str | None = None) -> dict[str, Any]:
        site = self.storage.create_site(name, now, site_key=site_key, identity_verification=identity_verification,
                                        allowed_origins=allowed_origins)
        if time_zone != "UTC":
            self.update(site["id"], {"time_zone": time_zone})
        return self.get(site["id"])  # type: ignore[return-value]

    def get(self, site_id: int) -> dict[str, Any] | None:
        return self.storage.one("select * from sites where id = ?", [site_id])

    def by_key(self, site_key: str) -> dict[str, Any] | None:
        return self.storage.one("select * from sites where site_key = ?", [site_key])

    def list(self, site_id: int | None = None) -> list[dict[str, Any]]:
        """Every site by id, or only `site_id` (a token scoped to one site sees only it)."""
        if site_id is None:
            return self.storage.all(f"select {PUBLIC_COLUMNS} from sites order by id")
        return self.storage.all(f"select {PUBLIC_COLUMNS} from sites where id = ? order by id", [site_id])

    def update(self, site_id: int, values: dict[str, Any]) -> dict[str, Any] | None:
        assert set(values) <= set(CHANGEABLE), values
        if values:
            encoded = {k: (compact_json(list(v)) if k == "allowed_origins" else
                           int(v) if k == "identity_verification" else v) for k, v in values.items()}
            sets = ", ".join(f"{k} = ?" for k in encoded)
            with self.storage.write() as db:
                db.execute(f"update sites set {sets} where id = ?", [*encoded.values(), site_id])
        return self.get(site_id)

    def by_secret(self, secret_key: str, now: float) -> dict[str, Any] | None:
        """The site whose secret key this is: the current one, or the one it replaced while that
        is inside its grace period."""
        site = self.storage.one("select * from sites where secret_key = ?", [secret_key])
        if site is None:
            site = self.storage.one("select * from sites where previous_secret_key = ? "
                                    "and previous_secret_expires_at > ?", [secret_key, now])
        return site

    def rotate_secret(self, site_id: int, now: float, grace_seconds: float) -> dict[str, Any]:
        """A new secret key; the current one keeps working for `grace_seconds` (0: stops now).

        A rotation during another's grace period ends the older secret's grace: two secrets at most.
        """
        secret = new_key("sk", 24)
        with self.storage.write() as db:
            db.execute("update sites set previous_secret_key = secret_key, previous_secret_expires_at = ?, "
                       "secret_key = ? where id = ?", [now + grace_seconds if grace_seconds > 0 else now,
                                                       secret, site_id])
        return self.get(site_id)  # type: ignore[return-value]

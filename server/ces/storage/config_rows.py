"""SQL of `ces config import`: every change of one import in one transaction (all or nothing)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from ..core.compact_json import compact_json
from . import Storage, encode, new_key

SURVEY_COLUMNS = ("name", "metric", "default_locale", "texts", "followup_max_score", "appearance", "quota", "status")
TRIGGER_COLUMNS = ("name", "event_name", "conditions", "source", "sample_rate", "delay_seconds", "ttl_seconds",
                   "transaction_key", "priority", "status", "occurrences", "cancel_events", "cancel_same_transaction")


@dataclass
class SiteWrites:
    """What one import writes for one site; rows are keyed by slug (webhooks by url)."""

    site_key: str
    site_id: int | None                                  # None: the site is created
    site: dict[str, Any] | None = None                   # name, identity_verification, allowed_origins, time_zone
    fatigue: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)              # other sections: retention, limits
    surveys: dict[str, dict[str, Any]] = field(default_factory=dict)    # slug -> stored values
    triggers: dict[str, dict[str, Any]] = field(default_factory=dict)   # slug -> values, `survey` slugs
    pause_surveys: list[str] = field(default_factory=list)
    pause_triggers: list[str] = field(default_factory=list)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)   # url -> values


class ConfigRows:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def apply(self, writes: list[SiteWrites], now: float, webhook_secret: Callable[[], str]) -> list[str]:
        """Write everything, in one transaction; lines naming the secrets of what was created."""
        created: list[str] = []
        with self.storage.write() as db:
            conn = db.conn
            for w in writes:
                site_id = w.site_id
                if site_id is None:
                    secret = new_key("sk", 24)
                    site_id = conn.execute(
                        "insert into sites (name, site_key, secret_key, identity_verification, settings, created_at, "
                        "allowed_origins, time_zone) values (?, ?, ?, ?, '{}', ?, ?, ?)",
                        [w.site["name"], w.site_key, secret, int(w.site["identity_verification"]), now,  # type: ignore[index]
                         compact_json(w.site["allowed_origins"]), w.site["time_zone"]]).lastrowid  # type: ignore[index]
                    created.append(f"site {w.site_key}: secret key {secret}")
                elif w.site is not None:
                    conn.execute("update sites set name = ?, identity_verification = ?, allowed_origins = ?, "
                                 "time_zone = ? where id = ?",
                                 [w.site["name"], int(w.site["identity_verification"]),
                                  compact_json(w.site["allowed_origins"]), w.site["time_zone"], site_id])
                sections = {**w.settings, **({"fatigue": w.fatigue} if w.fatigue is not None else {})}
                if sections:
                    raw = conn.execute("select settings from sites where id = ?", [site_id]).fetchone()[0]
                    settings = {**json.loads(raw or "{}"), **sections}
                    conn.execute("update sites set settings = ? where id = ?", [json.dumps(settings), site_id])
                self._surveys(conn, site_id, w, now)  # type: ignore[arg-type]
                self._triggers(conn, site_id, w, now)  # type: ignore[arg-type]
                for url, values in w.webhooks.items():
                    hook = conn.execute("select id from webhooks where site_id = ? and url = ? order by id limit 1",
                                        [site_id, url]).fetchone()
                    events = json.dumps(values["events"])
                    if hook:
                        conn.execute("update webhooks set events = ?, high_effort_max = ?, description = ? "
                                     "where id = ?", [events, values["high_effort_max"], values["description"], hook[0]])
                    else:
                        secret = webhook_secret()
                        conn.execute("insert into webhooks (site_id, url, secret, events, high_effort_max, description, "
                                     "created_at) values (?, ?, ?, ?, ?, ?, ?)",
                                     [site_id, url, secret, events, values["high_effort_max"], values["description"], now])
                        created.append(f"webhook {url} of site {w.site_key}: signing secret {secret}")
        return created

    @staticmethod
    def _surveys(conn: Any, site_id: int, w: SiteWrites, now: float) -> None:
        for slug, values in w.surveys.items():
            row = encode({k: values[k] for k in SURVEY_COLUMNS})
            found = conn.execute("select id from surveys where site_id = ? and slug = ?", [site_id, slug]).fetchone()
            if found:
                sets = ", ".join(f"{k} = ?" for k in row)
                conn.execute(f"update surveys set {sets}, updated_at = ? where id = ?", [*row.values(), now, found[0]])
            else:
                conn.execute(f"insert into surveys (site_id, slug, {', '.join(row)}, created_at, updated_at) "
                             f"values (?, ?, {', '.join('?' * len(row))}, ?, ?)", [site_id, slug, *row.values(), now, now])
        for slug in w.pause_surveys:
            conn.execute("update surveys set status = 'paused', updated_at = ? where site_id = ? and slug = ?",
                         [now, site_id, slug])

    @staticmethod
    def _triggers(conn: Any, site_id: int, w: SiteWrites, now: float) -> None:
        ids = dict(conn.execute("select slug, id from surveys where site_id = ?", [site_id]).fetchall())
        for slug, values in w.triggers.items():
            row = encode({k: values[k] for k in TRIGGER_COLUMNS})
            row["survey_id"] = ids[values["survey"]]
            row["variants"] = compact_json([{"survey_id": ids[v["survey"]], "weight": v["weight"],
                                             **({"label": v["label"]} if "label" in v else {})}
                                            for v in values["variants"]])
            found = conn.execute("select id from triggers where site_id = ? and slug = ?", [site_id, slug]).fetchone()
            if found:
                sets = ", ".join(f"{k} = ?" for k in row)
                conn.execute(f"update triggers set {sets}, updated_at = ? where id = ?", [*row.values(), now, found[0]])
            else:
                conn.execute(f"insert into triggers (site_id, slug, {', '.join(row)}, created_at, updated_at) "
                             f"values (?, ?, {', '.join('?' * len(row))}, ?, ?)", [site_id, slug, *row.values(), now, now])
        for slug in w.pause_triggers:
            conn.execute("update triggers set status = 'paused', updated_at = ? where site_id = ? and slug = ?",
                         [now, site_id, slug])

    # -- reading, for export and planning --------------------------------------------------------
    def sites(self, site_key: str | None = None) -> list[dict[str, Any]]:
        if site_key is None:
            return self.storage.all("select * from sites order by id")
        return self.storage.all("select * from sites where site_key = ?", [site_key])

    def rows(self, table: str, site_id: int) -> list[dict[str, Any]]:
        assert table in ("surveys", "triggers")
        return self.storage.all(f"select * from {table} where site_id = ? order by id", [site_id])

    def webhooks(self, site_id: int) -> list[dict[str, Any]]:
        rows = self.storage.all("select url, events, high_effort_max, description from webhooks where site_id = ? "
                                "order by id", [site_id])
        for row in rows:
            row["events"] = json.loads(row["events"])
        return rows

"""Seeded answers for the insights tests: event, prompt and answer rows written through the
server's own Storage (as tests/live/test_reports.py does), then read back through the API."""
from __future__ import annotations

import itertools
import json
from typing import Any

from ces.storage.reports import Reports
from ces.testing import LiveServer

DAY = 86400
_ids = itertools.count(1)


def seed(server: LiveServer, rows: list[dict[str, Any]], survey_id: int | None = None) -> None:
    """Each row: user, score, t (epoch seconds), and optionally event, props, locale, comment."""
    storage = server.services.storage
    survey_id = survey_id or server.survey_id
    triggers = {t["event_name"]: t["id"] for t in storage.all("select id, event_name from triggers")}
    with storage.write() as db:
        for r in rows:
            i = next(_ids)
            t = r["t"]
            name = r.get("event", "checkout_completed")
            trigger_id = triggers.get(name)
            pid = f"p_ins{survey_id}_{i}"
            eid = db.execute(
                "insert into events (site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
                "decision, reason, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,?,?,?,?) returning id",
                [server.site["id"], f"ins{i}", r["user"], name, json.dumps(r.get("props", {})), t, t, "backend",
                 "prompt", "prompted", trigger_id, pid]).fetchone()[0]
            db.execute(
                "insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, "
                "created_at, deliver_after, expires_at, delivered_at, shown_at, closed_at) "
                "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [pid, server.site["id"], r["user"], survey_id, trigger_id, eid, "answered", r.get("locale", "en"),
                 t, t, t + 7 * DAY, t + 1, t + 2, t + 10])
            db.execute("insert into answers (prompt_id, site_id, survey_id, user_id, score, comment, created_at) "
                       "values (?,?,?,?,?,?,?)", [pid, server.site["id"], survey_id, r["user"], r["score"],
                                                  r.get("comment"), t + 10])
    Reports(storage).rebuild_funnel_rollup()  # prompts were inserted already closed


def add_event(server: LiveServer, user: str, name: str, t: float) -> None:
    """An event that asked nothing (e.g. a repeat purchase)."""
    storage = server.services.storage
    with storage.write() as db:
        db.execute("insert into events (site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
                   "decision, reason) values (?,?,?,?,?,?,?,?,?,?)",
                   [server.site["id"], f"x{next(_ids)}", user, name, "{}", t, t, "backend", "skip", "no_trigger"])

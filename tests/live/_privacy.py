"""Helpers of the privacy tests (erasure, export, retention, opt-out, backups): seeding a user's rows
in every state, reading every table, and reports computed again from scratch."""
from __future__ import annotations

import itertools
import json
from typing import Any

from ces.storage.erasure import rebuild_rollups
from ces.testing import LiveServer

DAY = 86400
_ids = itertools.count(1)
ALL_STATUSES = ("issued", "delivered", "shown", "answered", "dismissed", "expired")
ROLLUPS = ("report_answers_daily", "report_props_daily", "report_funnel_daily", "report_events_daily")


def seed_rows(server: LiveServer, user: str, t0: float, statuses: tuple[str, ...] = ALL_STATUSES,
              score: int = 3, comment: str | None = None, props: dict | None = None) -> list[str]:
    """One event and one prompt per status (answered ones with an answer) for `user`, a day apart
    from `t0`; written like the product writes them. The prompts' ids."""
    storage = server.services.storage
    triggers = [t["id"] for t in storage.all("select id from triggers order by id")]
    pids = []
    with storage.write() as db:
        for k, status in enumerate(statuses):
            i = next(_ids)
            t = t0 + k * DAY
            trigger_id = triggers[i % len(triggers)]
            pid = f"p_seed{i:06d}"
            event_props = {"channel": ["chat", "phone", "web"][i % 3], "wait_minutes": i % 40, **(props or {})}
            eid = db.execute(
                "insert into events (site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
                "decision, reason, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,?,?,?,?)",
                [server.site["id"], f"seed-{i}", user, "checkout_completed", json.dumps(event_props), t, t,
                 "backend", "prompt", "prompted", trigger_id, pid]).lastrowid
            open_ = status in ("issued", "delivered", "shown")
            shown = t + 5 if status in ("answered", "dismissed", "shown") else None
            db.execute(
                "insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, "
                "created_at, deliver_after, expires_at, delivered_at, shown_at, closed_at, variant) "
                "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [pid, server.site["id"], user, server.survey_id, trigger_id, eid, status, ["en", "fr"][i % 2],
                 t, t, server.clock() + 30 * DAY if open_ else t + 7 * DAY,
                 t + 1 if status != "issued" else None, shown,
                 t + 10 if status in ("answered", "dismissed") else (t + 7 * DAY if status == "expired" else None),
                 ["a", "b", None][i % 3]])
            if status == "answered":
                db.execute("insert into answers (prompt_id, site_id, survey_id, user_id, score, comment, created_at) "
                           "values (?,?,?,?,?,?,?)", [pid, server.site["id"], server.survey_id, user, score,
                                                      comment, t + 10])
            pids.append(pid)
    # Seeded prompts are inserted already closed: the funnel rollup is rebuilt, as the product's
    # own seeds do (Reports.rebuild_funnel_rollup), from the base tables.
    from ces.storage.reports import Reports
    Reports(storage).rebuild_funnel_rollup()
    return pids


def tables(db_path: str) -> dict[str, list[tuple]]:
    """Every row of every table (the engine's own and temp ones aside), sorted, by table."""
    from ces.storage import Storage
    from ces.testing import release
    storage = Storage(db_path)
    try:
        return {n: sorted(storage.db.execute(f'select * from "{n}"').fetchall(), key=repr)
                for n in storage.table_names()}
    finally:
        release(storage)


def cells_containing(db_path: str, needles: list[str]) -> list[tuple[str, tuple]]:
    """(table, row) of every row, in every table, with a cell containing one of `needles`."""
    found = []
    for name, rows in tables(db_path).items():
        for row in rows:
            if any(isinstance(c, str) and any(n in c for n in needles) for c in row):
                found.append((name, row))
    return found


REPORT_QUERIES = ("", "?interval=day", "?driver=channel", "?driver=wait_minutes&interval=month", "?locale=fr",
                  "?variant=a")


def reports(server: LiveServer, queries: tuple[str, ...] = REPORT_QUERIES) -> dict[str, Any]:
    out = {}
    for q in queries:
        status, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/report{q}")
        assert status == 200, body
        out[q] = body
    return out


def reports_from_scratch(server: LiveServer, queries: tuple[str, ...] = REPORT_QUERIES) -> dict[str, Any]:
    """The same reports after every rollup was thrown away and rebuilt from the base tables."""
    rebuild_rollups(server.services.storage)
    return reports(server, queries)


def rollup_rows(db_path: str) -> dict[str, list[tuple]]:
    every = tables(db_path)
    return {t: every[t] for t in ROLLUPS}

"""A few weeks of answers for the results page's tests: events, prompts and answers written
through the Storage into the real SQLite file (as tests/live/test_reports.py does), then the
funnel rollup rebuilt, since these prompts are inserted already closed."""
from __future__ import annotations

import json
import random
from typing import Any

from ces.storage.reports import Reports

DAY = 86400
XSS = ["<script>alert(1)</script>", '<img src=x onerror="document.body.dataset.pwned=1">']


def seed_weeks(server: Any, weeks: int = 6, per_day: int = 7, seed: int = 7) -> dict[str, Any]:
    """`weeks` of answers ending today on the default survey, two triggers, properties
    channel/transfers/wait_minutes, some comments (two of them hostile HTML), some dismissed,
    expired and still-open prompts. Returns what was written, for the tests to check against."""
    storage = server.services.storage
    rng = random.Random(seed)
    triggers = {t["event_name"]: t["id"] for t in storage.all("select id, event_name from triggers")}
    now = server.clock()
    start = (int(now // DAY) - weeks * 7 + 1) * DAY
    written = {"answers": 0, "comments": [], "users": []}
    i = 0
    with storage.write() as db:
        for day in range(weeks * 7):
            for k in range(per_day):
                i += 1
                t = start + day * DAY + 3600 + k * 600
                if t > now - 60:
                    continue
                event = "checkout_completed" if k % 3 else "ticket_closed"
                transfers = rng.choice([0, 0, 1, 2, 3]) if event == "ticket_closed" else 0
                channel = rng.choice(["chat", "email", "phone"])
                props = {"channel": channel, "transfers": transfers, "wait_minutes": rng.randrange(0, 30)}
                user = f"cust-{i:04d}"
                pid = f"p_res{i}"
                # The first week is quieter: its score is a low-sample one (under 30 answers).
                status = "answered" if k < (2 if day < 7 else 5) else ("dismissed", "expired")[k % 2]
                eid = db.execute(
                    "insert into events (site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
                    "decision, reason, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,?,?,?,?) returning id",
                    [server.site["id"], f"ev{i}", user, event, json.dumps(props), t, t, "backend", "prompt", "prompted",
                     triggers[event], pid]).fetchone()[0]
                shown = t + 5 if status in ("answered", "dismissed") else None
                db.execute(
                    "insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, "
                    "created_at, deliver_after, expires_at, delivered_at, shown_at, closed_at, variant) "
                    "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [pid, server.site["id"], user, server.survey_id, triggers[event], eid, status,
                     "fr" if k == 1 else "en", t, t, t + 7 * DAY, t + 1, shown, t + 10, None])
                if status != "answered":
                    continue
                ease = 6.2 - 1.2 * transfers - (0.8 if channel == "phone" else 0) + rng.gauss(0, 1)
                score = max(1, min(7, round(ease)))
                comment = None
                if i % 5 == 0:
                    comment = rng.choice(["Waited too long on the phone", "Quick and easy", "Had to repeat myself",
                                          "Great help from the agent", "Checkout was smooth"])
                if written["answers"] in (10, 40):  # two hostile comments, on high-effort answers
                    comment = XSS[0 if written["answers"] == 10 else 1]
                    score = 2
                db.execute("insert into answers (prompt_id, site_id, survey_id, user_id, score, comment, created_at) "
                           "values (?,?,?,?,?,?,?)", [pid, server.site["id"], server.survey_id, user, score,
                                                      comment, t + 10])
                written["answers"] += 1
                written["users"].append(user)
                if comment:
                    written["comments"].append((score, comment))
    Reports(storage).rebuild_funnel_rollup()
    return written

"""SQL of the demo's seeded answers (demo_seed.py): an event, its prompt and its answer, inserted
already answered, as if the widget had asked long ago."""
from __future__ import annotations

import json
from typing import Any


def insert_answered(db: Any, site_id: int, survey_id: int, trigger_id: int, event_name: str, user_id: str,
                    score: int, comment: str | None, locale: str, at: float, key: str,
                    properties: dict[str, Any] | None = None) -> None:
    """Inside the caller's write transaction. `key` makes the event and prompt ids unique."""
    prompt_id = f"p_demo{key}"
    event_row = db.execute(
        "insert into events (site_id, event_id, user_id, name, properties, timestamp, received_at, source, decision, "
        "reason, trigger_id, prompt_id) values (?, ?, ?, ?, ?, ?, ?, 'backend', 'prompt', 'prompted', ?, ?) "
        "returning id", [site_id, f"demo-{key}", user_id, event_name, json.dumps(properties or {}), at, at,
                         trigger_id, prompt_id]).fetchone()[0]
    db.execute(
        "insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, created_at, "
        "deliver_after, expires_at, delivered_at, shown_at, closed_at) values (?, ?, ?, ?, ?, ?, 'answered', ?, ?, ?, "
        "?, ?, ?, ?)", [prompt_id, site_id, user_id, survey_id, trigger_id, event_row, locale, at, at, at + 7 * 86400,
                        at + 1, at + 2, at + 30])
    db.execute("insert into answers (prompt_id, site_id, survey_id, user_id, score, comment, created_at) "
               "values (?, ?, ?, ?, ?, ?, ?)", [prompt_id, site_id, survey_id, user_id, score, comment, at + 30])

"""Answers for the demo (`ces demo` on a new database): four weeks of follow-up comments in
English, French, Romanian, German and Spanish (ces/theme_samples.py), so the themes, the
customers who share a problem and theme.grown show something real.

Deterministic (a fixed seed). Most comments fall in a starter theme; some are about sizes and
quality, which no starter theme names: the themes found among the rest. Delivery complaints rise
in the last week, as a theme.grown check would notice. Every customer has an email and a name.
"""
from __future__ import annotations

import random
from typing import Any

from .core.operational import demo_support_properties
from .storage import Storage
from .storage.reports import Reports
from .storage.seed_rows import insert_answered
from .theme_samples import labelled, uncovered

DAY = 86400
FIRST_NAMES = ("Ana", "Marc", "Ioana", "Lena", "Lucía", "Tom", "Chloé", "Radu", "Jonas", "Sofía", "Emma", "Mihai")
LAST_NAMES = ("Pop", "Martin", "Ionescu", "Schmidt", "García", "Smith", "Dubois", "Stan", "Müller", "López")


def _measures(event_name: str, i: int, high: bool) -> dict[str, Any] | None:
    """A support ticket's operational measures under their conventional names (core/operational.py),
    with more transfers and longer waits behind high-effort answers, so the demo's drivers show them.
    Their own generator: the answers and comments above stay what they were."""
    if event_name != "ticket_closed":
        return None
    rng = random.Random(f"measures-{i}")
    props = demo_support_properties(rng)
    if high:
        props["transfers"] += rng.choice((0, 1, 2, 2))
        props["wait_seconds"] += rng.randrange(0, 600)
    return props


def seed_demo_answers(storage: Storage, site: dict[str, Any], now: float, weeks: int = 4) -> int:
    """Insert the demo's answers on the site's first survey; how many (0 if it has answers already)."""
    survey = storage.one("select id from surveys where site_id = ? order by id limit 1", [site["id"]])
    if survey is None or storage.one("select 1 as x from answers where survey_id = ?", [survey["id"]]):
        return 0
    triggers = storage.all("select id, event_name from triggers where site_id = ? order by id", [site["id"]])
    rng = random.Random(15)
    samples = labelled() + uncovered()
    rows = []
    for week in range(weeks):
        for theme, lang, text in samples:
            # Delivery grows in the last week; the other themes keep their pace.
            copies = 3 if theme == "delivery" and week == weeks - 1 else 1
            for _ in range(copies):
                if rng.random() < 0.6 or copies > 1:
                    rows.append((week, theme, lang, text))
    n = 0
    with storage.write() as db:
        for i, (week, theme, lang, text) in enumerate(rows):
            user = f"demo-{i:04d}"
            trigger = triggers[i % len(triggers)]
            high = rng.random() < (0.8 if theme in ("delivery", "transfers-repetition", "waiting") else 0.55)
            score = rng.randint(1, 3) if high else rng.randint(4, 7)
            at = now - (weeks - week) * 7 * DAY + rng.uniform(0, 7 * DAY - 3600)
            insert_answered(db, site["id"], survey["id"], trigger["id"], trigger["event_name"], user, score, text,
                            lang, at, f"{i:05d}", _measures(trigger["event_name"], i, high))
            name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i * 7) % len(LAST_NAMES)]}"
            storage.merge_traits(db, site["id"], user, {"email": f"{user}@example.com", "name": name}, at)
            n += 1
    Reports(storage).rebuild_funnel_rollup()  # prompts were inserted already answered
    return n

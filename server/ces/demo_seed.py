"""Five weeks of history for `ces demo`'s first run, so every dashboard page has something real.

The history goes through the product's own path, with the clock set back: each event is decided
by `ingest` (as POST /api/v1/events does), each prompt is shown, answered, commented or dismissed
by `answering` (as the widget's socket does). Reports, rollups, decision logs and drivers are
therefore what they would be had those customers really come by. Random but seeded: every demo
database tells the same story (effort falling week after week; invoices, phone support and
transfers costing effort; a few customers at risk).

The comments are in English, French, Romanian, German and Spanish (the customer's locale), taken
from the themes' labelled comments (theme_samples.py) by what went wrong — transfers, waits,
invoices, deliveries — so the themes (docs/insights.md) show something real; complaints about
deliveries grow in the last week (theme.grown's kind of news); a few are about sizes and quality,
which no starter theme names (the themes found among the rest). Every customer has an email and a
name (traits), for the list of customers who share a problem. These choices draw from their own
seeded generator, so the scores and events are the same as without them.
"""
from __future__ import annotations

import random
from typing import Any

from . import answering
from .ingest import ingest
from .services import Services
from .storage import Storage
from .theme_samples import EVERYDAY, LABELLED, UNCOVERED

DAY = 86400.0
ONBOARDING_TEXTS = {"en": {"question": "How easy was it to get started?", "low_label": "Very difficult",
                           "high_label": "Very easy", "followup": "What slowed you down?"}}
LOW_COMMENTS = [
    "Paying by invoice took three screens and a phone call.",
    "I was transferred twice before anyone could help.",
    "The delivery address form kept resetting.",
    "Waited 25 minutes on the phone.",
    "Couldn't find where to enter my discount code.",
    "Had to explain my problem again to each agent.",
]
HIGH_COMMENTS = [
    "Quick and painless, thanks!",
    "The chat agent fixed it in two minutes.",
    "Checkout was super smooth.",
    "Loved that I didn't have to create an account.",
    None, None,
]


LOCALES = ("en", "fr", "ro", "de", "es")
LOCALE_WEIGHTS = (4, 3, 3, 1, 1)
FIRST_NAMES = ("Ana", "Marc", "Ioana", "Lena", "Lucía", "Tom", "Chloé", "Radu", "Jonas", "Sofía", "Emma", "Mihai")
LAST_NAMES = ("Pop", "Martin", "Ionescu", "Schmidt", "García", "Smith", "Dubois", "Stan", "Müller", "López")


def _theme_for(rng: random.Random, kind: str, properties: dict[str, Any], progress: float) -> str:
    """What a high-effort customer complains about, from what happened to them."""
    if kind == "ticket_closed":
        if properties.get("transfers", 0) >= 2:
            return "transfers-repetition"
        if properties.get("wait_seconds", 0) >= 600:
            return "waiting"
        return rng.choice(("staff", "waiting", "returns-refunds"))
    if kind == "checkout_completed":
        if progress > 0.8 and rng.random() < 0.6:
            return "delivery"  # the carrier changed last week
        if properties.get("payment_method") == "invoice":
            return "payment"
        return rng.choice(("delivery", "price", "website-errors", "payment", "size", "quality"))
    return rng.choice(("website-errors", "staff"))


def _comment(rng: random.Random, kind: str, properties: dict[str, Any], progress: float, low: bool,
             locale: str) -> str | None:
    if not low:
        return rng.choice(EVERYDAY) if rng.random() < 0.6 else None
    theme = _theme_for(rng, kind, properties, progress)
    by_lang = UNCOVERED.get(theme) or LABELLED[theme]
    return rng.choice(by_lang.get(locale) or by_lang["en"])


def _clocked(storage: Storage) -> tuple[Services, list[float]]:
    at = [0.0]
    return Services(storage, clock=lambda: at[0]), at


def _onboarding_survey(storage: Storage, site_id: int, now: float) -> None:
    survey = storage.create_survey(site_id, now, name="Getting started", metric="ces5", default_locale="en",
                                   texts=ONBOARDING_TEXTS, followup_max_score=2,
                                   appearance={"placement": "bottom-right", "color": "#3b5bdb"})
    storage.create_trigger(site_id, now, name="Ask after onboarding_completed", event_name="onboarding_completed",
                           survey_id=survey["id"])


def _score(rng: random.Random, base: float, metric_max: int, metric_min: int = 1) -> int:
    return max(metric_min, min(metric_max, round(rng.gauss(base, 1.1))))


def _checkout(rng: random.Random, progress: float) -> tuple[dict[str, Any], float]:
    payment = rng.choices(["card", "paypal", "invoice"], [6, 3, 2])[0]
    items = rng.randint(1, 6)
    base = 5.3 + 0.9 * progress - (1.8 if payment == "invoice" else 0) - 0.15 * (items - 1)
    return {"payment_method": payment, "items": items, "amount": round(rng.uniform(12, 240), 2)}, base


def _ticket(rng: random.Random, progress: float, measures: random.Random) -> tuple[dict[str, Any], float]:
    """A support ticket with the operational measures under their conventional names
    (core/operational.py): transfers and repeat contacts cost effort, as the articles say. The
    repeat contacts and channel switches come from their own generator: the other draws (scores,
    comments, themes) stay what they were."""
    channel = rng.choices(["chat", "email", "phone"], [5, 3, 2])[0]
    transfers = rng.choices([0, 1, 2, 3], [6, 3, 2, 1])[0]
    wait = int(rng.expovariate(1 / (4 if channel == "chat" else 18)) * 60)
    repeats = measures.choices([0, 1, 2], [7, 2, 1])[0]
    switches = measures.choices([0, 1], [8, 2])[0]
    base = (5.6 + 0.7 * progress - {"chat": 0, "email": 0.6, "phone": 1.0}[channel] - 0.9 * transfers
            - 0.5 * repeats - 0.4 * switches)
    return {"channel": channel, "transfers": transfers, "wait_seconds": wait, "repeat_contacts": repeats,
            "channel_switches": switches}, base


def seed_demo_history(storage: Storage, site: dict[str, Any], now: float, days: int = 35,
                      per_day: int = 9, seed: int = 12) -> int:
    """Answers (and dismissals, unanswered prompts) over the last `days` days; the number of answers."""
    rng = random.Random(seed)
    words = random.Random(seed + 1)  # locales, comments and names: the scores' draws stay as they were
    measures = random.Random(seed + 2)
    # Its own connection at synchronous=NORMAL: a thousand small commits without an fsync each
    # (a crash mid-seed only loses demo data; the next commits are durable again).
    storage = Storage(storage.path, "NORMAL")
    services, at = _clocked(storage)
    _onboarding_survey(storage, site["id"], now - days * DAY)
    answered = 0
    n = 0
    for day in range(days, 0, -1):
        progress = (days - day) / days  # the team fixes things: effort falls over the weeks
        times = sorted(now - day * DAY + rng.uniform(8 * 3600, 20 * 3600)
                       for _ in range(rng.randint(per_day - 3, per_day + 3)))
        for start in times:
            n += 1
            at[0] = start
            kind = rng.choices(["checkout_completed", "ticket_closed", "onboarding_completed"], [5, 4, 2])[0]
            user = f"customer-{n:04d}"
            locale = words.choices(LOCALES, LOCALE_WEIGHTS)[0]
            if kind == "checkout_completed":
                properties, base = _checkout(rng, progress)
            elif kind == "ticket_closed":
                properties, base = _ticket(rng, progress, measures)
            else:
                properties, base = {"plan": rng.choice(["free", "team", "business"])}, 3.4 + 0.8 * progress
            result = ingest(services, site, [{"name": kind, "user_id": user, "properties": properties}])[0]
            prompt_id = result.get("prompt_id")
            if not prompt_id:
                continue
            fate = rng.random()
            if fate < 0.12:
                continue  # never shown: the customer had left (expires later)
            at[0] += rng.uniform(2, 30)
            answering.shown(services, site["id"], user, prompt_id, locale)
            if fate < 0.30:
                at[0] += rng.uniform(2, 20)
                answering.dismiss(services, site["id"], user, prompt_id)
                continue
            top = 5 if kind == "onboarding_completed" else 7
            score = _score(rng, base, top)
            at[0] += rng.uniform(3, 40)
            answering.answer(services, site["id"], user, prompt_id, score, None)
            answered += 1
            low = score <= (2 if top == 5 else 3)
            if rng.random() < (0.7 if low else 0.35):
                comment = rng.choice(LOW_COMMENTS if low else HIGH_COMMENTS)
                comment = comment and _comment(words, kind, properties, progress, low, locale)
                if comment:
                    at[0] += rng.uniform(5, 60)
                    answering.add_comment(services, site["id"], user, prompt_id, comment)
    _traits(storage, site["id"], n, now)
    storage.close()
    return answered


def _traits(storage: Storage, site_id: int, customers: int, now: float) -> None:
    """An email and a name for every demo customer (what a site sends with POST /api/v1/identify)."""
    with storage.write(durable=False) as db:
        for i in range(1, customers + 1):
            name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i * 7) % len(LAST_NAMES)]}"
            storage.merge_traits(db, site_id, f"customer-{i:04d}", {"email": f"customer-{i:04d}@example.com",
                                                                   "name": name}, now)

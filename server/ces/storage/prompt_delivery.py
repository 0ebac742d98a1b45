"""What the courier asks the database: which prompts the users held here should have on screen,
which of those sent are closed since, and which delayed prompts fell due (claimed by one process).

Portable SQL (docs/decisions.md): `?` placeholders, `update … returning`, no engine-specific calls.
"""
from __future__ import annotations

from typing import Any, Iterable

from . import Storage, _in_lists
from .migrations import OPEN_PROMPT

# A delayed prompt: due after it was made. Immediate ones are rung by the request that issued them.
DELAYED_UNRUNG = "status = 'issued' and rung_at is null and deliver_after > created_at"


OPEN = "p.status in ('issued','delivered','shown')"


def due_prompts(storage: Storage, site_id: int, user_ids: Iterable[str], now: float) -> list[dict[str, Any]]:
    """The open, due, unexpired prompts of these users of a site whose survey is active (a paused
    survey's prompts leave the screens, and come back when it is resumed), oldest first (index
    prompts(site_id, user_id, status); one query per 500 users)."""
    out: list[dict[str, Any]] = []
    for chunk, marks in _in_lists(list(user_ids)):
        out += storage.all(
            f"select p.* from prompts p join surveys s on s.id = p.survey_id where p.site_id = ? "
            f"and p.user_id in ({marks}) and {OPEN} and p.deliver_after <= ? and p.expires_at > ? "
            "and s.status = 'active' order by p.created_at", [site_id, *chunk, now, now])
    return out


def mark_delivered(storage: Storage, prompt_ids: list[str], now: float) -> None:
    """issued -> delivered, without an fsync: this write follows every push, and an fsync there
    held the write lock (and the pushing process's event loop) for the next event's decision. A
    crash that loses it loses only the mark (the prompt is still open and is sent again)."""
    with storage.write(durable=False) as db:
        for chunk, marks in _in_lists(prompt_ids):
            db.execute(f"update prompts set status = 'delivered', delivered_at = ? "
                       f"where status = 'issued' and id in ({marks})", [now, *chunk])


def users_with_open_prompts(storage: Storage, survey_id: int) -> dict[int, list[str]]:
    """site id -> the users with an open prompt of this survey (index idx_prompts_open_survey)."""
    out: dict[int, list[str]] = {}
    for row in storage.all(f"select distinct site_id, user_id from prompts where survey_id = ? and {OPEN_PROMPT}",
                           [survey_id]):
        out.setdefault(row["site_id"], []).append(row["user_id"])
    return out


def closed_among(storage: Storage, prompt_ids: Iterable[str], now: float) -> dict[str, str]:
    """prompt id -> why it may no longer be on screen (answered, dismissed, expired, paused), for
    those of `prompt_ids` that are closed, gone (erased), past their expiry or of a paused survey."""
    ids = list(prompt_ids)
    closed = {prompt_id: "expired" for prompt_id in ids}  # an id with no row was erased
    for chunk, marks in _in_lists(ids):
        for row in storage.all("select p.id, p.status, p.expires_at, s.status as survey_status from prompts p "
                               f"join surveys s on s.id = p.survey_id where p.id in ({marks})", chunk):
            if row["status"] in ("issued", "delivered", "shown") and row["expires_at"] > now:
                if row["survey_status"] == "active":
                    closed.pop(row["id"])
                else:
                    closed[row["id"]] = "paused"
            elif row["status"] in ("answered", "dismissed"):
                closed[row["id"]] = row["status"]
    return closed


def claim_delayed(storage: Storage, prompt_id: str, now: float) -> tuple[int, str] | None:
    """Take the ringing of one delayed prompt that is due: (site_id, user_id) for the one process
    whose update changed the row, None for every other (or when it was delivered, cancelled…)."""
    with storage.write(durable=False) as db:  # a lost claim at worst rings a doorbell again
        row = db.execute(f"update prompts set rung_at = ? where id = ? and {DELAYED_UNRUNG} and deliver_after <= ? "
                         "returning site_id, user_id", [now, prompt_id, now]).fetchone()
    return (row[0], row[1]) if row else None


def claim_overdue(storage: Storage, now: float, limit: int = 500) -> list[tuple[int, str]]:
    """Delayed prompts whose due time passed with nobody to ring them (every process was down, or
    the one that scheduled it died): claimed in one statement, (site_id, user_id) of each."""
    if storage.one(f"select 1 as due from prompts where {DELAYED_UNRUNG} and deliver_after <= ? and expires_at > ? "
                   "limit 1", [now, now]) is None:
        return []  # the usual case, read without taking the write lock
    with storage.write(durable=False) as db:
        rows = db.execute(f"update prompts set rung_at = ? where id in (select id from prompts where {DELAYED_UNRUNG} "
                          "and deliver_after <= ? and expires_at > ? limit ?) returning site_id, user_id",
                          [now, now, now, limit]).fetchall()
    return [(r[0], r[1]) for r in rows]


def upcoming_delayed(storage: Storage, now: float, until: float) -> list[tuple[float, str]]:
    """(due, id) of the delayed prompts falling due in (now, until]: every process times them."""
    return [(r["deliver_after"], r["id"]) for r in storage.all(
        f"select id, deliver_after from prompts where {DELAYED_UNRUNG} and deliver_after > ? and deliver_after <= ?",
        [now, until])]

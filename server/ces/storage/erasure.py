"""SQL of one person's data: find it, export it, erase it (with every rollup corrected), opt them out.

A person is (site, user id). Their rows: events (each with its decision), prompts (any status),
answers (scores and comments), traits (`users`) and the webhook deliveries that carry their
answers. `forget()` deletes a set of rows AND takes their contributions out of the rollups the
reports read (`report_answers_daily`, `report_props_daily`, `report_funnel_daily`,
`report_events_daily`), inside the caller's transaction: a report after it equals a report
computed from the base tables without those rows. Retention's "delete" mode uses it too.
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable, Sequence

from ..core import drivers
from . import Storage, _in_lists
from .dialect import dialect_of
from .reports import MAX_TEXT_VALUE, SCALAR_TYPES, _value_case, decode_properties

CLOSED = "('answered','dismissed','expired')"


def user_sha256(user_id: str) -> str:
    """What is kept of a user id in opt-outs and erasure records: its SHA-256, hex."""
    return hashlib.sha256(user_id.encode()).hexdigest()


class NotFound(Exception):
    """Nothing is stored about this user on this site."""


# -- rollup corrections -----------------------------------------------------------------------------

def _watermark(conn: Any, table: str) -> int:
    row = conn.execute("select last_id from report_rollup_state where name = ?", [table]).fetchone()
    return row[0] if row else 0


def _subtract(conn: Any, table: str, keys: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """n -= the row's last value for each key; rows reaching 0 go (a rollup holds no zero rows)."""
    where = " and ".join(f"{k} = ?" for k in keys)
    for row in rows:
        *key, n = row
        conn.execute(f"update {table} set n = n - ? where {where}", [n, *key])
        conn.execute(f"delete from {table} where {where} and n <= 0", key)


def forget(conn: Any, answer_ids: Sequence[int], prompt_ids: Sequence[str], event_ids: Sequence[int]) -> None:
    """Delete these answers, prompts and events, and take them out of every rollup.

    Inside the caller's write transaction. The rollups were built from the very rows deleted here
    (answers and events by id up to their watermark; closed prompts by the SQL trigger of 0003,
    with values that never change once closed), so the same GROUP BY subtracts exactly what was
    added. Answers of the prompts must be in `answer_ids` (the foreign key refuses otherwise).
    """
    for name, kind in (("answers", "integer"), ("prompts", "text"), ("events", "integer")):
        conn.execute(f"create temp table if not exists forget_{name} (id {kind} primary key)")
        conn.execute(f"delete from temp.forget_{name}")
    conn.executemany("insert or ignore into temp.forget_answers (id) values (?)", [(i,) for i in answer_ids])
    conn.executemany("insert or ignore into temp.forget_prompts (id) values (?)", [(i,) for i in prompt_ids])
    conn.executemany("insert or ignore into temp.forget_events (id) values (?)", [(i,) for i in event_ids])
    # Every query below starts from the few rows to forget (CROSS JOIN fixes the order: the temp
    # tables have no statistics, and the planner would otherwise scan the answers by survey).

    last_answer = _watermark(conn, "answers")
    if answer_ids and last_answer:
        _subtract(conn, "report_answers_daily", ("survey_id", "day", "trigger_id", "locale", "variant", "score"),
                  conn.execute(
                      "select a.survey_id, cast(a.created_at / 86400 as integer), coalesce(p.trigger_id, 0), "
                      "coalesce(p.locale, ''), coalesce(p.variant, ''), a.score, count(*) "
                      "from temp.forget_answers f cross join answers a on a.id = f.id cross join prompts p on p.id = a.prompt_id "
                      "where a.id <= ? group by 1, 2, 3, 4, 5, 6", [last_answer]).fetchall())
        kind, value = _value_case("j.type", "j.value", drivers.DEFAULT_BOUNDS, dialect_of(conn))
        _subtract(conn, "report_props_daily", ("survey_id", "key", "day", "trigger_id", "kind", "value", "score"),
                  conn.execute(
                      f"select a.survey_id, j.key, cast(a.created_at / 86400 as integer), coalesce(p.trigger_id, 0), "
                      f"{kind}, {value}, a.score, count(*) "
                      "from temp.forget_answers f cross join answers a on a.id = f.id cross join prompts p on p.id = a.prompt_id "
                      "cross join events e on e.id = p.event_row, json_each(e.properties) j "
                      f"where a.id <= ? and json_valid(e.properties) and j.type in {SCALAR_TYPES} "
                      f"and (j.type != 'text' or length(j.value) <= {MAX_TEXT_VALUE}) "
                      "group by 1, 2, 3, 4, 5, 6, 7", [last_answer]).fetchall())
    if prompt_ids:
        # The funnel rollup's row of a closed prompt, as migrations._FUNNEL_ROW writes it.
        _subtract(conn, "report_funnel_daily",
                  ("survey_id", "day", "trigger_id", "locale", "variant", "status", "delivered", "shown"),
                  conn.execute(
                      "select p.survey_id, cast(coalesce(p.created_at, 0) / 86400 as integer), "
                      "coalesce(p.trigger_id, 0), coalesce(p.locale, ''), coalesce(p.variant, ''), p.status, "
                      "(p.delivered_at is not null or p.shown_at is not null or p.status in ('answered','dismissed')), "
                      "(p.shown_at is not null or p.status in ('answered','dismissed')), count(*) "
                      f"from temp.forget_prompts f cross join prompts p on p.id = f.id where p.status in {CLOSED} "
                      "group by 1, 2, 3, 4, 5, 6, 7, 8").fetchall())
    last_event = _watermark(conn, "events")
    if event_ids and last_event:
        _subtract(conn, "report_events_daily", ("trigger_id", "day"), conn.execute(
            "select e.trigger_id, cast(e.received_at / 86400 as integer), count(*) from temp.forget_events f "
            "cross join events e on e.id = f.id where e.id <= ? and e.trigger_id is not null group by 1, 2",
            [last_event]).fetchall())

    from . import answer_props  # the driver ranking's rollup is kept from answer_props (storage/answer_props.py)
    answer_props.forget(conn, list(answer_ids))
    conn.execute("delete from answers where id in (select id from temp.forget_answers)")
    conn.execute("delete from prompts where id in (select id from temp.forget_prompts)")
    conn.execute("delete from events where id in (select id from temp.forget_events)")
    conn.execute("delete from comment_themes where answer_id in (select id from temp.forget_answers)")  # themes.py
    # Without AUTOINCREMENT the next id is max(id) + 1: had the newest row gone, a new row would get
    # an id at or below the watermark and never be folded in. Everything up to the remaining
    # maximum is folded, so the watermark may come down to it.
    for table in ("answers", "events"):
        conn.execute("update report_rollup_state set last_id = min(last_id, "
                     f"(select coalesce(max(id), 0) from {table})) where name = ?", [table])


def rebuild_rollups(storage: Storage) -> None:
    """Every rollup from scratch, from the base tables (tests, and after a repair by hand)."""
    from .reports import Reports
    with storage.write(durable=False) as db:
        for table in ("report_answers_daily", "report_props_daily", "report_events_daily", "report_rollup_state"):
            db.execute(f"delete from {table}")
    reports = Reports(storage)
    reports.rebuild_funnel_rollup()
    reports.refresh_rollups()
    reports.refresh_events()


# -- one user's rows ---------------------------------------------------------------------------------

class UserData:
    """The rows of one user of one site, read on the caller's connection."""

    def __init__(self, conn: Any, site_id: int, user_id: str) -> None:
        self.conn, self.site_id, self.user_id = conn, site_id, user_id

    def event_ids(self) -> list[int]:
        return [r[0] for r in self.conn.execute(
            "select id from events where site_id = ? and user_id = ? order by id", [self.site_id, self.user_id])]

    def prompt_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "select id from prompts where site_id = ? and user_id = ? order by id", [self.site_id, self.user_id])]

    def answer_ids(self, prompt_ids: list[str]) -> list[int]:
        """Answers of their prompts (an answer's user is its prompt's user; index on prompt_id)."""
        ids: list[int] = []
        for chunk, marks in _in_lists(prompt_ids):
            ids += [r[0] for r in self.conn.execute(f"select id from answers where prompt_id in ({marks})", chunk)]
        return sorted(ids)

    def delivery_ids(self, after: int = 0) -> list[int]:
        """Webhook deliveries whose payload is about them (a scan of the site's deliveries above `after`)."""
        return [r[0] for r in self.conn.execute(
            "select id from webhook_deliveries where site_id = ? and id > ? "
            "and json_extract(payload, '$.data.user_id') = ? order by id", [self.site_id, after, self.user_id])]

    def has_traits(self) -> bool:
        return self.conn.execute("select 1 from users where site_id = ? and user_id = ?",
                                 [self.site_id, self.user_id]).fetchone() is not None

    def opt_out(self) -> tuple[float, str] | None:
        row = self.conn.execute("select created_at, source from opt_outs where site_id = ? and user_sha256 = ?",
                                [self.site_id, user_sha256(self.user_id)]).fetchone()
        return (row[0], row[1]) if row else None


def _rows(conn: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


_json = decode_properties  # a stored JSON text, parsed (kept as it is when it is not JSON)


def export_rows(storage: Storage, site_id: int, user_id: str) -> dict[str, Any]:
    """Everything stored about the user, raw (times as epoch seconds); NotFound when nothing is."""
    conn = storage.db.conn
    conn.execute("BEGIN")  # one snapshot: the parts agree with each other
    try:
        data = UserData(conn, site_id, user_id)
        prompt_ids = data.prompt_ids()
        out: dict[str, Any] = {
            "user": _rows(conn, "select traits, updated_at from users where site_id = ? and user_id = ?",
                          [site_id, user_id]),
            "opt_out": data.opt_out(),
            "events": _rows(conn, "select * from events where site_id = ? and user_id = ? order by id",
                            [site_id, user_id]),
            "prompts": _rows(conn, "select * from prompts where site_id = ? and user_id = ? order by created_at, id",
                             [site_id, user_id]),
            "answers": [],
            "webhook_deliveries": [],
        }
        for chunk, marks in _in_lists(data.answer_ids(prompt_ids)):
            out["answers"] += _rows(conn, f"select * from answers where id in ({marks}) order by id", chunk)
        for chunk, marks in _in_lists(data.delivery_ids()):
            out["webhook_deliveries"] += _rows(
                conn, "select id, webhook_id, event_type, msg_id, status, attempts, created_at, updated_at, "
                      f"delivered_at, payload from webhook_deliveries where id in ({marks}) order by id", chunk)
    finally:
        conn.execute("COMMIT")
    if not any(out[k] for k in ("user", "events", "prompts", "answers", "webhook_deliveries")) and not out["opt_out"]:
        raise NotFound(user_id)
    for row in out["events"]:
        row["properties"] = _json(row["properties"])
    for row in out["user"]:
        row["traits"] = _json(row["traits"])
    for row in out["webhook_deliveries"]:
        row["payload"] = _json(row["payload"])
    return out


def erase(storage: Storage, site_id: int, user_id: str, actor: str, now: float,
          record: Any = None) -> dict[str, Any]:
    """Delete every row of the user and correct the rollups, in one transaction; record the erasure.

    Returns how many rows of each kind went and the ids of the prompts that were still open (their
    sockets are told after the commit). `record(db)` runs inside the same transaction (the audit
    log entry). NotFound, with nothing changed, when nothing is stored about the user.
    """
    # The deliveries are found by a scan of their JSON: done before taking the write lock, then
    # only the deliveries queued since are scanned again inside it.
    conn = storage.db.conn
    top = conn.execute("select coalesce(max(id), 0) from webhook_deliveries").fetchone()[0]
    early = UserData(conn, site_id, user_id).delivery_ids()
    with storage.write() as db:
        data = UserData(db.conn, site_id, user_id)
        events, prompts = data.event_ids(), data.prompt_ids()
        answers = data.answer_ids(prompts)
        deliveries = early + data.delivery_ids(after=top)
        traits = data.has_traits()
        opted_out = data.opt_out() is not None
        if not (events or prompts or answers or deliveries or traits or opted_out):
            raise NotFound(user_id)
        open_prompts = [r[0] for r in db.conn.execute(
            "select id from prompts where site_id = ? and user_id = ? and status in ('issued','delivered','shown')",
            [site_id, user_id])]
        forget(db.conn, answers, prompts, events)
        db.conn.execute("delete from users where site_id = ? and user_id = ?", [site_id, user_id])
        for chunk, marks in _in_lists(deliveries):
            db.conn.execute(f"delete from webhook_deliveries where id in ({marks})", chunk)
        db.conn.execute("insert into erasures (site_id, user_sha256, actor, created_at) values (?, ?, ?, ?)",
                        [site_id, user_sha256(user_id), actor, now])
        if record is not None:
            record(db)
    return {"deleted": {"events": len(events), "prompts": len(prompts), "answers": len(answers),
                        "traits": int(traits), "webhook_deliveries": len(deliveries)},
            "open_prompts": open_prompts}


def erasures(storage: Storage, site_id: int | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    where, params = ("where site_id = ?", [site_id]) if site_id is not None else ("", [])
    total = storage.db.conn.execute(f"select count(*) from erasures {where}", params).fetchone()[0]
    rows = _rows(storage.db.conn, f"select * from erasures {where} order by id desc limit ? offset ?",
                 params + [limit, offset])
    return rows, total


# -- opt-outs ------------------------------------------------------------------------------------------

def opt_out(storage: Storage, site_id: int, user_id: str, source: str, now: float,
            record: Any = None) -> tuple[bool, list[str]]:
    """Opt the user out; (newly opted out?, ids of their open prompts, now closed as expired).

    Open prompts close in the same transaction, so a delayed or pending prompt is never put on
    screen afterwards. `record(db)` runs inside it (the audit log entry), unless nothing changed.
    """
    with storage.write() as db:
        cur = db.conn.execute("insert or ignore into opt_outs (site_id, user_sha256, created_at, source) "
                              "values (?, ?, ?, ?)", [site_id, user_sha256(user_id), now, source])
        open_prompts = [r[0] for r in db.conn.execute(
            "select id from prompts where site_id = ? and user_id = ? and status in ('issued','delivered','shown')",
            [site_id, user_id])]
        if open_prompts:
            for chunk, marks in _in_lists(open_prompts):
                db.conn.execute(f"update prompts set status = 'expired', closed_at = ? where id in ({marks})",
                                [now, *chunk])
        if record is not None and (cur.rowcount == 1 or open_prompts):  # a repeat that changes nothing: no entry
            record(db)
    return cur.rowcount == 1, open_prompts


def opt_in(storage: Storage, site_id: int, user_id: str, record: Any = None) -> bool:
    """Undo an opt-out; False when the user had not opted out (nothing is written then)."""
    with storage.write() as db:
        removed = db.conn.execute("delete from opt_outs where site_id = ? and user_sha256 = ?",
                                  [site_id, user_sha256(user_id)]).rowcount == 1
        if removed and record is not None:
            record(db)
    return removed


def opted_out_users(conn: Any, site_id: int, user_ids: Iterable[str]) -> set[str]:
    """Which of these users opted out on the site (one query per 500 users, on the caller's connection)."""
    by_hash = {user_sha256(u): u for u in set(user_ids)}
    found: set[str] = set()
    for chunk, marks in _in_lists(list(by_hash)):
        for (digest,) in conn.execute(f"select user_sha256 from opt_outs where site_id = ? and user_sha256 in ({marks})",
                                      [site_id, *chunk]):
            found.add(by_hash[digest])
    return found

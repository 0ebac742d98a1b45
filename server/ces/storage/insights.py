"""SQL of the insights (docs/insights.md): driver ranking, fix-first, scores that diverge, loyalty,
alerts and digests. Portable SQL only (`?` placeholders, ON CONFLICT, no JSON functions): the
properties come from the rollups or from `answer_props`, traits are parsed in Python.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from ..core import drivers
from ..core.report_filters import ReportQuery
from . import Storage, _in_lists, answer_props
from .answer_props import BLOCK_DAYS
from .reports import MAX_TEXT_VALUE, Reports

DAY = 86400

# Plain DDL for migration 0710_i15drivers_insight_notices (and its PostgreSQL port, pg_ddl()).
I15_INSIGHT_NOTICES_SQL = [
    # What the alerts job already sent, so a period is never announced twice, even by two
    # processes running the job at once (the primary key decides which one sends).
    """create table if not exists insight_notices (
        site_id integer not null, kind text not null, survey_id integer not null,
        period_end real not null, sent_at real not null, detail text,
        primary key (site_id, kind, survey_id, period_end))""",
]


class InsightStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.reports = Reports(storage)

    @property
    def conn(self) -> Any:
        return self.storage.db.conn

    # -- event properties ---------------------------------------------------------------------
    def _rollup_usable(self, q: ReportQuery) -> bool:
        return self.reports.rollup_usable(q) and q.locale is None and q.variant is None

    def _triggers(self, q: ReportQuery, params: list[Any]) -> str:
        if not q.triggers:
            return ""
        params.extend(q.triggers)
        return f" and trigger_id in ({','.join('?' * len(q.triggers))})"

    def property_counts(self, q: ReportQuery, survey_id: int, by_trigger: bool = False) -> list[tuple[Any, ...]]:
        """(trigger_id when by_trigger, key, kind, value or bucket label, score, n) of every top-level
        event property of the answers passing q, numbers in the default buckets.

        On whole UTC days: the blocks of 28 days inside the range from `report_props_blocks`, the
        days at its edges from `report_props_daily` (both hold the same counts: every top-level key
        without a dot)."""
        t = "trigger_id, " if by_trigger else ""
        group = "1, 2, 3, 4, 5" if by_trigger else "1, 2, 3, 4"
        params: list[Any] = []
        if self._rollup_usable(q):
            first = None if q.start is None else int(q.start // DAY)
            end = None if q.end is None else int(q.end // DAY)
            b0 = None if first is None else -(-first // BLOCK_DAYS)   # first whole block
            b1 = None if end is None else end // BLOCK_DAYS            # first block past the range
            parts: list[str] = []
            if b0 is None or b1 is None or b0 < b1:
                sql = f"select {t}key, kind, value, score, n from report_props_blocks where survey_id = ?"
                params.append(survey_id)
                if b0 is not None:
                    sql += " and block >= ?"
                    params.append(b0)
                if b1 is not None:
                    sql += " and block < ?"
                    params.append(b1)
                parts.append(sql + self._triggers(q, params))
                edges = [(first, b0 * BLOCK_DAYS if b0 is not None else None),
                         (b1 * BLOCK_DAYS if b1 is not None else None, end)]
                edges = [(lo, hi) for lo, hi in edges if lo is not None and hi is not None and lo < hi]
            else:
                edges = [(first, end)]
            for lo, hi in edges:
                sql = (f"select {t}key, kind, value, score, n from report_props_daily where survey_id = ? "
                       "and key not like '%.%'")
                params.append(survey_id)
                if lo is not None:
                    sql += " and day >= ?"
                    params.append(lo)
                if hi is not None:
                    sql += " and day < ?"
                    params.append(hi)
                parts.append(sql + self._triggers(q, params))
            union = " union all ".join(parts)
            return self.conn.execute(f"select {t}key, kind, value, score, sum(n) from ({union}) u group by {group}",
                                     params).fetchall()
        if not answer_props.usable(q):
            raise ValueError("locale and variant filters are not supported by the driver ranking")
        view = self.reports.view(q, survey_id)
        if view is not None:  # any filter, range or zone: the report columns (storage/report_columns.py)
            return view.property_counts(q, by_trigger)
        where = answer_props.where(q, survey_id, params)
        kind, value, ok = answer_props.driver_value_sql("d", drivers.DEFAULT_BOUNDS, MAX_TEXT_VALUE)
        t = "a.trigger_id, " if by_trigger else ""
        group = "1, 2, 3, 4, 5" if by_trigger else "1, 2, 3, 4"
        # Top-level keys only, as the rollups (and json_each) hold them.
        return self.conn.execute(
            f"select {t}d.key, {kind}, {value}, a.score, count(*) from answer_props a "
            f"join answer_props d on d.answer_id = a.answer_id and d.key <> '' {where} "
            f"and d.key not like '%.%' and {ok} group by {group}", params).fetchall()

    def answer_scores(self, q: ReportQuery, survey_id: int, answer_ids: Sequence[int]) -> list[tuple[int, int, int]]:
        """(answer_id, trigger_id, score) of these answers, when they pass q."""
        out: list[tuple[int, int, int]] = []
        for chunk, marks in _in_lists(list(answer_ids)):
            params: list[Any] = []
            where = answer_props.where(q, survey_id, params)
            out += self.conn.execute(f"select a.answer_id, a.trigger_id, a.score from answer_props a {where} "
                                     f"and a.answer_id in ({marks})", [*params, *chunk]).fetchall()
        return out

    def answer_driver_values(self, answer_ids: Sequence[int]) -> list[tuple[int, str, str, str]]:
        """(answer_id, key, kind, value or bucket label) of these answers' top-level properties, as
        the rollups count them."""
        out: list[tuple[int, str, str, str]] = []
        for chunk, marks in _in_lists(list(answer_ids)):
            for answer_id, key, kind, num, txt in self.conn.execute(
                    f"select answer_id, key, kind, num, txt from answer_props where answer_id in ({marks}) "
                    "and key <> ''", chunk):
                label = answer_props.block_value(key, kind, num, txt)
                if label is not None:
                    out.append((answer_id, key, *label))
        return out

    # -- traits ---------------------------------------------------------------------------------
    def has_traits(self, site_id: int) -> bool:
        return self.conn.execute("select 1 from users where site_id = ? and traits <> '{}' limit 1",
                                 [site_id]).fetchone() is not None

    def user_score_counts(self, q: ReportQuery, survey_id: int, by_trigger: bool = False) -> list[tuple[Any, ...]]:
        """([trigger_id,] user_id, score, n) of the answers passing q."""
        params: list[Any] = []
        where = answer_props.where(q, survey_id, params)
        t = "a.trigger_id, " if by_trigger else ""
        group = "1, 2, 3" if by_trigger else "1, 2"
        return self.conn.execute(
            f"select {t}x.user_id, a.score, count(*) from answer_props a join answers x on x.id = a.answer_id "
            f"{where} group by {group}", params).fetchall()

    def traits(self, site_id: int, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for chunk, marks in _in_lists(list(user_ids)):
            for user_id, raw in self.conn.execute(
                    f"select user_id, traits from users where site_id = ? and user_id in ({marks})", [site_id, *chunk]):
                try:
                    value = json.loads(raw) if raw else {}
                except ValueError:
                    value = {}
                if isinstance(value, dict) and value:
                    out[user_id] = value
        return out

    # -- two metrics, one customer ---------------------------------------------------------------
    def latest_answers(self, survey_id: int, q: ReportQuery) -> dict[str, tuple[int, float, int]]:
        """user_id -> (score, answered_at, answer_id) of each user's latest answer in the survey."""
        params: list[Any] = [survey_id]
        sql = "select user_id, score, created_at, id from answers where survey_id = ?"
        if q.start is not None:
            sql += " and created_at >= ?"
            params.append(q.start)
        if q.end is not None:
            sql += " and created_at < ?"
            params.append(q.end)
        out: dict[str, tuple[int, float, int]] = {}
        for user_id, score, created_at, answer_id in self.conn.execute(sql + " order by created_at, id", params):
            out[user_id] = (score, created_at, answer_id)  # later rows win: the latest answer
        return out

    def users_with_event(self, site_id: int, name: str, after: dict[str, float],
                         within: float | None) -> set[str]:
        """The users of `after` who sent an event `name` after their time there (within `within` s)."""
        found: set[str] = set()
        users = list(after)
        for chunk, marks in _in_lists(users):
            rows = self.conn.execute(
                f"select user_id, timestamp from events where site_id = ? and user_id in ({marks}) and name = ?",
                [site_id, *chunk, name]).fetchall()
            for user_id, ts in rows:
                start = after[user_id]
                if ts is not None and ts > start and (within is None or ts <= start + within):
                    found.add(user_id)
        return found

    def survey(self, survey_id: int) -> dict[str, Any] | None:
        return self.storage.get_survey(survey_id)

    def site_surveys(self, site_id: int) -> list[dict[str, Any]]:
        return self.storage.all("select id, site_id, name, metric, status from surveys where site_id = ? order by id", [site_id])

    # -- notices ----------------------------------------------------------------------------------
    def claim_notice(self, db: Any, site_id: int, kind: str, survey_id: int, period_end: float, now: float,
                     detail: str | None) -> bool:
        """Inside the caller's transaction: True when this period was not announced yet (now it is)."""
        cur = db.execute(
            "insert into insight_notices (site_id, kind, survey_id, period_end, sent_at, detail) "
            "values (?, ?, ?, ?, ?, ?) on conflict (site_id, kind, survey_id, period_end) do nothing",
            [site_id, kind, survey_id, period_end, now, detail])
        return cur.rowcount == 1

    def notices(self, site_id: int, limit: int = 50) -> list[dict[str, Any]]:
        return self.storage.all("select kind, survey_id, period_end, sent_at, detail from insight_notices "
                                "where site_id = ? order by sent_at desc, period_end desc limit ?", [site_id, limit])

    def sites(self) -> list[tuple[int, str, str]]:
        """(id, settings JSON, time zone) of every site."""
        return [tuple(r) for r in self.conn.execute("select id, settings, time_zone from sites order by id")]


def bucket_traits(traits: dict[str, Any], bounds: Sequence[float] = drivers.DEFAULT_BOUNDS) -> list[tuple[str, str, str]]:
    """(key, kind, value or bucket label) of a user's top-level scalar traits, as the properties'."""
    out = []
    for key, value in traits.items():
        if not isinstance(key, str) or not key:
            continue
        if isinstance(value, bool):
            out.append((key, "bool", "true" if value else "false"))
        elif isinstance(value, (int, float)):
            if value == value and abs(value) != float("inf"):
                out.append((key, "number", drivers.bucket_of(value, bounds)))
        elif isinstance(value, str) and len(value) <= MAX_TEXT_VALUE:
            out.append((key, "text", value))
    return out

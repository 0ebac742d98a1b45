"""Every SQL statement of the reports, the export and the webhook queue.

Two sources answer the score aggregates with the same columns (day, trigger_id, score, n):

* the rollups `report_answers_daily` / `report_props_daily`, kept up to date incrementally
  from the answers table (answers are append-only: `refresh_rollups()` folds in the answers
  with an id above the stored watermark, so it costs what was answered since the last report);
* the base tables (answers ⨝ prompts ⨝ events), for filters a rollup cannot answer: event
  property filters, a range not on UTC midnights, custom buckets, a dotted driver path, or days
  in another time zone than UTC (the day is then the local day, `time_zones.local_day_sql`).

Those filters are answered first by the report columns (`view()`, storage/report_columns.py:
arrays, any filter in ~0.2 s at 1M answers); the base tables (through `answer_props` where it
helps) remain for a locale or variant filter and while the columns are being built. Every path
gives the same numbers (tested); the rollups and the columns only make them fast.
"""
from __future__ import annotations

import json
from dataclasses import replace
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..core import drivers
from ..core.report_filters import DAY, PropertyFilter, ReportQuery
from ..core.time_zones import is_utc, local_day_sql
from . import Storage
from . import answer_props, report_columns
from .dialect import SQLITE, Dialect
from .migrations import FUNNEL_REBUILD, OPEN_PROMPT

OPEN = "('issued','delivered','shown')"
SCALAR_TYPES = "('integer','real','text','true','false')"
MAX_TEXT_VALUE = 64
ROLLUP_CHUNK = 200_000


# -- filters ----------------------------------------------------------------------------------

def _prop_clause(p: PropertyFilter, params: list[Any], dialect: Dialect = SQLITE) -> str:
    value = "json_extract(e.properties, ?)"
    if p.op == "exists":
        params.append(p.json_path)
        return f"json_type(e.properties, ?) is {'not ' if p.values[0] else ''}null"
    if p.op in ("gt", "gte", "lt", "lte"):
        sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[p.op]
        params.extend([p.json_path, p.json_path, p.values[0]])
        return f"(json_type(e.properties, ?) in ('integer','real') and {dialect.number(value)} {sym} ?)"
    marks = ",".join("?" * len(p.values))
    params.append(p.json_path)
    params.extend(p.values)
    if p.op == "ne":
        return f"coalesce({value} not in ({marks}), 1 = 1)"  # `1 = 1`: true in both engines (PG has no int → bool)
    return f"{value} in ({marks})"


def _where(q: ReportQuery, survey_id: int, time_col: str, params: list[Any],
           answers: bool = True, dialect: Dialect = SQLITE) -> str:
    """WHERE clauses on `a` (answers, when `answers`), `p` (prompts) and `e` (events)."""
    table = "a" if answers else "p"
    clauses = [f"{table}.survey_id = ?"]
    params.append(survey_id)
    if q.start is not None:
        clauses.append(f"{time_col} >= ?")
        params.append(q.start)
    if q.end is not None:
        clauses.append(f"{time_col} < ?")
        params.append(q.end)
    if q.triggers:
        clauses.append(f"p.trigger_id in ({','.join('?' * len(q.triggers))})")
        params.extend(q.triggers)
    if q.locale is not None:
        clauses.append("p.locale = ?")
        params.append(q.locale)
    if q.variant is not None:
        clauses.append("p.variant = ?")
        params.append(q.variant)
    for p in q.properties:
        clauses.append(_prop_clause(p, params, dialect))
    return " and ".join(clauses)


def _answers_from(q: ReportQuery, events: bool = False) -> str:
    joins = "answers a join prompts p on p.id = a.prompt_id"
    if events or q.properties:
        joins += " left join events e on e.id = p.event_row"
    return joins


def bucket_case(expr: str, bounds: Sequence[float]) -> str:
    """A SQL CASE giving the core/drivers bucket label of the numeric `expr`."""
    labels = drivers.bucket_labels(bounds)
    parts = [f"when {expr} < {float(high)!r} then '{label}'" for label, _low, high in labels if high is not None]
    return f"case {' '.join(parts)} else '{labels[-1][0]}' end"


def _value_case(type_expr: str, value_expr: str, bounds: Sequence[float],
                dialect: Dialect = SQLITE) -> tuple[str, str]:
    kind = (f"case {type_expr} when 'integer' then 'number' when 'real' then 'number' "
            f"when 'text' then 'text' else 'bool' end")
    value = (f"case when {type_expr} in ('integer','real') then {bucket_case(dialect.number(value_expr), bounds)} "
             f"when {type_expr} = 'text' then {value_expr} when {type_expr} = 'true' then 'true' else 'false' end")
    return kind, value


UTC_DAY = "cast(a.created_at / 86400 as integer)"


def _driver_values(q: ReportQuery, survey_id: int, key: str, bounds: Sequence[float] | None,
                   params: list[Any], day: str = UTC_DAY, dialect: Dialect = SQLITE) -> tuple[str, str, str, str]:
    """SQL for the driver on the base tables: (kind, value or bucket label, "the value is usable",
    and a subquery of the filtered answers as day, trigger_id, score, jt, jv), the first three
    over the subquery's jt (JSON type) and jv (value). Appends the subquery's parameters.

    The subquery reads each answer's property once: LIMIT -1 keeps SQLite from flattening it into
    the outer query, which would parse the JSON again in every branch of the CASE expressions.
    """
    kind, value = _value_case("jt", "jv", bounds or drivers.DEFAULT_BOUNDS, dialect)
    path = "$." + key
    params.extend([path, path])
    where = _where(q, survey_id, "a.created_at", params, dialect=dialect)
    answers = (f"select {day} as day, coalesce(p.trigger_id, 0) as trigger_id, "
               "a.score as score, json_type(e.properties, ?) as jt, json_extract(e.properties, ?) as jv "
               f"from {_answers_from(q, events=True)} where {where} limit -1")
    usable = f"jt in {SCALAR_TYPES} and (jt != 'text' or length(jv) <= {MAX_TEXT_VALUE})"
    return kind, value, usable, answers


class Reports:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.dialect = storage.dialect
        self._props_ready: bool | None = None  # answer_props covers every answer (None: not checked yet)
        self._views: dict[int, report_columns.SurveyView | None] = {}  # per survey, loaded once per report

    @property
    def props_ready(self) -> bool:
        if self._props_ready is None:
            self._props_ready = answer_props.behind(self.conn, 0) == 0
        return self._props_ready

    @property
    def conn(self):  # noqa: ANN201
        return self.storage.db.conn

    # -- rollups -------------------------------------------------------------------------------
    def refresh_rollups(self) -> int:
        """Fold the answers added since the last refresh into the rollups; how many were added."""
        kind, value = _value_case("j.type", "j.value", drivers.DEFAULT_BOUNDS, self.dialect)

        def fold(conn: Any, last: int, upto: int) -> None:
            conn.execute(
                "insert into report_answers_daily (survey_id, day, trigger_id, locale, variant, score, n) "
                "select a.survey_id, cast(a.created_at / 86400 as integer), coalesce(p.trigger_id, 0), "
                "coalesce(p.locale, ''), coalesce(p.variant, ''), a.score, count(*) "
                "from answers a not indexed join prompts p on p.id = a.prompt_id where a.id > ? and a.id <= ? "
                "group by 1, 2, 3, 4, 5, 6 "
                "on conflict (survey_id, day, trigger_id, locale, variant, score) do update set n = n + excluded.n",
                [last, upto])
            conn.execute(
                "insert into report_props_daily (survey_id, key, day, trigger_id, kind, value, score, n) "
                f"select a.survey_id, j.key, cast(a.created_at / 86400 as integer), coalesce(p.trigger_id, 0), "
                f"{kind}, {value}, a.score, count(*) "
                "from answers a not indexed join prompts p on p.id = a.prompt_id join events e on e.id = p.event_row, "
                "json_each(e.properties) j "
                f"where a.id > ? and a.id <= ? and json_valid(e.properties) and j.type in {SCALAR_TYPES} "
                f"and (j.type != 'text' or length(j.value) <= {MAX_TEXT_VALUE}) "
                "group by 1, 2, 3, 4, 5, 6, 7 "
                "on conflict (survey_id, key, day, trigger_id, kind, value, score) do update set n = n + excluded.n",
                [last, upto])

        added = self._fold_new_rows("answers", ROLLUP_CHUNK, fold)
        # The property filters' index (storage/answer_props.py): copied here when a few answers are
        # behind; a large backlog is the background job's, and the reports read the base tables.
        self._props_ready = answer_props.catch_up(self.storage)
        return added

    def rebuild_funnel_rollup(self) -> None:
        """Count closed prompts into `report_funnel_daily` from scratch.

        SQL triggers keep it current when a prompt closes; the product only ever inserts open
        prompts. Whatever inserts prompts already closed (seeds, imports) calls this after.
        """
        with self.storage.write(durable=False) as db:
            db.execute("delete from report_funnel_daily")
            db.execute(FUNNEL_REBUILD)
            db.execute(FUNNEL_REBUILD.replace("('answered','dismissed','expired')", "('cancelled')"))
            report_columns.restart(db.conn)  # the closed prompts walked into the columns' log again

    def refresh_events(self) -> None:
        """Fold the events received since the last refresh into `report_events_daily`."""
        def fold(conn: Any, last: int, upto: int) -> None:
            conn.execute(
                "insert into report_events_daily (trigger_id, day, n) "
                "select trigger_id, cast(received_at / 86400 as integer), count(*) from events not indexed "
                "where id > ? and id <= ? and trigger_id is not null group by 1, 2 "
                "on conflict (trigger_id, day) do update set n = n + excluded.n", [last, upto])

        self._fold_new_rows("events", 4 * ROLLUP_CHUNK, fold)

    def _fold_new_rows(self, table: str, chunk: int, fold: Callable[[Any, int, int], None]) -> int:
        """Call `fold(conn, last, upto)` on the ids of `table` above its watermark, `chunk` ids per
        transaction, moving the watermark in the same transaction; how many ids were covered.

        Both tables are append-only with growing ids, so the watermark is all the state needed.
        """
        added = 0
        while True:
            with self.storage.write(durable=False) as db:
                conn = db.conn
                row = conn.execute("select last_id from report_rollup_state where name = ?", [table]).fetchone()
                last = row[0] if row else 0
                top = conn.execute(f"select max(id) from {table}").fetchone()[0] or 0
                if top <= last:
                    return added
                upto = min(top, last + chunk)
                fold(conn, last, upto)
                conn.execute("insert into report_rollup_state (name, last_id) values (?, ?) "
                             "on conflict (name) do update set last_id = excluded.last_id", [table, upto])
                added += upto - last

    def day_sql(self, q: ReportQuery, survey_id: int) -> str:
        """SQL for an answer's day number (a.created_at): the UTC day, or the local day in q.tz
        over the range the survey's answers cover."""
        if is_utc(q.tz):
            return UTC_DAY
        low, high = self.conn.execute("select min(created_at), max(created_at) from answers where survey_id = ?",
                                      [survey_id]).fetchone()
        if low is None:
            return local_day_sql("a.created_at", q.tz, 0, DAY)
        return local_day_sql("a.created_at", q.tz, low - DAY, high + DAY)

    def view(self, q: ReportQuery, survey_id: int) -> report_columns.SurveyView | None:
        """The report columns of this survey when they answer q (any property filter, range or
        zone; storage/report_columns.py), else None: no filter the rollups answer, a locale or
        variant, or too many rows not in segments yet (the other paths then, exact too)."""
        if not answer_props.usable(q) or self.rollup_usable(q):  # locale and variant live on the prompts
            return None
        if survey_id not in self._views:
            self._views[survey_id] = None
            row = self.conn.execute("select site_id from surveys where id = ?", [survey_id]).fetchone()
            if row is not None and report_columns.catch_up(self.storage, row[0], survey_id):
                try:
                    self._views[survey_id] = report_columns.SurveyView(self.conn, row[0], survey_id)
                except report_columns.NotReady:
                    pass
        return self._views[survey_id]

    @staticmethod
    def rollup_usable(q: ReportQuery) -> bool:
        return not q.properties and q.whole_days

    def props_usable(self, q: ReportQuery) -> bool:
        """The answers' side of a query the rollups cannot answer (property filters, a range off
        midnight, another time zone) read from `answer_props`: exact, one index, no JSON parsed;
        while the background job is still copying a large backlog, the base tables (exact too)."""
        return answer_props.usable(q) and self.props_ready

    def _props_driver_rows(self, q: ReportQuery, survey_id: int, key: str, bounds: Sequence[float] | None,
                           with_day: bool) -> list[tuple[Any, ...]]:
        """by_day_trigger_and_property() (with_day) or by_property() from `answer_props`."""
        params: list[Any] = [key]
        where = answer_props.where(q, survey_id, params)
        kind, value, ok = answer_props.driver_value_sql("d", bounds or drivers.DEFAULT_BOUNDS, MAX_TEXT_VALUE)
        if with_day:
            day = self.day_sql(q, survey_id)
            return self.conn.execute(
                f"select {day}, a.trigger_id, a.score, case when {ok} then {kind} end, case when {ok} then {value} end, "
                f"count(*) from answer_props a left join answer_props d on d.answer_id = a.answer_id and d.key = ? "
                f"{where} group by 1, 2, 3, 4, 5", params).fetchall()
        return self.conn.execute(
            f"select {kind}, {value}, a.score, count(*) from answer_props a "
            f"join answer_props d on d.answer_id = a.answer_id and d.key = ? {where} and {ok} group by 1, 2, 3",
            params).fetchall()

    @staticmethod
    def _day_range(q: ReportQuery, params: list[Any]) -> str:
        clauses = []
        if q.start is not None:
            clauses.append("day >= ?")
            params.append(int(q.start // DAY))
        if q.end is not None:
            clauses.append("day < ?")
            params.append(int(q.end // DAY))
        return "".join(f" and {c}" for c in clauses)

    def _answer_facts(self, q: ReportQuery, survey_id: int, params: list[Any]) -> str:
        """A subquery of (day, trigger_id, score, n) for the filtered answers."""
        if self.rollup_usable(q):
            sql = "select day, trigger_id, score, n from report_answers_daily where survey_id = ?"
            params.append(survey_id)
            sql += self._day_range(q, params)
            if q.triggers:
                sql += f" and trigger_id in ({','.join('?' * len(q.triggers))})"
                params.extend(q.triggers)
            if q.locale is not None:
                sql += " and locale = ?"
                params.append(q.locale)
            if q.variant is not None:
                sql += " and variant = ?"
                params.append(q.variant)
            return sql
        day = self.day_sql(q, survey_id)
        if self.props_usable(q):
            where = answer_props.where(q, survey_id, params)
            return f"select {day} as day, a.trigger_id as trigger_id, a.score as score, 1 as n from answer_props a {where}"
        where = _where(q, survey_id, "a.created_at", params, dialect=self.dialect)
        return (f"select {day} as day, coalesce(p.trigger_id, 0) as trigger_id, "
                f"a.score as score, 1 as n from {_answers_from(q)} where {where}")

    # -- score aggregates -------------------------------------------------------------------------
    def distribution(self, q: ReportQuery, survey_id: int) -> dict[int, int]:
        view = self.view(q, survey_id)
        if view is not None:
            total: dict[int, int] = {}
            for _day, score, n in view.distribution(q):
                total[score] = total.get(score, 0) + n
            return total
        params: list[Any] = []
        facts = self._answer_facts(q, survey_id, params)
        return {s: n for s, n in self.conn.execute(f"select score, sum(n) from ({facts}) group by score", params)}

    def by_day(self, q: ReportQuery, survey_id: int) -> list[tuple[int, int, int]]:
        """(epoch day, score, count) rows."""
        view = self.view(q, survey_id)
        if view is not None:
            return view.distribution(q)
        params: list[Any] = []
        facts = self._answer_facts(q, survey_id, params)
        return self.conn.execute(f"select day, score, sum(n) from ({facts}) group by day, score", params).fetchall()

    def by_day_and_trigger(self, q: ReportQuery, survey_id: int) -> list[tuple[int, int, int, int]]:
        """(epoch day, trigger id or 0, score, count) rows: the trend and the touchpoints in one scan."""
        view = self.view(q, survey_id)
        if view is not None:
            return view.trend_rows(q)
        params: list[Any] = []
        facts = self._answer_facts(q, survey_id, params)
        return self.conn.execute(f"select day, trigger_id, score, sum(n) from ({facts}) group by day, trigger_id, score",
                                 params).fetchall()

    def by_property(self, q: ReportQuery, survey_id: int, key: str,
                    bounds: Sequence[float] | None) -> list[tuple[str, str, int, int]]:
        """(kind, value or bucket label, score, count) rows for the driver property `key`."""
        view = self.view(q, survey_id)
        if view is not None:
            return view.driver_rows(q, key, bounds or drivers.DEFAULT_BOUNDS)
        params: list[Any] = []
        if (self.rollup_usable(q) and bounds is None and "." not in key and q.locale is None
                and q.variant is None):
            sql = "select kind, value, score, sum(n) from report_props_daily where survey_id = ? and key = ?"
            params.extend([survey_id, key])
            sql += self._day_range(q, params)
            if q.triggers:
                sql += f" and trigger_id in ({','.join('?' * len(q.triggers))})"
                params.extend(q.triggers)
            return self.conn.execute(sql + " group by kind, value, score", params).fetchall()
        if self.props_usable(q):
            return self._props_driver_rows(q, survey_id, key, bounds, with_day=False)  # type: ignore[return-value]
        kind, value, usable, answers = _driver_values(q, survey_id, key, bounds, params, self.day_sql(q, survey_id),
                                                       self.dialect)
        return self.conn.execute(f"select {kind}, {value}, score, count(*) from ({answers}) where {usable} "
                                 "group by 1, 2, 3", params).fetchall()

    def by_day_trigger_and_property(self, q: ReportQuery, survey_id: int, key: str, bounds: Sequence[float] | None
                                    ) -> list[tuple[int, int, int, str | None, str | None, int]]:
        """by_day_and_trigger() and by_property() from the base tables in one scan:
        (epoch day, trigger id or 0, score, kind, value or bucket label, count) rows, kind and value
        None where the answer's event has no usable value for `key`.

        The base tables are what makes a filtered report slow (each answer joins its prompt by a text
        key, then its event, then parses the event's JSON): one scan instead of two halves the time.
        """
        if self.props_usable(q):
            return self._props_driver_rows(q, survey_id, key, bounds, with_day=True)  # type: ignore[return-value]
        params: list[Any] = []
        kind, value, usable, answers = _driver_values(q, survey_id, key, bounds, params, self.day_sql(q, survey_id),
                                                       self.dialect)
        return self.conn.execute(
            f"select day, trigger_id, score, case when {usable} then {kind} end, case when {usable} then {value} end, "
            f"count(*) from ({answers}) group by 1, 2, 3, 4, 5", params).fetchall()

    # -- funnel -----------------------------------------------------------------------------------
    def funnel(self, q: ReportQuery, survey_id: int, trigger_ids: Sequence[int]) -> dict[str, Any]:
        if self.rollup_usable(q):
            return self._funnel_rollup(q, survey_id, trigger_ids)
        view = self.view(q, survey_id)
        if view is not None:  # open prompts live (with their event: its verdict is the columns')
            params: list[Any] = []
            where = _where(replace(q, properties=()), survey_id, "p.created_at", params, answers=False,
                           dialect=self.dialect)
            open_rows = self.conn.execute(
                "select coalesce(p.event_row, 0), case when p.delivered_at is not null or p.shown_at is not null "
                "or p.status = 'shown' then 1 else 0 end, case when p.shown_at is not null then 1 else 0 end "
                f"from prompts p where {where} and {OPEN_PROMPT}", params).fetchall()
            return _funnel_of(*view.funnel_parts(q, trigger_ids, open_rows))
        params: list[Any] = []
        where = _where(q, survey_id, "p.created_at", params, answers=False, dialect=self.dialect)
        joins = "prompts p" + (" left join events e on e.id = p.event_row" if q.properties else "")
        row = self.conn.execute(
            "select count(*), "
            "coalesce(sum(p.delivered_at is not null or p.shown_at is not null "
            "or p.status in ('shown','answered','dismissed')), 0), "
            "coalesce(sum(p.shown_at is not null or p.status in ('answered','dismissed')), 0), "
            "coalesce(sum(p.status = 'answered'), 0), coalesce(sum(p.status = 'dismissed'), 0), "
            f"coalesce(sum(p.status = 'expired'), 0), coalesce(sum(p.status in {OPEN}), 0), "
            "coalesce(sum(p.status = 'cancelled'), 0) "
            f"from {joins} where {where}", params).fetchone()
        issued, delivered, shown, answered, dismissed, expired, still_open, cancelled = row
        issued -= cancelled  # called off before its delay ended: it never went out
        matched = None
        if q.locale is None and q.variant is None:
            ids = [t for t in trigger_ids if not q.triggers or t in q.triggers]
            if ids:
                eparams: list[Any] = list(ids)
                sql = f"select count(*) from events e where e.trigger_id in ({','.join('?' * len(ids))})"
                if q.start is not None:
                    sql += " and e.received_at >= ?"
                    eparams.append(q.start)
                if q.end is not None:
                    sql += " and e.received_at < ?"
                    eparams.append(q.end)
                for p in q.properties:
                    sql += " and " + _prop_clause(p, eparams, self.dialect)
                matched = self.conn.execute(sql, eparams).fetchone()[0]
            else:
                matched = 0
        return {"events_matched": matched, "issued": issued, "delivered": delivered, "shown": shown,
                "answered": answered, "dismissed": dismissed, "expired": expired, "open": still_open,
                "cancelled": cancelled}

    def _funnel_rollup(self, q: ReportQuery, survey_id: int, trigger_ids: Sequence[int]) -> dict[str, Any]:
        """Closed prompts from `report_funnel_daily` (kept by SQL triggers), open ones live."""
        def dims(params: list[Any], day_col: str) -> str:
            sql = ""
            if q.triggers:
                sql += f" and trigger_id in ({','.join('?' * len(q.triggers))})"
                params.extend(q.triggers)
            for col in ("locale", "variant"):
                if getattr(q, col) is not None:
                    sql += f" and {col} = ?"
                    params.append(getattr(q, col))
            return sql

        params: list[Any] = [survey_id]
        sql = ("select status, delivered, shown, sum(n) from report_funnel_daily where survey_id = ?"
               + self._day_range(q, params) + dims(params, "day") + " group by status, delivered, shown")
        closed = self.conn.execute(sql, params).fetchall()
        oparams: list[Any] = [survey_id]
        osql = (f"select count(*), coalesce(sum(delivered_at is not null or shown_at is not null or status = 'shown'), 0), "
                "coalesce(sum(shown_at is not null), 0) from prompts "
                f"where survey_id = ? and {OPEN_PROMPT}")
        if q.start is not None:
            osql += " and created_at >= ?"
            oparams.append(q.start)
        if q.end is not None:
            osql += " and created_at < ?"
            oparams.append(q.end)
        osql += dims(oparams, "")
        still_open, odelivered, oshown = self.conn.execute(osql, oparams).fetchone()
        matched = None
        if q.locale is None and q.variant is None:
            self.refresh_events()
            ids = [t for t in trigger_ids if not q.triggers or t in q.triggers]
            matched = 0
            if ids:
                eparams: list[Any] = list(ids)
                esql = f"select coalesce(sum(n), 0) from report_events_daily where trigger_id in ({','.join('?' * len(ids))})"
                esql += self._day_range(q, eparams)
                matched = self.conn.execute(esql, eparams).fetchone()[0]
        return _funnel_of(closed, (still_open, odelivered, oshown), matched)

    def survey_triggers(self, survey_id: int) -> list[dict[str, Any]]:
        """Triggers asking this survey, directly or as one of their variants."""
        return [dict(zip(("id", "name", "event_name"), r)) for r in self.conn.execute(
            "select t.id, t.name, t.event_name from triggers t where t.survey_id = ?1 or exists "
            "(select 1 from json_each(case when json_valid(t.variants) then t.variants else '[]' end) v "
            " where cast(json_extract(v.value, '$.survey_id') as integer) = ?1) order by 1", [survey_id])]

    def triggers_by_id(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        return {r[0]: {"id": r[0], "name": r[1], "event_name": r[2]} for r in self.conn.execute(
            f"select id, name, event_name from triggers where id in ({','.join('?' * len(ids))})", list(ids))}

    # -- lists ------------------------------------------------------------------------------------
    def comments(self, q: ReportQuery, survey_id: int) -> tuple[list[dict[str, Any]], int]:
        params: list[Any] = []
        where = (_where(q, survey_id, "a.created_at", params, dialect=self.dialect)
                 + " and a.comment is not null and a.comment != ''")
        if q.q:
            where += " and instr(lower(a.comment), lower(?)) > 0"
            params.append(q.q)
        if q.scores:
            where += f" and a.score in ({','.join('?' * len(q.scores))})"
            params.extend(q.scores)
        # Without a filter on the prompt or its event, the count needs no join: it reads the
        # partial index of commented answers alone (migration 0510_i12results_at_risk_index).
        joined = bool(q.triggers or q.properties) or q.locale is not None or q.variant is not None
        total = self.conn.execute(f"select count(*) from {_answers_from(q) if joined else 'answers a'} where {where}",
                                  params).fetchone()[0]
        rows = self.storage.all(
            "select a.id as answer_id, a.score, a.comment, a.created_at, a.user_id, a.prompt_id, p.trigger_id, "
            f"p.locale from {_answers_from(q)} where {where} order by a.created_at desc, a.id desc limit ? offset ?",
            params + [q.page_size, (q.page - 1) * q.page_size])
        return rows, total

    def at_risk(self, q: ReportQuery, survey_id: int, high_effort_max: int) -> tuple[list[dict[str, Any]], int]:
        """Users whose latest answer (within the filters) scored at most `high_effort_max`."""
        params: list[Any] = []
        where = _where(q, survey_id, "a.created_at", params, dialect=self.dialect)
        # Without a filter on the prompt or its event, each user's latest answer comes from the
        # covering index (survey_id, user_id, created_at, score, followed_up_at) alone: no join
        # of a million prompts by their text key (6 s → 0.15 s at 1,000,000 answers).
        joined = bool(q.triggers or q.properties) or q.locale is not None or q.variant is not None
        source = _answers_from(q) if joined else "answers a"
        if joined:
            # Walk the survey's prompts (which carry the trigger, locale and variant) and look up
            # each one's answer by its unique prompt_id, rather than each answer's prompt by the
            # text key: "+a.survey_id" keeps SQLite from driving the join from the answers
            # (9.4 s → 0.5 s for one trigger at 1,000,000 answers).
            where = where.replace("a.survey_id = ?", "+a.survey_id = ? and p.survey_id = ?", 1)
            params.insert(0, survey_id)
        # Each user's latest answer (SQLite: the bare columns of the row holding max()).
        latest = self.dialect.latest_per_group("a.user_id", "a.created_at",
                                               "a.id as id, a.score as score, a.followed_up_at as followed_up_at",
                                               f"{source} where {where}")
        outer = "where l.score <= ?"
        params.append(high_effort_max)
        if q.followed_up == "false":
            outer += " and l.followed_up_at is null"
        elif q.followed_up == "true":
            outer += " and l.followed_up_at is not null"
        # One pass gives the page and the total (a window count), instead of grouping twice.
        page = self.conn.execute(
            f"select l.id, count(*) over () from ({latest}) l {outer} "
            "order by l.created_at desc, l.id desc limit ? offset ?",
            params + [q.page_size, (q.page - 1) * q.page_size]).fetchall()
        if page:
            total = page[0][1]
        else:
            total = self.conn.execute(f"select count(*) from ({latest}) l {outer}", params).fetchone()[0]
        if not page:
            return [], total
        ids = [r[0] for r in page]
        rows = self.storage.all(
            "select a.id as answer_id, a.user_id, a.score, a.comment, a.created_at, a.followed_up_at, "
            "a.prompt_id, p.trigger_id, t.name as trigger_name, p.locale, e.event_id, e.name as event_name, "
            "e.properties, e.timestamp as event_timestamp "
            "from answers a join prompts p on p.id = a.prompt_id "
            "left join events e on e.id = p.event_row left join triggers t on t.id = p.trigger_id "
            f"where a.id in ({','.join('?' * len(ids))})", ids)
        order = {answer_id: i for i, answer_id in enumerate(ids)}
        return sorted(rows, key=lambda r: order[r["answer_id"]]), total

    def get_answer(self, answer_id: int) -> dict[str, Any] | None:
        return self.storage.one("select * from answers where id = ?", [answer_id])

    def set_followed_up(self, answer_id: int, when: float | None) -> None:
        with self.storage.write() as db:
            db.execute("update answers set followed_up_at = ? where id = ?", [when, answer_id])

    # -- export -----------------------------------------------------------------------------------
    @staticmethod
    def _export_sql(q: ReportQuery, where: str) -> str:
        return _export_select(q, where)

    def count_answers(self, q: ReportQuery, survey_id: int) -> int:
        params: list[Any] = []
        where = _where(q, survey_id, "a.created_at", params, dialect=self.dialect)
        return self.conn.execute(f"select count(*) from {_answers_from(q)} where {where}", params).fetchone()[0]

    def export_rows(self, q: ReportQuery, survey_id: int, chunk: int = 500) -> Iterator[tuple[Any, ...]]:
        """Answers with their prompt, trigger and event, by answer id, `chunk` rows per query.

        Keyset pagination: each chunk is its own short query, so memory stays constant and no
        read transaction is held open while a slow client downloads. An engine with server-side
        cursors (PostgreSQL: `storage.streams_rows`) runs the one query through a cursor instead,
        `chunk` rows per fetch: bounded memory too, and no re-planning of a query per chunk (its
        reader does not block writers).
        """
        if self.storage.streams_rows:
            params: list[Any] = []
            where = _where(q, survey_id, "a.created_at", params, dialect=self.dialect)
            with self.storage.streaming(self._export_sql(q, where) + " order by a.id", params, size=chunk * 4) as rows:
                yield from rows
            return
        after = 0
        while True:
            params: list[Any] = []
            # "+a.survey_id": walk the answers by primary key (the keyset), not by the survey index,
            # which would sort every remaining row again for each chunk.
            where = _where(q, survey_id, "a.created_at", params, dialect=self.dialect).replace(
                "a.survey_id = ?", "+a.survey_id = ?", 1)
            rows = self.conn.execute(self._export_sql(q, where) + " and a.id > ? order by a.id limit ?",
                                     params + [after, chunk]).fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1][0]
            if len(rows) < chunk:
                return


def _funnel_of(closed: Iterable[tuple[str, Any, Any, int]], open_now: Sequence[int],
               matched: int | None) -> dict[str, Any]:
    """The funnel from closed prompts' (status, delivered, shown, n) rows and the open prompts'
    (count, delivered, shown): the rollups' two paths (per day, per property value) end here."""
    counts = {"answered": 0, "dismissed": 0, "expired": 0, "cancelled": 0}
    delivered = shown = 0
    for status, d, sh, n in closed:
        counts[status] += n
        delivered += n if d else 0
        shown += n if sh else 0
    still_open, odelivered, oshown = open_now
    issued = sum(counts.values()) - counts["cancelled"] + still_open  # a cancelled prompt never went out
    cancelled = counts.pop("cancelled")
    return {"events_matched": matched, "issued": issued, "delivered": delivered + odelivered,
            "shown": shown + oshown, **counts, "open": still_open, "cancelled": cancelled}


def _export_select(q: ReportQuery, where: str) -> str:
    return (f"select a.id, {_iso('a.created_at')}, a.survey_id, a.score, a.comment, a.user_id, "
            f"{_iso('a.followed_up_at')}, a.prompt_id, p.status, p.locale, p.variant, {_iso('p.created_at')}, "
            f"{_iso('p.shown_at')}, p.trigger_id, t.name, e.event_id, e.name, {_iso('e.timestamp')}, e.properties "
            f"from {_answers_from(q, events=True)} left join triggers t on t.id = p.trigger_id where {where}")


def _iso(col: str) -> str:
    """An epoch-seconds column as ISO 8601 UTC with milliseconds, formatted by SQLite (fast)."""
    return f"strftime('%Y-%m-%dT%H:%M:%fZ', {col}, 'unixepoch')"


EXPORT_COLUMNS = ("answer_id", "answered_at", "survey_id", "score", "comment", "user_id", "followed_up_at",
                  "prompt_id", "prompt_status", "locale", "variant", "prompted_at", "shown_at", "trigger_id",
                  "trigger_name", "event_id", "event_name", "event_timestamp", "properties")


def decode_properties(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw

"""Every SQL statement of the themes: a site's theme settings, each comment's stored themes, the
customers with a high-effort answer in a theme, and the theme.grown alerts sent."""
from __future__ import annotations

import json
from dataclasses import replace
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..core.report_filters import ReportQuery
from . import Storage, _in_lists
from .reports import Reports, _answers_from, _where

COMMENTED = "a.comment is not null and a.comment <> ''"


def theme_list(keys: Sequence[str]) -> str:
    """How a comment's themes are stored: "|delivery|waiting|" ("||" for none)."""
    return "|" + "|".join(keys) + "|"


def _needs_prompts(q: ReportQuery) -> bool:
    return bool(q.triggers or q.locale is not None or q.variant is not None or q.properties)


class ThemeStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # -- a site's settings ----------------------------------------------------------------------
    def config(self, site_id: int) -> dict[str, Any]:
        row = self.storage.one("select config from site_themes where site_id = ?", [site_id])
        return json.loads(row["config"]) if row else {"themes": {}}

    def save_config(self, site_id: int, config: dict[str, Any], now: float) -> None:
        self.update_config(site_id, lambda _old: config, now)

    def update_config(self, site_id: int, change: Callable[[dict[str, Any]], dict[str, Any]],
                      now: float) -> dict[str, Any]:
        """Read, change and write the site's settings in one transaction (two changes at once never
        lose one); an exception from `change` changes nothing."""
        with self.storage.write() as db:
            row = db.execute("select config from site_themes where site_id = ?", [site_id]).fetchone()
            config = change(json.loads(row[0]) if row else {"themes": {}})
            db.execute("insert into site_themes (site_id, config, updated_at) values (?, ?, ?) "
                       "on conflict (site_id) do update set config = excluded.config, updated_at = excluded.updated_at",
                       [site_id, json.dumps(config, sort_keys=True, separators=(",", ":")), now])
        return config

    # -- stored assignments ------------------------------------------------------------------------
    def unthemed(self, survey_id: int, version: str) -> list[tuple[int, str, float]]:
        """(answer id, comment, answered at) of the survey's comments with no themes of `version`."""
        return self.storage.db.execute(
            f"select a.id, a.comment, a.created_at from answers a left join comment_themes c on c.answer_id = a.id "
            f"where a.survey_id = ? and {COMMENTED} and "
            "(c.answer_id is null or c.version <> ? or c.answered_at <> a.created_at)",
            [survey_id, version]).fetchall()

    def store(self, survey_id: int, version: str, rows: Iterable[tuple[int, float, str | None, str]],
              chunk: int = 2000) -> int:
        """Upsert (answer id, answered at, primary theme, theme list) rows, in short transactions."""
        batch: list[list[Any]] = []
        done = 0

        def flush() -> None:
            with self.storage.write(durable=False) as db:  # a cache: recomputed if a crash loses it
                for r in batch:
                    db.execute(
                        "insert into comment_themes (answer_id, survey_id, version, answered_at, primary_theme, themes) "
                        "values (?, ?, ?, ?, ?, ?) on conflict (answer_id) do update set survey_id = excluded.survey_id, "
                        "version = excluded.version, answered_at = excluded.answered_at, "
                        "primary_theme = excluded.primary_theme, themes = excluded.themes", r)
            batch.clear()

        for answer_id, answered_at, primary, themes in rows:
            batch.append([answer_id, survey_id, version, answered_at, primary, themes])
            done += 1
            if len(batch) >= chunk:
                flush()
        if batch:
            flush()
        return done

    def forget_orphans(self, survey_id: int) -> int:
        """Stored themes of answers that are gone (erased, deleted by retention)."""
        with self.storage.write(durable=False) as db:
            return db.execute("delete from comment_themes where survey_id = ? and not exists "
                              "(select 1 from answers a where a.id = comment_themes.answer_id)", [survey_id]).rowcount

    def count_stored(self, survey_id: int) -> int:
        return self.storage.db.execute("select count(*) from comment_themes where survey_id = ?",
                                       [survey_id]).fetchone()[0]

    def count_commented(self, survey_id: int) -> int:
        return self.storage.db.execute(f"select count(*) from answers a where a.survey_id = ? and {COMMENTED}",
                                       [survey_id]).fetchone()[0]

    # -- what the report reads ---------------------------------------------------------------------
    def facts(self, q: ReportQuery, survey_id: int) -> list[tuple[int, int, float, str]]:
        """(answer id, score, answered at, theme list) of the filtered commented answers."""
        params: list[Any] = []
        where = _where(q, survey_id, "a.created_at", params)
        # The prompts (and events) only when a filter needs them: the join by the prompt's text key
        # is most of the cost at 100,000 comments.
        joins = _answers_from(q) if _needs_prompts(q) else "answers a"
        return self.storage.db.execute(
            f"select a.id, a.score, a.created_at, c.themes "
            f"from {joins} join comment_themes c on c.answer_id = a.id where {where} and {COMMENTED}",
            params).fetchall()

    def comments(self, answer_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for chunk, marks in _in_lists(list(answer_ids)):
            for r in self.storage.db.execute(
                    f"select id, score, comment, created_at, user_id from answers where id in ({marks})", chunk):
                out[r[0]] = {"answer_id": r[0], "score": r[1], "comment": r[2], "created_at": r[3], "user_id": r[4]}
        return out

    def uncovered(self, q: ReportQuery, survey_id: int) -> list[tuple[int, str]]:
        """(answer id, comment) of the filtered comments no theme covers, by id."""
        params: list[Any] = []
        where = _where(q, survey_id, "a.created_at", params)
        joins = _answers_from(q) if _needs_prompts(q) else "answers a"
        return self.storage.db.execute(
            f"select a.id, a.comment from {joins} join comment_themes c on c.answer_id = a.id "
            f"where {where} and {COMMENTED} and c.primary_theme is null order by a.id", params).fetchall()

    # -- customers with the same problem ---------------------------------------------------------------
    def high_effort_answers(self, q: ReportQuery, survey_id: int, high_effort_max: int, theme: str | None,
                            answer_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """The filtered high-effort answers (in `theme`, or among `answer_ids`), newest first, with
        the trigger and the user's traits."""
        if theme is None and answer_ids is None:
            view = Reports(self.storage).view(q, survey_id)
            if view is not None:  # the answers passing q from the report columns, no JSON read per answer
                answer_ids = view.answer_ids(q, high_effort_max).tolist()
                q = replace(q, properties=(), start=None, end=None, triggers=())  # already applied
        params: list[Any] = []
        where = _where(q, survey_id, "a.created_at", params) + " and a.score <= ?"
        params.append(high_effort_max)
        joins = _answers_from(q)
        if theme is not None:
            joins += " join comment_themes c on c.answer_id = a.id"
            where += " and c.themes like ?"
            params.append(f"%|{theme}|%")
        rows: list[dict[str, Any]] = []
        sql = (f"select a.id as answer_id, a.user_id, a.score, a.comment, a.created_at, a.followed_up_at, "
               f"p.trigger_id, t.name as trigger_name, u.traits from {joins} "
               "left join triggers t on t.id = p.trigger_id "
               "left join users u on u.site_id = a.site_id and u.user_id = a.user_id "
               f"where {where}")
        if answer_ids is None:
            rows = self.storage.all(sql + " order by a.created_at desc, a.id desc", params)
        else:
            for chunk, marks in _in_lists(list(answer_ids)):
                rows += self.storage.all(sql + f" and a.id in ({marks})", params + chunk)
            rows.sort(key=lambda r: (-r["created_at"], -r["answer_id"]))
        return rows

    def set_followed_up(self, answer_ids: Sequence[int], when: float | None) -> int:
        """The at-risk list's "followed up" state (answers.followed_up_at), for many answers at once."""
        changed = 0
        with self.storage.write() as db:
            for chunk, marks in _in_lists(list(answer_ids)):
                changed += db.execute(f"update answers set followed_up_at = ? where id in ({marks})",
                                      [when, *chunk]).rowcount
        return changed

    # -- theme.grown ------------------------------------------------------------------------------------
    def surveys_with_webhook(self, event_type: str) -> list[dict[str, Any]]:
        """Surveys of the sites that have a webhook for `event_type`."""
        rows = self.storage.all("select s.id, s.site_id, s.metric, w.events from surveys s "
                                "join webhooks w on w.site_id = s.site_id order by s.id")
        seen: dict[int, dict[str, Any]] = {}
        for r in rows:
            events = json.loads(r["events"]) if isinstance(r["events"], str) else r["events"]
            if event_type in events and r["id"] not in seen:
                seen[r["id"]] = {"id": r["id"], "site_id": r["site_id"], "metric": r["metric"]}
        return list(seen.values())

    def answers_between(self, survey_id: int, start: float, end: float) -> int:
        return self.storage.db.execute("select count(*) from answers where survey_id = ? and created_at >= ? "
                                       "and created_at < ?", [survey_id, start, end]).fetchone()[0]

    def recent_alert(self, survey_id: int, theme: str, since: float) -> bool:
        return self.storage.one("select 1 as x from theme_alerts where survey_id = ? and theme = ? and period_end > ?",
                                [survey_id, theme, since]) is not None

    def record_alert(self, db: Any, site_id: int, survey_id: int, theme: str, period_end: float, now: float) -> bool:
        """Inside the caller's transaction; False when this alert was already sent."""
        return db.execute("insert into theme_alerts (survey_id, theme, period_end, site_id, created_at) "
                          "values (?, ?, ?, ?, ?) on conflict (survey_id, theme, period_end) do nothing",
                          [survey_id, theme, period_end, site_id, now]).rowcount == 1

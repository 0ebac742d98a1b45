"""Themes of a survey's comments, and the customers who share a problem: the core's matching
(core/themes.py) over the stored answers (storage/themes.py).

Each comment's themes are stored lazily with a version key (`ensure_themed`): the first report
after comments arrive themes only those; a change of the site's theme settings (or of the
lexicon) changes the key, and the next report themes the survey's comments again (10,000 in
well under a second, bench/bench_themes.py). Shared by the HTTP API (api/themes.py), the CLI
(`ces themes`), the theme.grown check (theme_alerts.py) and the fix-first ranking of the
drivers (`themes_of_answers`).
"""
from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator, Sequence
from typing import Any

from .core import csv_cells
from .core.metrics import get_metric
from .core.report_filters import ReportQuery
from .core.scoring import score_from_distribution, wilson_interval
from .core.theme_growth import Growth, growth
from .core.themes import Matcher, Theme, check_config, effective_themes, version_key
from .core.themes_discovery import Discovered, discover
from .core.time_zones import day_number
from .reports import high_effort_max, iso, period_start
from .storage import Storage
from .storage.themes import ThemeStore, theme_list

REPRESENTATIVE = 3
_matchers: dict[str, Matcher] = {}  # by version key: the compiled themes and their word memo


# -- settings and the stored assignment ------------------------------------------------------------

def site_config(storage: Storage, site_id: int) -> dict[str, Any]:
    return ThemeStore(storage).config(site_id)


def site_themes(storage: Storage, site_id: int) -> tuple[list[Theme], str]:
    config = site_config(storage, site_id)
    return effective_themes(config), version_key(config)


def matcher(config: dict[str, Any]) -> Matcher:
    key = version_key(config)
    m = _matchers.get(key)
    if m is None:
        if len(_matchers) > 32:
            _matchers.clear()
        m = _matchers[key] = Matcher.compile(effective_themes(config))
    return m


def save_site_config(storage: Storage, site_id: int, config: dict[str, Any], now: float) -> dict[str, Any]:
    """Validate (ValueError) and store; the next report themes the site's comments again."""
    clean = check_config(config)
    ThemeStore(storage).save_config(site_id, clean, now)
    return clean


def ensure_themed(storage: Storage, survey: dict[str, Any]) -> int:
    """Theme the survey's comments that have no themes of the current version; how many."""
    store = ThemeStore(storage)
    config = store.config(survey["site_id"])
    version = version_key(config)
    todo = store.unthemed(survey["id"], version)
    if todo:
        m = matcher(config)
        rows = []
        for answer_id, comment, answered_at in todo:
            match = m.match(comment)
            rows.append((answer_id, answered_at, match.primary, theme_list(match.themes)))
        store.store(survey["id"], version, rows)
    if _orphans_due(survey["id"]) and store.count_stored(survey["id"]) > store.count_commented(survey["id"]):
        store.forget_orphans(survey["id"])
    return len(todo)


_orphan_checks: dict[int, float] = {}
ORPHAN_CHECK_EVERY = 600.0  # seconds: erasures are rare, and a stale row is never read (joined on answers)


def _orphans_due(survey_id: int) -> bool:
    """Whether to look for stored themes of erased answers now (at most every 10 minutes a survey)."""
    now = time.monotonic()
    if now - _orphan_checks.get(survey_id, -ORPHAN_CHECK_EVERY) < ORPHAN_CHECK_EVERY:
        return False
    _orphan_checks[survey_id] = now
    return True


def themes_of_answers(storage: Storage, survey: dict[str, Any], q: ReportQuery | None = None
                      ) -> dict[int, tuple[str, ...]]:
    """Which themes each commented answer of the survey is in (within the filters `q`): answer id →
    theme keys, primary first; () for a comment no theme covers. Answers without a comment are
    absent. Themes the site merged are under the theme they were merged into."""
    ensure_themed(storage, survey)
    out: dict[int, tuple[str, ...]] = {}
    for answer_id, _score, _at, themes in ThemeStore(storage).facts(q or ReportQuery(), survey["id"]):
        out[answer_id] = tuple(k for k in themes.split("|") if k)
    return out


# -- the report ---------------------------------------------------------------------------------------

_period_memo: dict[tuple[int, str, str], str] = {}


def _period(ts: float, q: ReportQuery) -> str:
    """The start of the report period holding `ts` (an ISO date), in the query's zone. Memoised by
    the quarter hour: every zone's midnight falls on one (offsets are multiples of 15 minutes)."""
    quarter = int(ts // 900)
    key = (quarter, q.tz, q.interval)
    hit = _period_memo.get(key)
    if hit is None:
        if len(_period_memo) > 100_000:
            _period_memo.clear()
        hit = _period_memo[key] = period_start(day_number(quarter * 900, q.tz), q.interval).isoformat()
    return hit


def _share(k: int, n: int) -> dict[str, Any]:
    if n == 0:
        return {"share": None, "ci": None}
    low, high = wilson_interval(k, n)
    return {"share": round(100 * k / n, 2), "ci": {"low": round(100 * low, 2), "high": round(100 * high, 2)}}


def _section(metric: str, key: str, label: str, kind: str, members: list[tuple[int, int, float]],
             threshold: int, q: ReportQuery, total: int, per_period: dict[str, int]) -> dict[str, Any]:
    counts: dict[int, int] = {}
    periods: dict[str, list[int]] = {}
    high = 0
    for _aid, score, at in members:
        counts[score] = counts.get(score, 0) + 1
        p = periods.setdefault(_period(at, q), [0, 0])
        p[0] += 1
        if score <= threshold:
            high += 1
            p[1] += 1
    trend = [{"start": start, "comments": c, "high_effort": h, "answers_with_comments": per_period.get(start, 0)}
             for start, (c, h) in sorted(periods.items())]
    change: Growth | None = None
    starts = sorted(per_period)
    if len(starts) >= 2:
        now_p, before_p = starts[-1], starts[-2]
        change = growth(periods.get(now_p, [0, 0])[1], periods.get(before_p, [0, 0])[1],
                        per_period[now_p], per_period[before_p])
    return {"key": key, "label": label, "kind": kind, "comments": len(members),
            "share_of_comments": round(100 * len(members) / total, 2) if total else None,
            "high_effort": high, "high_effort_share": _share(high, len(members)),
            "score": score_from_distribution(metric, counts).as_dict(),
            "trend": {"interval": q.interval, "periods": trend,
                      "latest_vs_previous": None if change is None else change.as_dict()},
            "representative": []}


def _representative(storage: Storage, m: Matcher | None, key: str, members: list[tuple[int, int, float]],
                    threshold: int, q: ReportQuery) -> list[dict[str, Any]]:
    """Up to three comments that say the theme most plainly: high-effort first, then the most words
    of the theme, then the newest (among the theme's 200 newest)."""
    newest = sorted(members, key=lambda r: (-r[2], -r[0]))[:200]
    texts = ThemeStore(storage).comments([r[0] for r in newest])

    def weight(aid: int) -> int:
        if m is None:
            return 0
        match = m.match(texts[aid]["comment"])
        return dict(zip(match.themes, match.weights)).get(key, 0)

    ranked = sorted(newest, key=lambda r: (r[1] > threshold, -weight(r[0]), -r[2], -r[0]))[:REPRESENTATIVE]
    return [{"answer_id": aid, "score": score, "comment": texts[aid]["comment"], "answered_at": iso(at, q.tz)}
            for aid, score, at in ranked if aid in texts]


def _discovered(storage: Storage, survey: dict[str, Any], q: ReportQuery) -> list[tuple[Discovered, list[int]]]:
    rows = ThemeStore(storage).uncovered(q, survey["id"])
    found = discover([text for _aid, text in rows])
    return [(d, [rows[i][0] for i in d.members]) for d in found]


def theme_report(storage: Storage, survey: dict[str, Any], q: ReportQuery) -> dict[str, Any]:
    """Every theme of the survey's comments (filtered by `q`): size, high-effort share, score with
    its interval, trend, representative comments; then the themes found among the rest."""
    metric = survey["metric"]
    threshold = high_effort_max(metric, q.high_effort_max)
    ensure_themed(storage, survey)
    config = site_config(storage, survey["site_id"])
    themes = effective_themes(config)
    m = matcher(config)
    facts = ThemeStore(storage).facts(q, survey["id"])
    by_theme: dict[str, list[tuple[int, int, float]]] = {t.key: [] for t in themes}
    per_period: dict[str, int] = {}
    unthemed = 0
    for answer_id, score, at, keys in facts:
        per_period[_period(at, q)] = per_period.get(_period(at, q), 0) + 1
        ks = [k for k in keys.split("|") if k]
        if not ks:
            unthemed += 1
        for k in ks:
            if k in by_theme:
                by_theme[k].append((answer_id, score, at))
    total = len(facts)
    sections = []
    for t in themes:
        members = by_theme[t.key]
        if not members:
            continue
        s = _section(metric, t.key, t.label, t.kind, members, threshold, q, total, per_period)
        s["representative"] = _representative(storage, m, t.key, members, threshold, q)
        sections.append(s)
    sections.sort(key=lambda s: (-s["high_effort"], -s["comments"], s["key"]))
    found = []
    scores = {aid: (score, at) for aid, score, at, _k in facts}
    for d, ids in _discovered(storage, survey, q):
        members = [(aid, *scores[aid]) for aid in ids if aid in scores]
        s = _section(metric, d.key, d.label, "discovered", members, threshold, q, total, per_period)
        s["representative"] = _representative(storage, None, d.key, members, threshold, q)
        s["suggested_terms"] = list(d.suggested_terms)
        found.append(s)
    return {"survey_id": survey["id"], "metric": metric, "headline_name": get_metric(metric).headline_name,
            "filters": q.describe(), "version": version_key(config), "high_effort_max": threshold,
            "comments": total, "themed": total - unthemed, "unthemed": unthemed,
            "themes": sections, "discovered": found}


def themed_comments(storage: Storage, survey: dict[str, Any], q: ReportQuery, theme: str | None) -> dict[str, Any]:
    """The filtered comments with their themes (primary first), newest first; in `theme` only when
    given (a discovered `found-…` one included)."""
    ensure_themed(storage, survey)
    facts = ThemeStore(storage).facts(q, survey["id"])
    rows = [(aid, [k for k in keys.split("|") if k]) for aid, _s, _at, keys in facts]
    if theme is not None and theme.startswith("found-"):
        ids = set(next((ids for d, ids in _discovered(storage, survey, q) if d.key == theme), []))
        rows = [r for r in rows if r[0] in ids]
    elif theme is not None:
        rows = [r for r in rows if theme in r[1]]
    order = {aid: (at, aid) for aid, _s, at, _k in facts}
    rows.sort(key=lambda r: order[r[0]], reverse=True)
    start = (q.page - 1) * q.page_size
    page = rows[start:start + q.page_size]
    texts = ThemeStore(storage).comments([aid for aid, _k in page])
    return {"survey_id": survey["id"], "theme": theme, "filters": q.describe(), "page": q.page,
            "page_size": q.page_size, "total": len(rows),
            "comments": [{"answer_id": aid, "user_id": texts[aid]["user_id"], "score": texts[aid]["score"],
                          "comment": texts[aid]["comment"], "answered_at": iso(texts[aid]["created_at"], q.tz),
                          "themes": keys} for aid, keys in page if aid in texts]}


# -- customers with the same problem ----------------------------------------------------------------

def _high_effort_rows(storage: Storage, survey: dict[str, Any], q: ReportQuery, theme: str | None) -> list[dict[str, Any]]:
    threshold = high_effort_max(survey["metric"], q.high_effort_max)
    store = ThemeStore(storage)
    if theme is not None:
        ensure_themed(storage, survey)
    if theme is not None and theme.startswith("found-"):
        ids = next((ids for d, ids in _discovered(storage, survey, q) if d.key == theme), [])
        return store.high_effort_answers(q, survey["id"], threshold, None, ids)
    return store.high_effort_answers(q, survey["id"], threshold, theme)


def _by_customer(rows: list[dict[str, Any]], followed_up: str) -> list[dict[str, Any]]:
    """One row per customer: their newest high-effort answer in the list, and how many they gave."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:  # newest first
        c = out.get(r["user_id"])
        if c is None:
            out[r["user_id"]] = c = {**r, "answers": 0, "answer_ids": []}
        c["answers"] += 1
        c["answer_ids"].append(r["answer_id"])
    customers = list(out.values())
    if followed_up == "false":
        customers = [c for c in customers if c["followed_up_at"] is None]
    elif followed_up == "true":
        customers = [c for c in customers if c["followed_up_at"] is not None]
    return customers


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _name(traits: dict[str, Any]) -> str | None:
    """The `name` trait, else `first_name` and `last_name` (the names sites commonly send)."""
    name = _text(traits.get("name"))
    if name is None:
        parts = [p for p in (_text(traits.get("first_name")), _text(traits.get("last_name"))) if p]
        name = " ".join(parts) or None
    return name


def _public(c: dict[str, Any], tz: str) -> dict[str, Any]:
    traits = c.get("traits") or {}
    return {"user_id": c["user_id"], "email": _text(traits.get("email")), "name": _name(traits), "traits": traits,
            "answer_id": c["answer_id"], "score": c["score"], "comment": c["comment"],
            "answered_at": iso(c["created_at"], tz), "followed_up_at": iso(c["followed_up_at"], tz),
            "contacted": c["followed_up_at"] is not None, "high_effort_answers": c["answers"],
            "trigger": {"id": c["trigger_id"], "name": c["trigger_name"]}}


def customers(storage: Storage, survey: dict[str, Any], q: ReportQuery, theme: str | None) -> dict[str, Any]:
    """Customers with a high-effort answer in `theme` (None: any) within the filters, newest first."""
    rows = _by_customer(_high_effort_rows(storage, survey, q, theme), q.followed_up)
    start = (q.page - 1) * q.page_size
    return {"survey_id": survey["id"], "theme": theme, "filters": q.describe(),
            "high_effort_max": high_effort_max(survey["metric"], q.high_effort_max), "followed_up": q.followed_up,
            "page": q.page, "page_size": q.page_size, "total": len(rows),
            "customers": [_public(c, q.tz) for c in rows[start:start + q.page_size]]}


CSV_COLUMNS = ("user_id", "email", "name", "score", "comment", "answered_at", "trigger_id", "trigger_name",
               "high_effort_answers", "contacted", "followed_up_at", "answer_id")


def customers_csv(storage: Storage, survey: dict[str, Any], q: ReportQuery, theme: str | None) -> Iterator[str]:
    """The whole list as CSV, formula-looking text made inert (core/csv_cells.py)."""
    rows = _by_customer(_high_effort_rows(storage, survey, q, theme), q.followed_up)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for c in rows:
        p = _public(c, q.tz)
        writer.writerow(csv_cells.row([p["user_id"], p["email"], p["name"], p["score"], p["comment"], p["answered_at"],
                                       p["trigger"]["id"], p["trigger"]["name"], p["high_effort_answers"],
                                       "yes" if p["contacted"] else "no", p["followed_up_at"], p["answer_id"]]))
    yield buf.getvalue()


def mark_contacted(storage: Storage, survey: dict[str, Any], q: ReportQuery, theme: str | None,
                   user_ids: Sequence[str] | None, contacted: bool, now: float) -> dict[str, Any]:
    """Mark (or unmark) the listed customers' high-effort answers in the theme as followed up: the
    same state the at-risk list shows. `user_ids` None: every customer of the list."""
    rows = _by_customer(_high_effort_rows(storage, survey, q, theme), "any")
    wanted = None if user_ids is None else set(user_ids)
    chosen = [c for c in rows if wanted is None or c["user_id"] in wanted]
    answer_ids = [aid for c in chosen for aid in c["answer_ids"]]
    changed = ThemeStore(storage).set_followed_up(answer_ids, now if contacted else None)
    return {"survey_id": survey["id"], "theme": theme, "contacted": contacted,
            "customers": len(chosen), "answers": changed, "user_ids": [c["user_id"] for c in chosen],
            "unknown_user_ids": sorted(wanted - {c["user_id"] for c in chosen}) if wanted is not None else []}

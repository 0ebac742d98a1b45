"""What drives effort and what to fix first, for one survey: counts from storage/insights.py,
ranked by the core (core/driver_ranking.py, core/fix_first.py). Shared by the API
(api/insights.py), the CLI report and the digest."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .core import driver_ranking, fix_first
from .core.report_filters import FilterError, ReportQuery
from .storage import Storage
from .storage import answer_props
from .storage.insights import InsightStore, bucket_traits
from .storage.reports import Reports

# A theme source: the survey's commented answers passing q -> their primary theme's label
# (NO_THEME for a comment no theme covers). From ces.themes (docs/insights.md, "Themes").
ThemeSource = Callable[[Storage, dict[str, Any], ReportQuery], dict[int, str]] | None
NO_THEME = "(no theme)"


def primary_themes(storage: Storage, survey: dict[str, Any], q: ReportQuery) -> dict[int, str]:
    """Each commented answer's primary theme, by label: one theme per answer, so that a theme's
    "rest" at a touchpoint is exactly the other commented answers there."""
    from . import themes
    labels = {t.key: t.label for t in themes.site_themes(storage, survey["site_id"])[0]}
    return {answer_id: (labels.get(keys[0], keys[0]) if keys else NO_THEME)
            for answer_id, keys in themes.themes_of_answers(storage, survey, q).items()}


def theme_source() -> ThemeSource:
    """The themes of the answers (ces.themes)."""
    return primary_themes


def parse_limits(extras: dict[str, Any]) -> tuple[int, float]:
    """`min_n` and `fdr` from the query's extra parameters; FilterError naming the bad one."""
    min_n, fdr = driver_ranking.DEFAULT_MIN_N, driver_ranking.DEFAULT_FDR
    if "min_n" in extras:
        try:
            min_n = int(extras["min_n"])
        except ValueError:
            raise FilterError("min_n", "expected an integer") from None
        if not 2 <= min_n <= 1_000_000:
            raise FilterError("min_n", "must be between 2 and 1000000")
    if "fdr" in extras:
        try:
            fdr = float(extras["fdr"])
        except ValueError:
            raise FilterError("fdr", "expected a number") from None
        if not 0 < fdr < 1 or fdr != fdr:
            raise FilterError("fdr", "must be between 0 and 1 (exclusive)")
    return min_n, fdr


def _check(q: ReportQuery) -> None:
    if q.locale is not None or q.variant is not None:
        field = "locale" if q.locale is not None else "variant"
        raise FilterError(field, "not available for drivers and fix-first (use from, to, trigger and properties)")


def _prepare(storage: Storage, now: float) -> None:
    storage.expire_due(now)
    reports = Reports(storage)
    reports.refresh_rollups()
    if not reports.props_ready:  # the ranking reads answer_props alone: not while it is being filled
        raise answer_props.CatchingUp(answer_props.behind(storage.db.conn))


def _trait_counts(store: InsightStore, q: ReportQuery, survey: dict[str, Any], by_trigger: bool
                  ) -> dict[tuple[Any, ...], dict[tuple[str, str], dict[int, int]]]:
    """Traits as drivers: each answer counted under its user's current traits."""
    out: dict[tuple[Any, ...], dict[tuple[str, str], dict[int, int]]] = {}
    if not store.has_traits(survey["site_id"]):
        return out
    rows = store.user_score_counts(q, survey["id"], by_trigger)
    users = {r[-3] for r in rows}
    traits = {u: bucket_traits(t) for u, t in store.traits(survey["site_id"], users).items()}
    for row in rows:
        *head, user_id, score, n = row
        for key, kind, value in traits.get(user_id, ()):
            dist = out.setdefault((*head, key), {}).setdefault((kind, value), {})
            dist[score] = dist.get(score, 0) + n
    return out


def ranking(storage: Storage, survey: dict[str, Any], q: ReportQuery, now: float) -> dict[str, Any]:
    """Every event property and user trait ranked (core/driver_ranking.py)."""
    _check(q)
    min_n, fdr = parse_limits(q.extras)
    _prepare(storage, now)
    store = InsightStore(storage)
    counts: dict[tuple[str, str], dict[tuple[str, str], dict[int, int]]] = {}
    for key, kind, value, score, n in store.property_counts(q, survey["id"]):
        dist = counts.setdefault(("event", key), {}).setdefault((kind, value), {})
        dist[score] = dist.get(score, 0) + n
    for (key,), by_value in _trait_counts(store, q, survey, by_trigger=False).items():
        counts[("trait", key)] = by_value
    ranked = driver_ranking.rank_properties(survey["metric"], counts, min_n, fdr)
    return {"survey_id": survey["id"], "metric": survey["metric"], "filters": q.describe(), "min_n": min_n,
            "fdr": fdr, "tests": sum(1 for p in ranked for v in p.values if v.tested),
            "properties": [p.as_dict() for p in ranked]}


def fix_first_items(storage: Storage, survey: dict[str, Any], q: ReportQuery, now: float,
                    themes: ThemeSource = None, limit: int = 50) -> dict[str, Any]:
    """One ranked list of touchpoint × driver (× theme) items (core/fix_first.py)."""
    _check(q)
    min_n, fdr = parse_limits(q.extras)
    _prepare(storage, now)
    store = InsightStore(storage)
    reports = store.reports  # one Reports: the report columns are loaded once for both
    groups: dict[tuple[int, str, str], dict[tuple[str, str], dict[int, int]]] = {}
    for trigger_id, key, kind, value, score, n in store.property_counts(q, survey["id"], by_trigger=True):
        dist = groups.setdefault((trigger_id, "event", key), {}).setdefault((kind, value), {})
        dist[score] = dist.get(score, 0) + n
    for (trigger_id, key), by_value in _trait_counts(store, q, survey, by_trigger=True).items():
        groups[(trigger_id, "trait", key)] = by_value
    touch: dict[tuple[str, str], dict[int, int]] = {}
    for _day, trigger_id, score, n in reports.by_day_and_trigger(q, survey["id"]):
        dist = touch.setdefault(("touchpoint", str(trigger_id)), {})
        dist[score] = dist.get(score, 0) + n
    groups[(0, "touchpoint", "")] = touch
    if themes is not None:
        _add_themes(groups, store, storage, survey, q, themes)
    items = fix_first.rank_items(survey["metric"], groups, min_n, fdr)
    names = reports.triggers_by_id(sorted({i.trigger_id for i in items if i.trigger_id} |
                                          {int(i.row.value) for i in items if i.dimension == "touchpoint"}))
    out = []
    for item in items[:limit]:
        d = item.as_dict()
        d["theme"] = None
        if item.dimension == "touchpoint":  # the touchpoint itself, within the survey
            d["trigger_id"], d["key"], d["value"] = int(item.row.value) or None, None, None
        elif item.dimension == "theme":  # a theme within its touchpoint
            d["theme"], d["key"], d["value"] = item.row.value, None, None
        elif item.dimension.startswith("theme:"):  # a driver value within a theme at its touchpoint
            d["dimension"], d["theme"] = "event", item.dimension.split(":", 1)[1]
        t = names.get(d["trigger_id"] or 0, {})
        d["touchpoint"] = t.get("name")
        out.append(d)
    return {"survey_id": survey["id"], "metric": survey["metric"], "filters": q.describe(), "min_n": min_n,
            "fdr": fdr, "themes": themes is not None, "total": len(items), "items": out}


def _add_themes(groups: dict[tuple[int, str, str], dict[tuple[str, str], dict[int, int]]], store: InsightStore,
                storage: Storage, survey: dict[str, Any], q: ReportQuery, themes: ThemeSource) -> None:
    """Touchpoint × theme items (each primary theme against the touchpoint's other commented
    answers) and touchpoint × theme × driver items (a driver value within a theme's answers at a
    touchpoint, against the rest of them carrying the property)."""
    assert themes is not None
    by_answer = themes(storage, survey, q)
    if not by_answer:
        return
    facts = {answer_id: (trigger_id, score)
             for answer_id, trigger_id, score in store.answer_scores(q, survey["id"], list(by_answer))}
    for answer_id, (trigger_id, score) in facts.items():
        dist = groups.setdefault((trigger_id, "theme", ""), {}).setdefault(("theme", by_answer[answer_id]), {})
        dist[score] = dist.get(score, 0) + 1
    for answer_id, key, kind, value in store.answer_driver_values(list(facts)):
        trigger_id, score = facts[answer_id]
        theme = by_answer[answer_id]
        if theme == NO_THEME:
            continue
        dist = groups.setdefault((trigger_id, f"theme:{theme}", key), {}).setdefault((kind, value), {})
        dist[score] = dist.get(score, 0) + 1

"""Alerts and digests of a site, sent as signed webhooks (`score.dropped`, `digest`) through the
webhook outbox: decided by core/score_alerts.py, scores from the rollups, drivers from
driver_report.py. `run()` is what the periodic job (alerts_job.py) and
`POST /api/v1/sites/<id>/alerts/run` call.

Each notice is recorded (`insight_notices`) in the same transaction as its outbox rows, keyed by
site, kind, survey and period end: a period is announced once, whoever runs the job and however
often.
"""
from __future__ import annotations

import json
from typing import Any

from . import driver_report, webhooks
from .core import score_alerts
from .core.compact_json import compact_json
from .core.report_filters import ReportQuery
from .core.scoring import Score, compare, score_from_distribution
from .core.time_zones import local_date
from .services import Services
from .storage import Storage
from .storage.insights import InsightStore
from .storage.reports import Reports
from .storage.webhooks import WebhookStore

DROP, DIGEST = "score.dropped", "digest"


def theme_counts(storage: Storage, survey: dict[str, Any], q: ReportQuery) -> list[tuple[str, int]]:
    """The period's commented answers per primary theme (ces.themes), most first; none for
    comments no theme covers."""
    counts: dict[str, int] = {}
    for label in driver_report.primary_themes(storage, survey, q).values():
        if label != driver_report.NO_THEME:
            counts[label] = counts.get(label, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def site_settings(settings: Any) -> score_alerts.AlertSettings:
    if isinstance(settings, str):
        settings = json.loads(settings or "{}")
    try:
        return score_alerts.settings_from_dict((settings or {}).get("alerts"))
    except score_alerts.SettingsError:  # only valid settings are stored (PUT validates)
        return score_alerts.AlertSettings()


def _score(storage: Storage, survey: dict[str, Any], start: float, end: float, tz: str) -> Score:
    q = ReportQuery(start=start, end=end, tz=tz)
    return score_from_distribution(survey["metric"], Reports(storage).distribution(q, survey["id"]))


def _label(p: score_alerts.Periods, tz: str) -> str:
    first = local_date(p.start, tz)
    last = local_date(p.end - 1, tz)
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _period_dict(start: float, end: float) -> dict[str, Any]:
    from .reports import iso
    return {"from": iso(start), "to": iso(end)}


def _hooks(store: WebhookStore, storage: Storage, site_id: int, kind: str) -> list[int]:
    return [h["id"] for h in store.for_site(storage.db, site_id) if kind in h["events"]]


def _send(services: Services, site_id: int, kind: str, survey_id: int, period_end: float, hooks: list[int],
          body: dict[str, Any], now: float) -> bool:
    """Record the notice and queue it to `hooks` in one transaction; False when already sent."""
    store, insights = WebhookStore(services.storage), InsightStore(services.storage)
    payload = compact_json(body)
    with services.storage.write() as db:
        if not insights.claim_notice(db, site_id, kind, survey_id, period_end, now, payload):
            return False
        for hook_id in hooks:
            store.enqueue(db, hook_id, site_id, kind, webhooks.new_msg_id(), payload, now)
    webhooks.notify(services)
    return True


def check_drops(services: Services, site: dict[str, Any], cfg: score_alerts.AlertSettings, tz: str,
                now: float, hooks: list[int]) -> list[dict[str, Any]]:
    storage = services.storage
    p = score_alerts.drop_periods(now, tz, cfg.score_dropped.period_days)
    sent = []
    for survey in InsightStore(storage).site_surveys(site["id"]):
        if survey["status"] != "active":
            continue
        previous = _score(storage, survey, p.previous_start, p.start, tz)
        current = _score(storage, survey, p.start, p.end, tz)
        d = score_alerts.dropped(previous, current, cfg.score_dropped.min_n)
        if d is None:
            continue
        text = score_alerts.drop_text(survey["name"], _label(p, tz), d)
        body = {"type": DROP, "timestamp": webhooks._iso(now), "text": text,
                "data": {"site_id": site["id"], "survey_id": survey["id"], "survey_name": survey["name"],
                         "metric": survey["metric"], "period": _period_dict(p.start, p.end),
                         "previous_period": _period_dict(p.previous_start, p.start),
                         "score": current.as_dict(), "previous_score": previous.as_dict(),
                         "difference": d.as_dict(), "min_n": cfg.score_dropped.min_n}}
        if _send(services, site["id"], DROP, survey["id"], p.end, hooks, body, now):
            sent.append({"kind": DROP, "survey_id": survey["id"], "period_end": p.end})
    return sent


def digest_body(services: Services, site: dict[str, Any], cfg: score_alerts.AlertSettings, tz: str,
                p: score_alerts.Periods, now: float) -> dict[str, Any]:
    storage = services.storage
    surveys_text, surveys_data = [], []
    for survey in InsightStore(storage).site_surveys(site["id"]):
        current = _score(storage, survey, p.start, p.end, tz)
        if current.n == 0:
            continue
        previous = _score(storage, survey, p.previous_start, p.start, tz)
        difference = compare(previous, current) if previous.n else None
        q = ReportQuery(start=p.start, end=p.end, tz=tz)
        ranked = driver_report.ranking(storage, survey, q, now)["properties"]
        worst = sorted((r for r in ranked if r["most_effort"]), key=lambda r: r["most_effort"]["difference"])
        top = [(f"{r['key']} {r['most_effort']['value']}", r["most_effort"]["difference"])
               for r in worst][:cfg.digest.top]
        themes = theme_counts(storage, survey, q)[:cfg.digest.top]
        surveys_text.append({"name": survey["name"], "score": current, "difference": difference,
                             "drivers": top, "themes": themes})
        surveys_data.append({"survey_id": survey["id"], "name": survey["name"], "metric": survey["metric"],
                             "score": current.as_dict(), "previous_score": previous.as_dict(),
                             "difference": difference.as_dict() if difference else None,
                             "top_drivers": [{"driver": label, "difference": diff} for label, diff in top],
                             "top_themes": None if themes is None else [{"theme": t, "count": n} for t, n in themes]})
    label = _label(p, tz)
    return {"type": DIGEST, "timestamp": webhooks._iso(now),
            "text": score_alerts.digest_text(site["name"], label, surveys_text),
            "data": {"site_id": site["id"], "frequency": cfg.digest.frequency, "period": _period_dict(p.start, p.end),
                     "previous_period": _period_dict(p.previous_start, p.start), "surveys": surveys_data}}


def run(services: Services, now: float, site_id: int | None = None) -> list[dict[str, Any]]:
    """Check every site (or one): fire `score.dropped` and send the digest when due; what was sent."""
    storage = services.storage
    store = WebhookStore(storage)
    sent: list[dict[str, Any]] = []
    Reports(storage).refresh_rollups()  # the scores read the rollups: fold in the latest answers
    for sid, settings, tz in InsightStore(storage).sites():
        if site_id is not None and sid != site_id:
            continue
        cfg = site_settings(settings)
        site = storage.get_site(sid)
        tz = tz or "UTC"
        drop_hooks = _hooks(store, storage, sid, DROP)
        if cfg.score_dropped.enabled and drop_hooks:
            sent += check_drops(services, site, cfg, tz, now, drop_hooks)  # type: ignore[arg-type]
        digest_hooks = _hooks(store, storage, sid, DIGEST)
        p = score_alerts.digest_periods(now, tz, cfg.digest)
        if digest_hooks and p is not None:
            body = digest_body(services, site, cfg, tz, p, now)  # type: ignore[arg-type]
            if _send(services, sid, DIGEST, 0, p.end, digest_hooks, body, now):
                sent.append({"kind": DIGEST, "survey_id": None, "period_end": p.end})
    return sent

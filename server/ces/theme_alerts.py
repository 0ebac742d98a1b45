"""`theme.grown`: a signed webhook when a theme's high-effort comments rise significantly against
the previous period — checked periodically, in the background, and on demand
(`POST /api/v1/sites/<id>/themes/check-growth`).

A check compares, for every survey of a site with a `theme.grown` webhook, the last `days`
whole days (ending at the start of today in the site's zone) with the `days` before, theme by
theme (the test is core/theme_growth.py: exact, exposure-adjusted, Bonferroni over the themes
tested). An alert is sent once per survey, theme and period (table theme_alerts), and not again
for the same theme until a whole period has passed, however often the check runs. The delivery
goes through the webhooks' outbox (webhooks.py): signed, retried, replayable like any other.
"""
from __future__ import annotations

import logging
from typing import Any

from . import webhooks
from .core.compact_json import compact_json
from .core.report_filters import ReportQuery
from .core.theme_growth import growth
from .core.time_zones import day_start, site_time_zone
from .periodic import PeriodicJob
from .reports import default_high_effort_max, iso
from .services import Services
from .storage.themes import ThemeStore
from .storage.webhooks import WebhookStore
from . import themes as service

log = logging.getLogger(__name__)

EVENT = "theme.grown"
DAY = 86400


def check(services: Services, now: float, site_id: int | None = None, days: int = 7) -> list[dict[str, Any]]:
    """Run the check once (every site with a theme.grown webhook, or one); the alerts queued."""
    storage = services.storage
    store = ThemeStore(storage)
    sent: list[dict[str, Any]] = []
    for survey in store.surveys_with_webhook(EVENT):
        if site_id is not None and survey["site_id"] != site_id:
            continue
        full = storage.get_survey(survey["id"])
        if full is None:
            continue
        sent += _check_survey(services, full, now, days)
    if sent:
        webhooks.notify(services)
    return sent


def _check_survey(services: Services, survey: dict[str, Any], now: float, days: int) -> list[dict[str, Any]]:
    storage = services.storage
    store = ThemeStore(storage)
    tz = site_time_zone(storage.get_site(survey["site_id"]))
    end = day_start(now, tz)
    middle, start = end - days * DAY, end - 2 * days * DAY
    service.ensure_themed(storage, survey)
    threshold = default_high_effort_max(survey["metric"])
    counts: dict[str, list[int]] = {}
    exposure = [0, 0]  # commented answers: before, now
    for _aid, score, at, keys in store.facts(ReportQuery(start=start, end=end), survey["id"]):
        side = 1 if at >= middle else 0
        exposure[side] += 1
        if score <= threshold:
            for k in keys.split("|"):
                if k:
                    counts.setdefault(k, [0, 0])[side] += 1
    labels = {t.key: t for t in service.site_themes(storage, survey["site_id"])[0]}
    tested = [k for k in counts if k in labels]
    out = []
    for key in sorted(tested):
        before, now_count = counts[key]
        g = growth(now_count, before, exposure[1], exposure[0], tests=len(tested))
        if not g.significant or store.recent_alert(survey["id"], key, end - days * DAY):
            continue
        theme = labels[key]
        data = {"site_id": survey["site_id"], "survey_id": survey["id"],
                "theme": {"key": key, "label": theme.label, "kind": theme.kind},
                "period": {"from": iso(middle, tz), "to": iso(end, tz)},
                "previous_period": {"from": iso(start, tz), "to": iso(middle, tz)},
                "high_effort_max": threshold, **g.as_dict()}
        if _enqueue(services, survey, key, end, data, now):
            out.append(data)
    return out


def _enqueue(services: Services, survey: dict[str, Any], key: str, period_end: float, data: dict[str, Any],
             now: float) -> bool:
    """The alert's record and its deliveries, in one transaction (never one without the other)."""
    hooks = WebhookStore(services.storage)
    with services.storage.write() as db:
        if not ThemeStore(services.storage).record_alert(db, survey["site_id"], survey["id"], key, period_end, now):
            return False
        body = compact_json({"type": EVENT, "timestamp": iso(now), "data": data})
        for hook in hooks.for_site(db, survey["site_id"]):
            if EVENT in hook["events"]:
                hooks.enqueue(db, hook["id"], survey["site_id"], EVENT, webhooks.new_msg_id(), body, now)
    return True


class ThemeGrowthJob(PeriodicJob):
    """Runs `check()` in the background: first `first_run` seconds after start, then every `interval`."""
    name = "ces-theme-growth"

    def __init__(self, services: Services, interval: float, days: int = 7, first_run: float = 60.0) -> None:
        super().__init__(services.storage, interval, first_run)
        self.services, self.days = services, days

    def run_once(self) -> None:
        sent = check(self.services, self.services.now(), days=self.days)
        if sent:
            log.info("theme.grown: %d alert(s) queued", len(sent))

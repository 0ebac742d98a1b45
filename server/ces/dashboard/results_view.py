"""How the results page shows the report's numbers: units, rounding, bar widths, interval
strips, the chart's data and the URLs of the page's links. Presentation only: every number it
formats was computed by the report services."""
from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import current_app, url_for

from ..core.metrics import get_metric

NAMES = {"ces": "CES", "net_effort": "Net effort", "csat": "CSAT", "nps": "NPS", "ves": "VES",
         "mean_ease": "Mean ease"}
METRIC_LABELS = {"ces7": "CES 2.0 (1–7 agreement)", "ces5": "5-point CES", "csat5": "CSAT (1–5)",
                 "nps": "NPS (0–10)", "ves7": "VES (1–7 agreement)", "ease0_10": "Ease rating (0–10)",
                 "ease1_10": "Ease rating (1–10)"}
OPERATOR_LABELS = {"eq": "is", "ne": "is not", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "is one of",
                   "exists": "exists"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PROP = re.compile(r"^properties\.([^\[\]]+?)(?:\[([^\[\]]*)\])?$")


class Helpers:
    """Bound to one page: the site, survey, its query string and its context."""

    def __init__(self, site: dict[str, Any], survey: dict[str, Any], args: list[tuple[str, str]],
                 ctx: dict[str, Any]) -> None:
        self.site, self.survey, self.args, self.ctx = site, survey, args, ctx
        self.metric = get_metric(survey["metric"])
        self.kind = self.metric.headline_kind  # share | net | mean
        self.name = NAMES.get(self.metric.headline_name, self.metric.headline_name)
        self.metric_label = METRIC_LABELS.get(self.metric.key, self.metric.key)

    # -- numbers ------------------------------------------------------------------------------
    @property
    def unit(self) -> str:
        return {"share": "%", "net": "points", "mean": f"mean, {self.metric.min}–{self.metric.max}"}[self.kind]

    @property
    def axis(self) -> tuple[float, float]:
        if self.kind == "share":
            return 0.0, 100.0
        if self.kind == "net":
            return -100.0, 100.0
        return float(self.metric.min), float(self.metric.max)

    def score(self, value: float | None) -> str:
        if value is None:
            return "–"
        if self.kind == "share":
            return f"{value:.1f} %"
        if self.kind == "net":
            return f"{value:+.1f}"
        return f"{value:.2f}"

    def diff(self, value: float | None) -> str:
        if value is None:
            return "–"
        return f"{value:+.1f}" + (" pts" if self.kind != "mean" else "")

    def ci(self, ci: dict[str, Any] | None) -> str:
        if not ci or ci.get("low") is None:
            return "no interval"
        digits = 2 if self.kind == "mean" else 1
        return f"{ci['low']:.{digits}f} to {ci['high']:.{digits}f}"

    def pos(self, value: float | None, low: float | None = None, high: float | None = None) -> float:
        """A value's position on the score axis, in % of its width (for interval strips)."""
        lo, hi = (self.axis if low is None else (low, high))  # type: ignore[assignment]
        if value is None:
            return 0.0
        return max(0.0, min(100.0, (value - lo) / (hi - lo) * 100))

    @staticmethod
    def pct(part: int | None, whole: int | None) -> str:
        if not whole or part is None:
            return "–"
        return f"{100 * part / whole:.1f} %"

    @staticmethod
    def width(part: int | None, whole: int | None) -> float:
        if not whole or not part:
            return 0.0
        return round(max(0.5, 100 * part / whole), 2)

    @staticmethod
    def count(n: int | None) -> str:
        return "–" if n is None else f"{n:,}".replace(",", "\u202f")

    def point_label(self, score: int) -> str:
        if self.metric.point_labels:
            return self.metric.point_labels[score - self.metric.min]
        if score == self.metric.min:
            return self.metric.low_label
        if score == self.metric.max:
            return self.metric.high_label
        return ""

    def group(self, score: int) -> str:
        if score in self.metric.positive:
            return "pos"
        if score in self.metric.negative:
            return "neg"
        return "mid"

    def distribution(self, score: dict[str, Any]) -> list[dict[str, Any]]:
        counts = score.get("distribution") or {}
        n = score.get("n") or 0
        top = max([int(v) for v in counts.values()] or [0])
        return [{"score": s, "n": int(counts.get(str(s), 0)), "pct": self.pct(int(counts.get(str(s), 0)), n),
                 "width": self.width(int(counts.get(str(s), 0)), top), "label": self.point_label(s),
                 "group": self.group(s)} for s in self.metric.points]

    def funnel(self, f: dict[str, Any]) -> list[dict[str, Any]]:
        top = max([v for v in (f.get("events_matched"), f.get("issued")) if v] or [0])
        steps = [("Events matched", f.get("events_matched"), "events whose trigger asks this survey"),
                 ("Prompts issued", f.get("issued"), "the server decided to ask"),
                 ("Delivered", f.get("delivered"), "reached an open widget"),
                 ("Shown", f.get("shown"), "the prompt appeared on screen"),
                 ("Answered", f.get("answered"), "gave a score"),
                 ("Dismissed", f.get("dismissed"), "closed without a score"),
                 ("Expired", f.get("expired"), "never answered in time")]
        out = []
        for i, (label, n, hint) in enumerate(steps):
            base = f.get("shown") if i >= 4 else (steps[i - 1][1] if i else None)
            out.append({"label": label, "n": n, "hint": hint, "width": self.width(n, top),
                        "of": (self.pct(n, base) + (" of shown" if i >= 4 else " of previous")) if base else "",
                        "kind": "end" if i >= 4 else "step", "slug": label.lower().replace(" ", "-")})
        return out

    # -- the chart ----------------------------------------------------------------------------
    def chart(self, report: dict[str, Any]) -> dict[str, Any]:
        periods = report["over_time"]["periods"]
        low, high = self.axis
        return {"interval": report["over_time"]["interval"], "kind": self.kind, "name": self.name,
                "unit": self.unit, "min": low, "max": high, "tz": self.ctx.get("tz", "UTC"),
                "x": [p["start"] for p in periods], "y": [p["headline"] for p in periods],
                "lo": [(p["headline_ci"] or {}).get("low") for p in periods],
                "hi": [(p["headline_ci"] or {}).get("high") for p in periods],
                "n": [p["n"] for p in periods], "low_sample": [p["low_sample"] for p in periods]}

    @staticmethod
    def when(iso: str | None) -> str:
        """"12 Nov 2026, 01:30" from an ISO time as the report services write it (in the site's zone)."""
        if not iso or len(iso) < 16:
            return iso or ""
        return f"{int(iso[8:10])} {_MONTHS[int(iso[5:7]) - 1]} {iso[:4]}, {iso[11:16]}"

    @staticmethod
    def period_label(start: str, interval: str) -> str:
        d = date.fromisoformat(start)
        if interval == "month":
            return d.strftime("%b %Y")
        if interval == "week":
            return "Week of " + d.strftime("%d %b %Y")
        return d.strftime("%a %d %b %Y")

    # -- URLs ---------------------------------------------------------------------------------
    def url(self, args: list[tuple[str, str]], anchor: str = "") -> str:
        base = url_for("dashboard.survey_results", site_id=self.site["id"], survey_id=self.survey["id"])
        return base + ("?" + urlencode(args) if args else "") + (f"#{anchor}" if anchor else "")

    @property
    def here(self) -> str:
        return self.url(self.args)

    def without(self, *names: str, prefix: str | None = None) -> str:
        """This view without the given keys (or every key starting with `prefix`)."""
        keep = [(n, v) for n, v in self.args if n not in names and not (prefix and n.startswith(prefix))]
        return self.url(keep)

    def replacing(self, anchor: str = "", **values: Any) -> str:
        names = {k.replace("__", "."): v for k, v in values.items()}
        keep = [(n, v) for n, v in self.args if n not in names]
        keep += [(n, str(v)) for n, v in names.items() if v not in (None, "")]
        return self.url(keep, anchor)

    def export(self, fmt: str) -> str:
        shared = [(n, v) for n, v in self.args if n in ("from", "to", "trigger", "variant", "locale", "tz")
                  or n.startswith("properties.")]
        base = url_for("dashboard.survey_results_export", site_id=self.site["id"], survey_id=self.survey["id"],
                       fmt=fmt)
        return base + ("?" + urlencode(shared) if shared else "")

    def api_query(self) -> str:
        """The report API's query string for this view's filters (shown, so it can be scripted)."""
        shared = [(n, v) for n, v in self.args if n in ("from", "to", "trigger", "variant", "locale", "tz",
                                                         "interval", "driver", "buckets")
                  or n.startswith("properties.")]
        return urlencode(shared)

    def value(self, name: str) -> str:
        for n, v in self.args:
            if n == name:
                return v
        return ""

    def property_rows(self, prefix: str = "") -> list[dict[str, str]]:
        """The URL's property filters (of one comparison side with `prefix` 'a.'), as form rows."""
        rows = []
        for n, v in self.args:
            if not n.startswith(prefix + "properties."):
                continue
            m = _PROP.match(n[len(prefix):])
            if m:
                rows.append({"key": m.group(1), "op": m.group(2) or "eq", "value": v, "param": n,
                             "remove": self.without(n)})
        return rows

    def trigger_ids(self) -> set[str]:
        return set(self.value("trigger").split(",")) - {""}

    def user_url(self, user_id: str) -> str | None:
        """The page of one user (the decision log), when that page is installed."""
        for endpoint in ("dashboard.user", "dashboard.user_page", "dashboard.users"):
            if endpoint in current_app.view_functions:
                return url_for(endpoint, site_id=self.site["id"], user_id=user_id)
        return None

    @staticmethod
    def op_label(op: str) -> str:
        return OPERATOR_LABELS.get(op, op)

"""Which locale a prompt is shown in, and the survey texts in that locale."""
from __future__ import annotations

from typing import Any, Mapping

from .metrics import get_metric


def pick_locale(available: list[str], wanted: list[str | None], default: str) -> str:
    """The first wanted locale the survey has (exact, then by language), else the default."""
    for want in wanted:
        if not want:
            continue
        want = want.replace("_", "-")
        if want in available:
            return want
        lang = want.split("-")[0].lower()
        for have in available:
            if have.split("-")[0].lower() == lang:
                return have
    return default


def survey_texts(survey: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """Question, labels and follow-up in `locale`, falling back to the default locale, then to
    the metric's built-in English wording, field by field."""
    metric = get_metric(survey["metric"])
    texts = survey.get("texts") or {}
    chosen = texts.get(locale) or {}
    fallback = texts.get(survey.get("default_locale") or "en") or {}

    def text(key: str, builtin: Any) -> Any:
        return chosen.get(key) or fallback.get(key) or builtin

    return {
        "question": text("question", metric.question),
        "low_label": text("low_label", metric.low_label),
        "high_label": text("high_label", metric.high_label),
        "labels": list(text("labels", list(metric.point_labels))),
        "followup": text("followup", None),
    }

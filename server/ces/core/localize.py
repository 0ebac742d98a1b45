"""Which locale a prompt is shown in, and the survey texts in that locale."""
from __future__ import annotations

from typing import Any, Mapping

from .texts import LANGUAGES, builtin


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


def survey_locales(survey: Mapping[str, Any]) -> list[str]:
    """The locales a survey can be shown in: its own texts' locales, or, for a survey without
    texts, every language with built-in texts (texts.py)."""
    texts = survey.get("texts") or {}
    return list(texts) if texts else list(LANGUAGES)


def survey_texts(survey: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """Question, labels, follow-up and thanks in `locale`, field by field: the survey's text in
    `locale`, else in its default locale, else the built-in text in the default locale's language
    (in `locale`'s own when the survey has no texts at all), else English. `thanks` is None
    unless the survey wrote one: the widget then thanks in the user's language (texts.ui_strings).

    The follow-up is asked when the survey has a follow-up text or a `followup_max_score`; in
    the second case with the metric's built-in follow-up question.
    """
    metric = survey["metric"]
    texts = survey.get("texts") or {}
    chosen = texts.get(locale) or {}
    default_locale = survey.get("default_locale") or "en"
    fallback = texts.get(default_locale) or {}
    lang = (locale if not texts else default_locale).split("-")[0].lower()
    base = builtin(metric, lang)

    def text(key: str) -> Any:
        return chosen.get(key) or fallback.get(key) or base[key]

    wants_followup = bool(chosen.get("followup") or fallback.get("followup")) or \
        survey.get("followup_max_score") is not None
    return {
        "question": text("question"),
        "low_label": text("low_label"),
        "high_label": text("high_label"),
        "labels": list(text("labels")),
        "followup": text("followup") if wants_followup else None,
        "thanks": chosen.get("thanks") or fallback.get("thanks"),
    }

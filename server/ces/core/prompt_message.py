"""The `prompt` message a widget gets for a survey: the locale picked, the texts in it, the scale,
the buttons in the user's language. Pure, so the dashboard's live preview shows exactly what a
user would get (delivery.py sends it; dashboard/surveys.py previews a draft with it)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from . import protocol
from .localize import pick_locale, survey_locales, survey_texts
from .metrics import get_metric
from .texts import ui_language, ui_strings


def prompt_message(prompt_id: str, survey: Mapping[str, Any], wanted: Sequence[str | None],
                   expires_at: float) -> dict[str, Any]:
    """`wanted`: the user's locales, best first (their socket's, their `locale` trait)."""
    locale = pick_locale(survey_locales(survey), list(wanted), survey.get("default_locale") or "en")
    metric = get_metric(survey["metric"])
    texts = survey_texts(survey, locale)
    # The buttons speak the user's language even when the survey's texts are in another.
    ui = ui_strings(ui_language([*wanted, locale]), texts["thanks"])
    return protocol.prompt(prompt_id, survey, texts, locale, metric.min, metric.max, expires_at, ui)

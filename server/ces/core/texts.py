"""The built-in texts of every metric in the five languages the product speaks: en, fr, ro, de, es.

A survey created without texts asks with these, in the user's language (`localize.py`); a survey
with texts of its own uses its own. Written to be read by a native speaker: French puts a
non-breaking space before `?` and `!`; German addresses the user as "Sie", Spanish as "tú"
(as the widget's own buttons do); agreement statements (CES 2.0, VES) are in the first person,
as Gartner's statement is.

CSAT has three wordings of its five points, from the source article (`CSAT_PRESETS`):
`satisfaction` (very unsatisfied … very satisfied, the default), `experience` (bad … very good)
and `quality` (terrible … excellent). A survey picks one with `label_preset`.
"""
from __future__ import annotations

from typing import Any

LANGUAGES: tuple[str, ...] = ("en", "fr", "ro", "de", "es")
NBSP = "\u00a0"

# The widget's own strings (close, send, skip), sent with each prompt in the user's language so
# the widget carries none of them (its size budget): `ui_strings`.
UI = {
    "en": ("Close", "Send", "Skip"),
    "fr": ("Fermer", "Envoyer", "Passer"),
    "ro": ("Închide", "Trimite", "Omite"),
    "de": ("Schließen", "Senden", "Überspringen"),
    "es": ("Cerrar", "Enviar", "Omitir"),
}
THANKS = {"en": "Thank you!", "fr": f"Merci{NBSP}!", "ro": "Mulțumim!", "de": "Danke!", "es": "¡Gracias!"}

_AGREE = {
    "en": ("Strongly disagree", "Strongly agree"),
    "fr": ("Pas du tout d'accord", "Tout à fait d'accord"),
    "ro": ("Dezacord total", "Acord total"),
    "de": ("Stimme überhaupt nicht zu", "Stimme voll und ganz zu"),
    "es": ("Totalmente en desacuerdo", "Totalmente de acuerdo"),
}
_EASY = {
    "en": ("Very difficult", "Difficult", "Neutral", "Easy", "Very easy"),
    "fr": ("Très difficile", "Difficile", "Neutre", "Facile", "Très facile"),
    "ro": ("Foarte dificil", "Dificil", "Neutru", "Ușor", "Foarte ușor"),
    "de": ("Sehr schwierig", "Schwierig", "Neutral", "Einfach", "Sehr einfach"),
    "es": ("Muy difícil", "Difícil", "Neutral", "Fácil", "Muy fácil"),
}
_EASIER = {
    "en": "What could we have done to make it easier?",
    "fr": f"Qu'aurions-nous pu faire pour vous faciliter la tâche{NBSP}?",
    "ro": "Ce am fi putut face ca să vă fie mai ușor?",
    "de": "Was hätten wir tun können, um es Ihnen leichter zu machen?",
    "es": "¿Qué podríamos haber hecho para ponértelo más fácil?",
}
_IMPROVE = {
    "en": "What could we do better?",
    "fr": f"Que pourrions-nous améliorer{NBSP}?",
    "ro": "Ce am putea îmbunătăți?",
    "de": "Was könnten wir besser machen?",
    "es": "¿Qué podríamos mejorar?",
}

# preset -> language -> (question, five labels from the lowest point to the highest)
CSAT_PRESETS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "satisfaction": {
        "en": ("How satisfied are you with your experience?",
               ("Very unsatisfied", "Unsatisfied", "Neutral", "Satisfied", "Very satisfied")),
        "fr": (f"Dans quelle mesure êtes-vous satisfait de votre expérience{NBSP}?",
               ("Très insatisfait", "Insatisfait", "Neutre", "Satisfait", "Très satisfait")),
        "ro": ("Cât de mulțumit sunteți de experiența avută?",
               ("Foarte nemulțumit", "Nemulțumit", "Neutru", "Mulțumit", "Foarte mulțumit")),
        "de": ("Wie zufrieden sind Sie mit Ihrer Erfahrung bei uns?",
               ("Sehr unzufrieden", "Unzufrieden", "Neutral", "Zufrieden", "Sehr zufrieden")),
        "es": ("¿Cuál es tu grado de satisfacción con la experiencia?",
               ("Muy insatisfecho", "Insatisfecho", "Neutral", "Satisfecho", "Muy satisfecho")),
    },
    "experience": {
        "en": ("How would you rate your experience?", ("Bad", "Not good", "Adequate", "Good", "Very good")),
        "fr": (f"Comment évaluez-vous votre expérience{NBSP}?",
               ("Mauvaise", "Pas bonne", "Correcte", "Bonne", "Très bonne")),
        "ro": ("Cum ați evalua experiența avută?", ("Proastă", "Nu prea bună", "Acceptabilă", "Bună", "Foarte bună")),
        "de": ("Wie bewerten Sie Ihre Erfahrung?", ("Schlecht", "Nicht gut", "Akzeptabel", "Gut", "Sehr gut")),
        "es": ("¿Cómo valorarías tu experiencia?", ("Mala", "No muy buena", "Aceptable", "Buena", "Muy buena")),
    },
    "quality": {
        "en": ("How would you rate the quality of our service?",
               ("Terrible", "Not great", "Okay", "Good", "Excellent")),
        "fr": (f"Comment évaluez-vous la qualité de notre service{NBSP}?",
               ("Très mauvaise", "Pas terrible", "Correcte", "Bonne", "Excellente")),
        "ro": ("Cum ați evalua calitatea serviciilor noastre?",
               ("Foarte proastă", "Nu prea bună", "Acceptabilă", "Bună", "Excelentă")),
        "de": ("Wie bewerten Sie die Qualität unseres Service?",
               ("Sehr schlecht", "Nicht so gut", "In Ordnung", "Gut", "Ausgezeichnet")),
        "es": ("¿Cómo valorarías la calidad de nuestro servicio?",
               ("Pésima", "No muy buena", "Aceptable", "Buena", "Excelente")),
    },
}
CSAT_DEFAULT_PRESET = "satisfaction"


def _agreement(statements: dict[str, str], followups: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {lang: {"question": statements[lang], "low_label": _AGREE[lang][0], "high_label": _AGREE[lang][1],
                   "labels": [], "followup": followups[lang]} for lang in LANGUAGES}


def _ease(questions: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {lang: {"question": questions[lang], "low_label": _EASY[lang][0], "high_label": _EASY[lang][-1],
                   "labels": [], "followup": _EASIER[lang]} for lang in LANGUAGES}


def _csat(preset: str) -> dict[str, dict[str, Any]]:
    return {lang: {"question": q, "low_label": labels[0], "high_label": labels[-1], "labels": list(labels),
                   "followup": _IMPROVE[lang]} for lang, (q, labels) in CSAT_PRESETS[preset].items()}


# metric -> language -> texts (question, low_label, high_label, labels, followup)
BUILTIN: dict[str, dict[str, dict[str, Any]]] = {
    "ces7": _agreement({
        "en": "The company made it easy for me to handle my issue.",
        "fr": "L'entreprise m'a facilité la gestion de ma demande.",
        "ro": "Compania mi-a ușurat rezolvarea problemei.",
        "de": "Das Unternehmen hat es mir leicht gemacht, mein Anliegen zu erledigen.",
        "es": "La empresa me facilitó la gestión de mi solicitud.",
    }, _EASIER),
    "ces5": {lang: {**t, "labels": list(_EASY[lang])} for lang, t in _ease({
        "en": "How easy was it to handle your request?",
        "fr": f"Dans quelle mesure a-t-il été facile de traiter votre demande{NBSP}?",
        "ro": "Cât de ușor v-a fost să vă rezolvați solicitarea?",
        "de": "Wie einfach war es, Ihr Anliegen zu erledigen?",
        "es": "¿Te resultó fácil gestionar tu solicitud?",
    }).items()},
    "csat5": _csat(CSAT_DEFAULT_PRESET),
    "nps": {lang: {"question": q, "low_label": low, "high_label": high, "labels": [], "followup": why}
            for lang, (q, low, high, why) in {
        "en": ("How likely are you to recommend us to a friend or colleague?", "Not at all likely",
               "Extremely likely", "What is the main reason for your score?"),
        "fr": (f"Quelle est la probabilité que vous nous recommandiez à un ami ou à un collègue{NBSP}?",
               "Pas du tout probable", "Très probable", f"Quelle est la raison principale de votre note{NBSP}?"),
        "ro": ("Cât de probabil este să ne recomandați unui prieten sau coleg?", "Deloc probabil",
               "Foarte probabil", "Care este motivul principal al notei acordate?"),
        "de": ("Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen weiterempfehlen?",
               "Sehr unwahrscheinlich", "Sehr wahrscheinlich", "Was ist der wichtigste Grund für Ihre Bewertung?"),
        "es": ("¿Qué probabilidad hay de que nos recomiendes a un amigo o colega?", "Nada probable",
               "Muy probable", "¿Cuál es el motivo principal de tu puntuación?"),
    }.items()},
    "ves7": _agreement({
        "en": "After this interaction I am more confident in my purchase.",
        "fr": "Après cet échange, j'ai davantage confiance dans mon achat.",
        "ro": "După această interacțiune am mai multă încredere în achiziția mea.",
        "de": "Nach diesem Kontakt bin ich mir bei meinem Kauf sicherer.",
        "es": "Después de esta interacción, tengo más confianza en mi compra.",
    }, {
        "en": "What would have made you more confident?",
        "fr": f"Qu'est-ce qui vous aurait donné davantage confiance{NBSP}?",
        "ro": "Ce v-ar fi dat mai multă încredere?",
        "de": "Was hätte Ihnen mehr Sicherheit gegeben?",
        "es": "¿Qué te habría dado más confianza?",
    }),
    "ease0_10": _ease({
        "en": "On a scale from 0 to 10, how easy was it to get what you needed?",
        "fr": f"Sur une échelle de 0 à 10, à quel point a-t-il été facile d'obtenir ce dont vous aviez besoin{NBSP}?",
        "ro": "Pe o scară de la 0 la 10, cât de ușor v-a fost să obțineți ceea ce vă trebuia?",
        "de": "Auf einer Skala von 0 bis 10: Wie einfach war es, Ihr Anliegen zu erledigen?",
        "es": "En una escala del 0 al 10, ¿en qué medida te resultó fácil conseguir lo que necesitabas?",
    }),
    "ease1_10": _ease({
        "en": "On a scale from 1 to 10, how easy was it to get what you needed?",
        "fr": f"Sur une échelle de 1 à 10, à quel point a-t-il été facile d'obtenir ce dont vous aviez besoin{NBSP}?",
        "ro": "Pe o scară de la 1 la 10, cât de ușor v-a fost să obțineți ceea ce vă trebuia?",
        "de": "Auf einer Skala von 1 bis 10: Wie einfach war es, Ihr Anliegen zu erledigen?",
        "es": "En una escala del 1 al 10, ¿en qué medida te resultó fácil conseguir lo que necesitabas?",
    }),
}


def builtin(metric: str, language: str, preset: str | None = None) -> dict[str, Any]:
    """The built-in texts of `metric` in `language` (English for a language we do not speak),
    with the thank-you text; `preset` picks one of CSAT's wordings."""
    lang = language if language in LANGUAGES else "en"
    if metric == "csat5" and preset and preset in CSAT_PRESETS:
        texts = _csat(preset)[lang]
    else:
        texts = BUILTIN[metric][lang]
    return {**texts, "labels": list(texts["labels"]), "thanks": THANKS[lang]}


def all_languages(metric: str, preset: str | None = None) -> dict[str, dict[str, Any]]:
    """The built-in texts of `metric` in every language, as a survey's `texts`."""
    return {lang: builtin(metric, lang, preset) for lang in LANGUAGES}


def ui_language(wanted: list[str | None]) -> str:
    """The first wanted locale whose language we speak (`fr-CA` -> `fr`), else English."""
    for want in wanted:
        lang = (want or "").replace("_", "-").split("-")[0].lower()
        if lang in LANGUAGES:
            return lang
    return "en"


def ui_strings(language: str, thanks: str | None = None) -> list[str]:
    """[close, send, skip, thanks] in `language`; `thanks` is the survey's own, when it has one."""
    lang = language if language in LANGUAGES else "en"
    return [*UI[lang], thanks or THANKS[lang]]

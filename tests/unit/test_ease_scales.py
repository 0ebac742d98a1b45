"""The numeric ease scales (ease0_10, ease1_10), the built-in texts in five languages and CSAT's
label presets. Means and intervals are checked against scipy, an independent computation."""
from __future__ import annotations

import random
import statistics

import pytest
from scipy import stats

from ces.core.fatigue import metric_type
from ces.core.localize import pick_locale, survey_locales, survey_texts
from ces.core.metrics import METRICS, get_metric
from ces.core.scoring import compare, score, score_from_distribution
from ces.core.texts import BUILTIN, CSAT_PRESETS, LANGUAGES, THANKS, UI, builtin, ui_language, ui_strings

EASE = ("ease0_10", "ease1_10")


@pytest.mark.parametrize("metric", EASE)
@pytest.mark.parametrize("seed", range(5))
def test_mean_and_t_interval_match_scipy(metric: str, seed: int) -> None:
    m = get_metric(metric)
    rng = random.Random(seed)
    values = [rng.randint(m.min, m.max) for _ in range(rng.randint(2, 400))]
    s = score(metric, values)
    assert s.headline_name == "mean_ease" and s.n == len(values)
    assert s.headline == pytest.approx(sum(values) / len(values), abs=1e-12) == s.mean
    low, high = stats.t.interval(0.95, len(values) - 1, loc=statistics.fmean(values),
                                 scale=statistics.stdev(values) / len(values) ** 0.5)
    if statistics.stdev(values) > 0:
        assert s.headline_ci.low == pytest.approx(max(m.min, low), abs=1e-9)
        assert s.headline_ci.high == pytest.approx(min(m.max, high), abs=1e-9)
    assert s.distribution == {p: values.count(p) for p in m.points}
    assert s == score_from_distribution(metric, {p: values.count(p) for p in set(values)})


def test_worked_example() -> None:
    s = score("ease0_10", [10, 8, 8, 6, 3]).as_dict()
    assert s["headline"] == s["mean"] == 7.0
    assert s["distribution"] == {"0": 0, "1": 0, "2": 0, "3": 1, "4": 0, "5": 0, "6": 1, "7": 0, "8": 2, "9": 0, "10": 1}
    # s = sqrt(28 / 4), half-width t(0.975, 4) * s / sqrt(5) = 2.776 * 1.183 = 3.285; clipped at 10
    assert s["headline_ci"] == s["mean_ci"] == {"low": 3.71, "high": 10.0}
    with pytest.raises(ValueError):
        score("ease1_10", [0])
    with pytest.raises(ValueError):
        score("ease0_10", [11])


def test_one_answer_and_none() -> None:
    one = score("ease1_10", [4])
    assert (one.headline, one.mean_ci, one.headline_ci.low, one.headline_ci.high) == (4.0, None, 1.0, 10.0)
    assert score("ease1_10", []).headline is None


@pytest.mark.parametrize("seed", range(5))
def test_compare_is_welch_as_scipy(seed: int) -> None:
    rng = random.Random(seed)
    a = [rng.randint(0, 10) for _ in range(rng.randint(3, 200))]
    b = [min(10, rng.randint(0, 10) + 2) for _ in range(rng.randint(3, 200))]
    d = compare(score("ease0_10", a), score("ease0_10", b))
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert d.difference == pytest.approx(statistics.fmean(b) - statistics.fmean(a), abs=1e-12)
    assert (d.ci.low, d.ci.high) == (pytest.approx(ci.low, abs=1e-9), pytest.approx(ci.high, abs=1e-9))
    assert d.significant == (ci.low > 0 or ci.high < 0)


def test_identical_answers_are_never_significant() -> None:
    d = compare(score("ease1_10", [5, 5, 5]), score("ease1_10", [6, 6, 6]))
    assert d.difference == 1.0 and not d.significant


def test_ease_scales_are_ces_programs() -> None:
    assert metric_type("ease0_10") == metric_type("ease1_10") == metric_type("ces7") == "ces"


# --------------------------------------------------------------------------- texts

@pytest.mark.parametrize("metric", sorted(METRICS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_metric_has_every_text_in_every_language(metric: str, lang: str) -> None:
    m = get_metric(metric)
    t = builtin(metric, lang)
    for key in ("question", "low_label", "high_label", "followup", "thanks"):
        assert isinstance(t[key], str) and t[key].strip(), (metric, lang, key)
    assert t["labels"] == [] or len(t["labels"]) == m.max - m.min + 1
    assert bool(t["labels"]) == bool(m.point_labels)
    if lang != "en":  # really translated, not the English text again
        en = builtin(metric, "en")
        assert t["question"] != en["question"] and t["followup"] != en["followup"]
    if lang == "fr":  # French typography: a non-breaking space before ? and !
        for text in (t["question"], t["followup"], t["thanks"]):
            assert " ?" not in text and " !" not in text


def test_english_built_ins_are_the_metrics_own_wording() -> None:
    for key, m in METRICS.items():
        en = BUILTIN[key]["en"]
        assert (en["question"], en["low_label"], en["high_label"]) == (m.question, m.low_label, m.high_label)
        assert tuple(en["labels"]) == m.point_labels


@pytest.mark.parametrize("preset", sorted(CSAT_PRESETS))
def test_csat_presets_in_five_languages(preset: str) -> None:
    assert set(CSAT_PRESETS[preset]) == set(LANGUAGES)
    for lang in LANGUAGES:
        t = builtin("csat5", lang, preset)
        assert len(t["labels"]) == 5 and len(set(t["labels"])) == 5
        assert (t["low_label"], t["high_label"]) == (t["labels"][0], t["labels"][-1])
    assert builtin("csat5", "en", "quality")["labels"] == ["Terrible", "Not great", "Okay", "Good", "Excellent"]
    assert builtin("csat5", "en", "experience")["labels"] == ["Bad", "Not good", "Adequate", "Good", "Very good"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_survey_without_texts_speaks_the_users_language(lang: str) -> None:
    survey = {"metric": "nps", "default_locale": "en", "texts": {}, "followup_max_score": 6}
    locale = pick_locale(survey_locales(survey), [f"{lang}-XX"], "en")
    assert locale == lang
    t = survey_texts(survey, locale)
    assert t["question"] == BUILTIN["nps"][lang]["question"] and t["followup"] == BUILTIN["nps"][lang]["followup"]
    assert ui_strings(ui_language([f"{lang}-XX"])) == [*UI[lang], THANKS[lang]]


def test_follow_up_only_when_the_survey_asks_for_one() -> None:
    assert survey_texts({"metric": "ces7", "texts": {}}, "de")["followup"] is None
    assert survey_texts({"metric": "ces7", "texts": {}, "followup_max_score": 3}, "de")["followup"] == \
        BUILTIN["ces7"]["de"]["followup"]
    own = {"metric": "ces7", "texts": {"de": {"question": "Einfach?", "thanks": "Merci vielmals!"}}}
    t = survey_texts(own, "de")
    assert (t["question"], t["thanks"]) == ("Einfach?", "Merci vielmals!")
    assert ui_strings("de", t["thanks"])[3] == "Merci vielmals!"
    assert ui_language(["ja", None, "es-MX"]) == "es" and ui_language(["ja"]) == "en"

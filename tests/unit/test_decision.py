"""Durations, identity and locale helpers, directly (the engine itself: test_engine.py)."""
from __future__ import annotations

from ces.core.durations import human
from ces.core.identity import is_anonymous, user_hash, verify
from ces.core.localize import pick_locale, survey_texts

DAY = 86400.0


def test_human_durations() -> None:
    assert [human(0), human(59), human(3600), human(3 * DAY + 5)] == ["0 seconds", "59 seconds", "1 hour", "3 days"]


def test_identity_hash() -> None:
    h = user_hash("sk_1", "alice")
    assert len(h) == 64 and verify("sk_1", "alice", h) and verify("sk_1", "alice", h.upper())
    assert not verify("sk_1", "bob", h) and not verify("sk_1", "alice", None)
    assert is_anonymous("anon-1") and not is_anonymous("alice")


def test_locale_choice_and_text_fallback() -> None:
    assert pick_locale(["en", "fr"], ["fr-CA"], "en") == "fr"
    assert pick_locale(["en", "fr"], [None, "de"], "en") == "en"
    assert pick_locale(["en", "pt-BR"], ["pt-BR"], "en") == "pt-BR"
    survey = {"metric": "ces7", "default_locale": "en", "texts": {"en": {"question": "Easy?"}, "fr": {"question": "Facile ?"}}}
    texts = survey_texts(survey, "fr")
    assert texts["question"] == "Facile ?" and texts["low_label"] == "Strongly disagree"

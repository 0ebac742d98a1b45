"""Which themes a follow-up comment is about: recognised locally, in five languages, one theme
across languages.

Pure functions, no SQL, no network: nothing a customer wrote leaves the server.

Why a lexicon rather than clustering alone: comments are short and worded every which way, and
bag-of-words clustering (TF-IDF + k-means) groups them barely better than chance; worse, it puts
"livraison en retard" and "late delivery" in different clusters, since they share no word. The
starter themes (themes_lexicon.py) name each problem in English, French, Romanian, German and
Spanish, so both land in "Delivery". What the lexicon does not cover is grouped by
themes_discovery.py, and a team can rename, merge and extend themes per site (`SiteThemes`).

Matching, in order, on the accent-folded words of the comment:
1. phrases ("on hold", "ne marche pas"): the longest one starting at each word wins, and its
   words count for nothing else;
2. each other word: exact words, prefixes (`livr*`) and infixes (`*zustell*`); when several terms
   of different themes match one word, only the most specific (longest) counts;
3. a word of six letters or more that matched nothing is compared with the terms of six letters
   or more at one edit (a letter added, dropped, changed or two swapped): "delivary", "refnud".
A comment's themes are every theme matched; its primary theme the one with most matched words
(a phrase counts once), ties going to the theme listed first.

Deterministic: the same text and the same themes give the same result, whatever else is in the
batch (a per-word memo only makes it fast).
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .themes_lexicon import LANGUAGES, LEXICON_VERSION, STARTER_THEMES

KEY_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
MAX_LABEL = 80
MAX_TERMS = 200
MAX_TERM_WORDS = 5
MAX_CUSTOM_THEMES = 50
FOUND_PREFIX = "found-"  # the keys of themes found among uncovered comments (themes_discovery.py)
FUZZY_MIN = 6
_WORD = re.compile(r"[a-z0-9]+")
_TERM_WORD = re.compile(r"^\*?[a-z0-9]+\*?$")
_FOLD = str.maketrans({"ß": "ss", "œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ı": "i",
                       "’": "'", "‘": "'", "`": "'"})


# -- text --------------------------------------------------------------------------------------

_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def normalize(text: str) -> str:
    """Lower case, accents and cedillas folded (é → e, ș/ş → s, ß → ss)."""
    text = text.lower().translate(_FOLD)
    if text.isascii():
        return text
    return _MARKS.sub("", unicodedata.normalize("NFKD", text))  # the combining marks, in C


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


# -- the themes of a site ------------------------------------------------------------------------

@dataclass(frozen=True)
class Theme:
    key: str
    label: str
    kind: str                       # "starter" | "custom"
    terms: tuple[str, ...]          # every term, the merged themes' included
    merged_from: tuple[str, ...] = ()


def starter_terms(key: str) -> tuple[str, ...]:
    for k, _label, by_lang in STARTER_THEMES:
        if k == key:
            return tuple(t for lang in LANGUAGES for t in by_lang.get(lang, ()))
    raise KeyError(key)


STARTER_KEYS = tuple(k for k, _l, _t in STARTER_THEMES)
STARTER_LABELS = {k: label for k, label, _t in STARTER_THEMES}


def check_term(raw: Any) -> str:
    """A term as stored (folded, single spaces); ValueError saying what is wrong."""
    if not isinstance(raw, str):
        raise ValueError("a term must be a string")
    term = " ".join(re.sub(r"[^a-z0-9*]+", " ", normalize(raw)).split())
    parts = term.split()
    if not parts:
        raise ValueError(f"term {raw!r} has no letters or digits")
    if len(parts) > MAX_TERM_WORDS:
        raise ValueError(f"term {raw!r} has more than {MAX_TERM_WORDS} words")
    for part in parts:
        literal = part.strip("*")
        if not _TERM_WORD.match(part) or not literal:
            raise ValueError(f"term {raw!r}: '*' only at the start or the end of a word")
        if "*" in part and len(literal) < 3:
            raise ValueError(f"term {raw!r}: a word with '*' needs at least 3 letters")
    return term


def check_config(config: Any) -> dict[str, Any]:
    """A site's theme settings, validated and canonical; ValueError naming the problem.

    Shape: {"themes": {key: {"label": str, "terms": [str], "enabled": bool, "merged_into": key}}}.
    A starter theme's entry changes it (label, added terms, off, merged into another); any other
    key is the site's own theme and needs a label and at least one term.
    """
    if not isinstance(config, Mapping):
        raise ValueError("theme settings must be an object")
    themes = config.get("themes", {})
    if not isinstance(themes, Mapping):
        raise ValueError("themes must be an object")
    out: dict[str, dict[str, Any]] = {}
    custom = 0
    for key in sorted(themes):
        entry = themes[key]
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise ValueError(f"theme key {key!r}: 1 to 40 lower-case letters, digits and '-'")
        if key.startswith(FOUND_PREFIX):
            raise ValueError(f"theme key {key!r}: '{FOUND_PREFIX}' starts the keys of found themes; choose another")
        if not isinstance(entry, Mapping):
            raise ValueError(f"theme {key}: must be an object")
        unknown = set(entry) - {"label", "terms", "enabled", "merged_into"}
        if unknown:
            raise ValueError(f"theme {key}: unknown field {sorted(unknown)[0]!r}")
        clean: dict[str, Any] = {}
        if entry.get("label") is not None:
            label = entry["label"]
            if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
                raise ValueError(f"theme {key}: label must be 1 to {MAX_LABEL} characters")
            clean["label"] = label.strip()
        terms = entry.get("terms") or []
        if not isinstance(terms, list) or len(terms) > MAX_TERMS:
            raise ValueError(f"theme {key}: terms must be a list of at most {MAX_TERMS}")
        if terms:
            clean["terms"] = sorted(set(check_term(t) for t in terms))
        if "enabled" in entry and entry["enabled"] is not None:
            if not isinstance(entry["enabled"], bool):
                raise ValueError(f"theme {key}: enabled must be true or false")
            if not entry["enabled"]:
                clean["enabled"] = False
        if entry.get("merged_into") is not None:
            into = entry["merged_into"]
            if not isinstance(into, str) or into == key:
                raise ValueError(f"theme {key}: merged_into must name another theme")
            clean["merged_into"] = into
        if key not in STARTER_KEYS:
            custom += 1
            if "label" not in clean or "terms" not in clean:
                raise ValueError(f"theme {key}: a new theme needs a label and at least one term")
        if clean:
            out[key] = clean
    if custom > MAX_CUSTOM_THEMES:
        raise ValueError(f"at most {MAX_CUSTOM_THEMES} themes of the site's own")
    known = set(STARTER_KEYS) | set(out)
    for key, entry in out.items():
        into = entry.get("merged_into")
        if into is not None and into not in known:
            raise ValueError(f"theme {key}: merged_into names unknown theme {into!r}")
    for key in out:
        _merge_target(key, out)  # raises on a cycle
    return {"themes": out}


def _merge_target(key: str, entries: Mapping[str, Mapping[str, Any]]) -> str:
    seen = [key]
    while (into := entries.get(key, {}).get("merged_into")) is not None:
        if into in seen:
            raise ValueError(f"theme {seen[0]}: merging goes round in a circle ({' → '.join(seen + [into])})")
        seen.append(into)
        key = into
    return key


def effective_themes(config: Mapping[str, Any] | None) -> list[Theme]:
    """The site's themes, in order: the starter ones (renamed, extended, merged, off as the site
    says), then the site's own in key order."""
    entries: Mapping[str, Mapping[str, Any]] = (config or {}).get("themes", {})
    keys = list(STARTER_KEYS) + sorted(k for k in entries if k not in STARTER_KEYS)
    own_terms: dict[str, list[str]] = {}
    for key in keys:
        base = list(starter_terms(key)) if key in STARTER_KEYS else []
        own_terms[key] = base + list(entries.get(key, {}).get("terms", []))
    terms: dict[str, list[str]] = {k: [] for k in keys}
    merged: dict[str, list[str]] = {k: [] for k in keys}
    for key in keys:
        target = _merge_target(key, entries)
        terms[target].extend(own_terms[key])
        if target != key:
            merged[target].append(key)
    out = []
    for key in keys:
        entry = entries.get(key, {})
        if _merge_target(key, entries) != key or entry.get("enabled") is False:
            continue
        label = entry.get("label") or STARTER_LABELS.get(key, key)
        out.append(Theme(key, label, "starter" if key in STARTER_KEYS else "custom",
                         tuple(dict.fromkeys(terms[key])), tuple(merged[key])))
    return out


def version_key(config: Mapping[str, Any] | None) -> str:
    """Changes when the lexicon or the site's theme settings change: stored assignments with
    another version are themed again."""
    canonical = json.dumps(config or {}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{LEXICON_VERSION}\n{canonical}".encode()).hexdigest()[:16]


# -- matching ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    themes: tuple[str, ...]        # every theme matched, primary first
    weights: tuple[int, ...]       # matched words per theme, same order

    @property
    def primary(self) -> str | None:
        return self.themes[0] if self.themes else None


NO_MATCH = Match((), ())


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _within_one_edit(a: str, b: str) -> bool:
    """Optimal string alignment distance ≤ 1 (one insertion, deletion, substitution or swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1:] == b[i + 1:]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    return a[i + 1:] == b[i:] if la > lb else a[i:] == b[i + 1:]


@dataclass
class Matcher:
    """Compiled themes; `match(text)` gives a comment's themes."""

    themes: list[Theme]
    _exact: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    _prefix: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    _infix: list[tuple[str, int, float]] = field(default_factory=list)
    _phrases: dict[str, list[tuple[tuple[str, ...], int]]] = field(default_factory=dict)
    _fuzzy: dict[str, list[tuple[str, bool, int, float]]] = field(default_factory=dict)
    _fuzzy_lengths: tuple[int, ...] = ()
    _memo: dict[str, tuple[tuple[int, ...], float]] = field(default_factory=dict)
    _phrase_memo: dict[str, tuple[tuple[tuple[str, ...], int], ...]] = field(default_factory=dict)

    @classmethod
    def compile(cls, themes: Sequence[Theme]) -> "Matcher":
        m = cls(list(themes))
        lengths = set()
        for idx, theme in enumerate(m.themes):
            for term in theme.terms:
                parts = tuple(term.split())
                if len(parts) > 1:
                    m._phrases.setdefault(_index_key(parts[0]), []).append((parts, idx))
                    continue
                word = parts[0]
                literal = word.strip("*")
                if word.startswith("*") and word.endswith("*"):
                    m._infix.append((literal, idx, float(len(literal))))
                elif word.endswith("*"):
                    m._prefix.setdefault(literal, []).append((idx, float(len(literal))))
                elif word.startswith("*"):
                    m._infix.append((literal, idx, float(len(literal))))  # a suffix: any word containing it
                else:
                    m._exact.setdefault(word, []).append((idx, len(word) + 0.5))
                if len(literal) >= FUZZY_MIN and not word.startswith("*"):
                    prefix = word.endswith("*")
                    for variant in _deletions(literal) | {literal}:
                        m._fuzzy.setdefault(variant, []).append((literal, prefix, idx, float(len(literal))))
                    if prefix:
                        lengths.add(len(literal))
        m._fuzzy_lengths = tuple(sorted(lengths))
        return m

    # A word's best matches: (theme indexes, specificity); memoised (comments repeat their words).
    def _word(self, w: str) -> tuple[tuple[int, ...], float]:
        hit = self._memo.get(w)
        if hit is not None:
            return hit
        found: list[tuple[int, float]] = list(self._exact.get(w, ()))
        for end in range(len(w), 2, -1):
            found.extend(self._prefix.get(w[:end], ()))
        for part, idx, spec in self._infix:
            if part in w:
                found.append((idx, spec))
        if not found and len(w) >= FUZZY_MIN:
            found = self._fuzzy_word(w)
        if found:
            best = max(s for _i, s in found)
            hit = (tuple(sorted({i for i, s in found if s == best})), best)
        else:
            hit = ((), 0.0)
        if len(self._memo) > 500_000:
            self._memo.clear()
        self._memo[w] = hit
        return hit

    def _fuzzy_word(self, w: str) -> list[tuple[int, float]]:
        found: list[tuple[int, float]] = []
        candidates = {w}
        for n in self._fuzzy_lengths:
            for cut in (n - 1, n, n + 1):
                if cut <= len(w):
                    candidates.add(w[:cut])
        for cand in candidates:
            for variant in _deletions(cand) | {cand}:
                for literal, prefix, idx, spec in self._fuzzy.get(variant, ()):
                    if (prefix or cand == w) and _within_one_edit(cand, literal):
                        found.append((idx, spec - 1))  # a misspelling is less specific than the word
        return found

    def _phrase_at(self, tokens: Sequence[str], i: int) -> tuple[int, int] | None:
        """(theme index, length) of the longest phrase starting at word i."""
        best: tuple[int, int] | None = None
        w = tokens[i]
        candidates = self._phrase_memo.get(w)
        if candidates is None:  # the phrases that may start with this word, once per word
            keys = [w] + [w[:end] + "*" for end in range(len(w), 2, -1)]
            candidates = tuple(c for key in keys for c in self._phrases.get(key, ()))
            if len(self._phrase_memo) > 500_000:
                self._phrase_memo.clear()
            self._phrase_memo[w] = candidates
        for parts, idx in candidates:
            n = len(parts)
            if i + n <= len(tokens) and all(_word_matches(p, tokens[i + j]) for j, p in enumerate(parts[1:], 1)):
                if best is None or n > best[1] or (n == best[1] and idx < best[0]):
                    best = (idx, n)
        return best

    def match(self, text: str | None) -> Match:
        if not text:
            return NO_MATCH
        tokens = words(text)
        weights: dict[int, int] = {}
        i = 0
        while i < len(tokens):
            phrase = self._phrase_at(tokens, i) if self._phrases else None
            if phrase is not None:
                idx, n = phrase
                weights[idx] = weights.get(idx, 0) + 1  # one idea, however many words
                i += n
                continue
            for idx in self._word(tokens[i])[0]:
                weights[idx] = weights.get(idx, 0) + 1
            i += 1
        if not weights:
            return NO_MATCH
        order = sorted(weights, key=lambda k: (-weights[k], k))
        return Match(tuple(self.themes[k].key for k in order), tuple(weights[k] for k in order))

    def match_many(self, texts: Iterable[str | None]) -> list[Match]:
        return [self.match(t) for t in texts]


def _index_key(word: str) -> str:
    """Phrases are found by their first word: an exact word, or a prefix written `stem*`."""
    return word.lstrip("*")


def _word_matches(pattern: str, word: str) -> bool:
    literal = pattern.strip("*")
    if pattern.startswith("*") and pattern.endswith("*"):
        return literal in word
    if pattern.endswith("*"):
        return word.startswith(literal)
    if pattern.startswith("*"):
        return literal in word
    return word == literal


def matcher_for(config: Mapping[str, Any] | None) -> Matcher:
    return Matcher.compile(effective_themes(config))


def labels(config: Mapping[str, Any] | None) -> dict[str, str]:
    return {t.key: t.label for t in effective_themes(config)}

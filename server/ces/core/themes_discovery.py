"""Themes found among the comments no theme of the site covers: groups of comments sharing a
keyword, labelled with it.

Pure and deterministic. Each uncovered comment is reduced to its keywords: words of four letters
or more that are not stopwords (themes_lexicon.STOPWORDS, five languages), cut to their first
six letters so that "sizes", "sizing" and "size" agree (a crude stem that needs no language
detection). Then, greedily: the keyword most comments share (ties: alphabetical) makes a theme of
those comments; they leave the pool, and the next keyword is taken, until no keyword is shared by
`min_size` comments or `limit` themes are found. The label is the keyword's most frequent full
word, with the keyword most often beside it ("size · small").

Why this and not a library: docs/insights.md ("Themes found in the comments") gives the measured
quality and cost of this grouping against TF-IDF + k-means (scikit-learn) on the same labelled
comments, and why no sentence-embedding model is used. A discovered theme is of one language; a
team adopts it as a theme of the site (and adds its words in the other languages) through the API.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .themes import words
from .themes_lexicon import STOPWORDS

STEM = 6
MIN_WORD = 4


@dataclass(frozen=True)
class Discovered:
    key: str                     # "found-<keyword>"
    label: str
    keyword: str
    members: tuple[int, ...]     # indexes into the comments given
    suggested_terms: tuple[str, ...]


def keywords(text: str) -> list[str]:
    """The comment's keywords, in order, each once: (stem, full word) pairs flattened to stems."""
    seen: dict[str, None] = {}
    for w in words(text):
        if len(w) >= MIN_WORD and w not in STOPWORDS and not w.isdigit():
            seen.setdefault(w[:STEM], None)
    return list(seen)


def discover(texts: Sequence[str], min_size: int | None = None, limit: int = 8) -> list[Discovered]:
    """Groups of `texts` (indexes) around shared keywords; see the module docstring."""
    n = len(texts)
    if min_size is None:
        min_size = max(3, -(-n * 2 // 100))  # 2 % of the comments, at least 3
    stems: list[list[str]] = []
    surface: dict[str, Counter[str]] = {}
    for text in texts:
        ws = [w for w in words(text) if len(w) >= MIN_WORD and w not in STOPWORDS and not w.isdigit()]
        stems.append(list(dict.fromkeys(w[:STEM] for w in ws)))
        for w in ws:
            surface.setdefault(w[:STEM], Counter())[w] += 1
    pool = set(range(n))
    found: list[Discovered] = []
    while len(found) < limit and pool:
        df: Counter[str] = Counter()
        for i in pool:
            df.update(stems[i])
        if not df:
            break
        stem, count = min(df.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < min_size:
            break
        members = tuple(sorted(i for i in pool if stem in stems[i]))
        beside: Counter[str] = Counter()
        for i in members:
            beside.update(s for s in stems[i] if s != stem)
        word = _top_word(surface[stem])
        label = word
        second = None
        if beside:
            other, together = min(beside.items(), key=lambda kv: (-kv[1], kv[0]))
            if together * 3 >= len(members):  # said with it by a third of the group at least
                second = _top_word(surface[other])
                label = f"{word} · {second}"
        terms = (stem + "*",) if len(stem) >= 3 else (word,)
        found.append(Discovered(f"found-{stem}", label, stem, members, terms))
        pool.difference_update(members)
    return found


def _top_word(counts: Counter[str]) -> str:
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]

"""Themes benchmark: theming time and memory for 1,000 / 10,000 / 100,000 comments, and the
adjusted Rand index on the labelled comment sets.

For each size N: a fresh SQLite file with N answers whose comments are drawn from the labelled
sets (ces/theme_samples.py) with per-comment variation (a filler word, an order number, a typo in
one word, a change of case), so the vocabulary keeps growing as a real site's does. Then, through
the product's own service (themes.py):

* `first report`: `theme_report()` on comments never themed (each comment themed and stored);
* `cached report`: `theme_report()` again (nothing themed again: what every later report costs);
* `core only`: the pure matcher over the same N texts, no database;
* `peak memory`: tracemalloc's peak over a re-theming of all N (the site's settings changed).

Then the quality figures: the ARI of the starter themes on the labelled set and on the held-out
set (all languages mixed, and en / fr / ro alone), and of the discovery of new themes on the
uncovered comments, against TF-IDF + k-means (scikit-learn, when installed) on the same comments.

    .venv/bin/python bench/bench_themes.py [--sizes 1000,10000,100000]
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from ces import themes as service  # noqa: E402
from ces.core.cluster_agreement import adjusted_rand_index  # noqa: E402
from ces.core.report_filters import ReportQuery  # noqa: E402
from ces.core.themes import matcher_for  # noqa: E402
from ces.core.themes_discovery import discover  # noqa: E402
from ces.storage import Storage  # noqa: E402
from ces.storage.reports import Reports  # noqa: E402
from ces.storage.seed_rows import insert_answered  # noqa: E402
from ces.theme_samples import EVERYDAY, held_out, labelled, uncovered  # noqa: E402

DAY = 86400
FILLERS = ("honestly", "today", "again", "vraiment", "aujourd'hui", "azi", "chiar", "heute", "hoy", "ugh", "!!",
           "please fix", "svp", "va rog", "bitte", "por favor")


def vary(text: str, rng: random.Random) -> str:
    words = text.split()
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 4:
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    if rng.random() < 0.5:
        words.append(rng.choice(FILLERS))
    if rng.random() < 0.3:
        words.append(f"#{rng.randint(10000, 99999)}")
    out = " ".join(words)
    return out.upper() if rng.random() < 0.05 else out


def seed(path: str, n: int, now: float) -> tuple[Storage, dict]:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    storage = Storage(path, "OFF")
    storage.migrate()
    site = storage.create_site("bench", now)
    survey = storage.create_survey(site["id"], now, name="bench", metric="ces7")
    trigger = storage.create_trigger(site["id"], now, name="checkout", event_name="checkout_completed",
                                     survey_id=survey["id"])
    rng = random.Random(15)
    pool = [text for _t, _l, text in labelled() + uncovered() + held_out()]
    with storage.write() as db:
        for i in range(n):
            insert_answered(db, site["id"], survey["id"], trigger["id"], "checkout_completed", f"u{i}",
                            rng.randint(1, 7), vary(rng.choice(pool), rng), "en",
                            now - rng.uniform(0, 28 * DAY), f"{i:07d}")
    Reports(storage).rebuild_funnel_rollup()
    return storage, storage.get_survey(survey["id"])


def bench_size(n: int, workdir: str) -> dict:
    now = time.time()
    storage, survey = seed(os.path.join(workdir, f"themes_{n}.db"), n, now)
    q = ReportQuery()
    service._matchers.clear()
    t0 = time.perf_counter()
    first = service.theme_report(storage, survey, q)
    t1 = time.perf_counter()
    again = service.theme_report(storage, survey, q)
    t2 = time.perf_counter()
    assert first == again and first["comments"] == n
    texts = [r[0] for r in storage.db.execute("select comment from answers").fetchall()]
    t3 = time.perf_counter()
    matcher_for({"themes": {"sizes": {"label": "Sizes", "terms": ["size*"]}}}).match_many(texts)
    t4 = time.perf_counter()
    # Peak memory of theming all N again (the settings changed: every stored assignment is stale).
    service.save_site_config(storage, survey["site_id"], {"themes": {"price": {"label": "Cost"}}}, now)
    service._matchers.clear()
    tracemalloc.start()
    themed = service.ensure_themed(storage, survey)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert themed == n
    return {"n": n, "first_report_s": t1 - t0, "cached_report_s": t2 - t1, "core_only_s": t4 - t3,
            "peak_mb": peak / 1e6, "themed_share": first["themed"] / n, "discovered": len(first["discovered"])}


def ari_figures() -> dict:
    m = matcher_for(None)
    out = {}
    for name, rows in (("labelled", labelled()), ("held_out", held_out())):
        found = [m.match(t).primary or "none" for _t, _l, t in rows]
        out[name] = adjusted_rand_index([r[0] for r in rows], found)
        for lang in ("en", "fr", "ro"):
            idx = [i for i, r in enumerate(rows) if r[1] == lang]
            out[f"{name}_{lang}"] = adjusted_rand_index([rows[i][0] for i in idx], [found[i] for i in idx])
    # Discovery, on the comments no starter theme covers plus everyday ones that name no problem
    # (what uncovered comments mostly are), against the truth "topic in a language" (a discovered
    # theme is of one language; everyday comments are one group "other").
    rows = uncovered() + [("other", "", t) for t in EVERYDAY]
    texts = [t for _t, _l, t in rows]
    truth = [f"{t}:{l}" if t != "other" else "other" for t, l, _x in rows]
    t0 = time.perf_counter()
    found_groups = discover(texts)
    out["discovery_ms"] = 1000 * (time.perf_counter() - t0)
    label = {i: d.key for d in found_groups for i in d.members}
    out["discovery"] = adjusted_rand_index(truth, [label.get(i, "none") for i in range(len(rows))])
    try:
        from sklearn.cluster import KMeans
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.metrics import silhouette_score
    except ImportError:
        out["tfidf_kmeans"] = "scikit-learn not installed (pip install scikit-learn to compare)"
        return out

    def kmeans(docs: list[str], k: int | None) -> tuple[list[int], float]:
        """TF-IDF of character 3-5-grams (the best bag-of-words setting for short, misspelt text),
        k-means with k given, or chosen by the silhouette over 2..12 when it is not known."""
        start = time.perf_counter()
        x = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(docs)
        best: tuple[float, list[int]] | None = None
        for kk in ([k] if k else range(2, 13)):
            labels = list(KMeans(n_clusters=kk, n_init=10, random_state=0).fit_predict(x))
            s = silhouette_score(x, labels) if not k else 0.0
            if best is None or s > best[0]:
                best = (s, labels)
        return best[1], 1000 * (time.perf_counter() - start)  # type: ignore[index]

    labels, ms = kmeans(texts, None)
    out["tfidf_kmeans_k_by_silhouette"], out["tfidf_kmeans_k_by_silhouette_ms"] = adjusted_rand_index(truth, labels), ms
    clean = uncovered()
    labels, ms = kmeans([t for *_r, t in clean], len({(t, l) for t, l, _x in clean}))
    out["tfidf_kmeans_true_k_no_everyday"] = adjusted_rand_index([f"{t}:{l}" for t, l, _x in clean], labels)
    lab = labelled()
    labels, ms = kmeans([t for *_r, t in lab], 8)
    out["tfidf_kmeans_on_labelled_true_k"] = adjusted_rand_index([r[0] for r in lab], labels)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as workdir:
        print("| comments | first report (themes all) | cached report | core only | peak memory | themed |")
        print("|---:|---:|---:|---:|---:|---:|")
        for n in (int(s) for s in args.sizes.split(",")):
            r = bench_size(n, workdir)
            print(f"| {n:,} | {r['first_report_s']:.2f} s | {r['cached_report_s']:.2f} s | {r['core_only_s']:.2f} s "
                  f"| {r['peak_mb']:.1f} MB | {100 * r['themed_share']:.0f} % |")
    for k, v in ari_figures().items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")


if __name__ == "__main__":
    main()

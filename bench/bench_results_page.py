"""Results page benchmark: the dashboard's survey results page, server time, on the report
benchmark's database (1,000,000 answers over a year, 5 triggers, 3 event properties; built by
bench/bench_report.py's `seed`), beside the report API's own time in the same run.

A real server (ces.testing.LiveServer: the app, werkzeug, loopback HTTP), logged in to the
dashboard with an admin token; each measure is the wall time of one GET on the loopback, median
of `--runs` (the first request of each kind is a warm-up, not counted). The page computes what
it shows through the report services: filter options, the report (score, funnel, trend,
touchpoints, the driver), two comparison sides, a page of comments and a page of at-risk
customers; the API request is the report alone with the same filters and driver.

    .venv/bin/python bench/bench_results_page.py [--answers 1000000] [--db /tmp/bench_results.db] [--runs 7] [--reuse]

`--reuse` keeps an existing database file of that path (seeded by an earlier run) instead of
seeding again. Also prints the page's JS and CSS as transferred on first load, gzip.
"""
from __future__ import annotations

import argparse
import gzip
import http.cookiejar
import os
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_report import seed  # noqa: E402
from ces.storage import Storage  # noqa: E402
from ces.storage.reports import Reports  # noqa: E402
from ces.testing import LiveServer  # noqa: E402


def opener_logged_in(server: LiveServer) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{server.url}/dashboard/login?with=token").read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    opener.open(f"{server.url}/dashboard/login",
                urllib.parse.urlencode({"token": server.admin_token, "csrf_token": csrf}).encode()).read()
    return opener


def timed_get(opener: urllib.request.OpenerDirector, url: str, runs: int, headers: dict[str, str] | None = None
              ) -> tuple[float, float, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    body = opener.open(request, timeout=600).read()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        with opener.open(request, timeout=600) as response:
            body = response.read()
            assert response.status == 200, response.status
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times), body


def asset_bytes(opener: urllib.request.OpenerDirector, base: str, page: bytes) -> tuple[int, int]:
    """The page's own scripts and stylesheets, raw and gzip -9 (what a first load transfers)."""
    html = page.decode()
    urls = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    raw = zipped = 0
    for u in urls:
        body = opener.open(base + u).read()
        raw += len(body)
        zipped += len(gzip.compress(body, 9))
    return raw, zipped


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", type=int, default=1_000_000)
    ap.add_argument("--db", default="/tmp/bench_results.db")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--reuse", action="store_true", help="keep an existing database at --db")
    args = ap.parse_args()

    t = time.perf_counter()
    if args.reuse and os.path.exists(args.db):
        print(f"reusing {args.db}")
    else:
        seed(args.db, args.answers)
    storage = Storage(args.db, "NORMAL")
    storage.migrate()
    Reports(storage).refresh_rollups()
    answers = storage.one("select count(*) as n from answers")["n"]  # type: ignore[index]
    print(f"database ready: {answers:,} answers ({time.perf_counter() - t:.1f} s)")

    server = LiveServer(args.db)
    try:
        opener = opener_logged_in(server)
        survey = 1  # the benchmark's survey (the seed creates it first)
        page = f"{server.url}/dashboard/sites/1/surveys/{survey}"
        report = f"{server.url}/api/v1/surveys/{survey}/report"
        auth = {"Authorization": f"Bearer {server.admin_token}"}
        rows = []
        for label, query in (("no filter", ""), ("one trigger, by month", "trigger=2&interval=month")):
            page_med, page_min, body = timed_get(opener, f"{page}?{query}", args.runs)
            assert b'id="headline-score"' in body, body[:500]
            # The page's default driver is the first property key; the API is asked for the same.
            api_query = "&".join(x for x in (query, "driver=channel") if x)
            api_med, api_min, _ = timed_get(opener, f"{report}?{api_query}", args.runs, auth)
            rows.append((label, page_med, page_min, api_med, api_min))
        raw, zipped = asset_bytes(opener, server.url, body)
    finally:
        server.stop()

    print(f"\nresults page vs report API, {answers:,} answers, median of {args.runs} (min):")
    for label, page_med, page_min, api_med, api_min in rows:
        print(f"  {label:24s} page {page_med:8.1f} ms ({page_min:.1f})   report API {api_med:8.1f} ms ({api_min:.1f})"
              f"   target page <= 500 ms: {'met' if page_med <= 500 else 'NOT met'}")
    print(f"page JS + CSS on first load: {raw / 1024:.1f} KB raw, {zipped / 1024:.1f} KB gzip")


if __name__ == "__main__":
    main()

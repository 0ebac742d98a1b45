"""Overview page server time beside the report API's, on the report benchmark's database.

Seeds `--answers` answers with bench_report.seed (one site, one CES 2.0 survey, a year of
answers), logs in to the dashboard with an admin token (Flask's test client: server time only,
no network), then times GET /dashboard/sites/<id>/ and GET /api/v1/surveys/<id>/report in turns.
The first call of either builds the report rollups once (bench_report: "rollup build"); the
medians leave it out.

    .venv/bin/python bench/bench_dashboard_overview.py [--answers 100000] [--runs 7] [--db /tmp/bench_overview.db]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_report import seed  # noqa: E402

from ces.app import create_app  # noqa: E402
from ces.services import Services  # noqa: E402
from ces.storage.tokens import TokenStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", default="/tmp/bench_overview.db")
    args = parser.parse_args()
    started = time.time()
    storage, survey_id = seed(args.db, args.answers)
    print(f"seeded {args.answers:,} answers in {time.time() - started:.1f} s")
    app = create_app({"DATABASE": args.db}, services=Services(storage))
    _, token = TokenStore(storage).create("bench", time.time())
    client = app.test_client()
    page = client.get("/dashboard/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert client.post("/dashboard/login", data={"csrf_token": csrf, "token": token}).status_code == 302
    site_id = storage.get_survey(survey_id)["site_id"]  # type: ignore[index]
    overview, report = [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        assert client.get(f"/dashboard/sites/{site_id}/").status_code == 200
        overview.append(time.perf_counter() - t)
        t = time.perf_counter()
        assert client.get(f"/api/v1/surveys/{survey_id}/report",
                          headers={"Authorization": f"Bearer {token}"}).status_code == 200
        report.append(time.perf_counter() - t)
    ms = lambda xs: ", ".join(f"{x * 1000:.0f}" for x in xs)  # noqa: E731
    print(f"overview page ms: {ms(overview)}  median after the first {statistics.median(overview[1:]) * 1000:.0f}")
    print(f"report API ms:    {ms(report)}  median after the first {statistics.median(report[1:]) * 1000:.0f}")
    app.extensions["ces_retention"].stop()
    if app.extensions["ces"].scheduler is not None:
        app.extensions["ces"].scheduler.stop()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(args.db + suffix):
            os.remove(args.db + suffix)


if __name__ == "__main__":
    main()

"""`ces demo`'s first run: prints the dashboard's URL and a token to log in, and its history
makes the Overview show real numbers (the same as the report API's)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect

from ces.testing import free_port, http, wait_until_serving

CES = str(Path(sys.executable).with_name("ces"))


def test_ces_demo_prints_a_dashboard_login_that_works_on_real_history(tmp_path, page: Page) -> None:
    port, db, out = free_port(), tmp_path / "demo.db", tmp_path / "out.txt"
    with open(out, "w") as sink:
        proc = subprocess.Popen([CES, "demo", "--port", str(port), "--db", str(db), "--connections", "50"],
                                stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, proc, timeout=60)
        text = out.read_text()
        assert f"Dashboard: {base}/dashboard/" in text
        token = re.search(r"log in with this admin token \(shown only now\): (ces_admin_\S+)", text).group(1)
        page.goto(base + "/")
        page.get_by_label("Admin token").fill(token)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        rows = page.locator("article.survey-row")
        expect(rows).to_have_count(2)
        surveys = http("GET", f"{base}/api/v1/surveys", token=token)[1]["items"]
        for survey, row in zip(surveys, rows.all()):
            report = http("GET", f"{base}/api/v1/surveys/{survey['id']}/report", token=token)[1]
            assert report["score"]["n"] >= 20  # weeks of answers, not a handful
            expect(row.get_by_test_id("n")).to_have_text(f"{report['score']['n']:,}")
            assert len(report["over_time"]["periods"]) >= 4
            expect(row.locator("svg.spark path.spark-line")).to_have_count(1)
        expect(page.locator("#feed li").first).to_be_visible()
        assert page.locator("#feed .feed-comment").count() >= 1
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    # A second run prints the URL again, and no new token.
    with open(out, "w") as sink:
        proc = subprocess.Popen([CES, "demo", "--port", str(port), "--db", str(db), "--connections", "50"],
                                stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_until_serving(base, proc, timeout=60)
        text = out.read_text()
        assert f"Dashboard: {base}/dashboard/" in text and "ces_admin_" not in text
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_ces_serve_first_run_says_where_the_dashboard_is_and_how_to_log_in(tmp_path) -> None:
    from ces.testing import ces_serve
    out = tmp_path / "out.txt"
    with open(out, "w") as sink:
        proc, base = ces_serve(tmp_path / "ces.db", connections=20, stdout=sink, stderr=subprocess.STDOUT,
                               env={"PYTHONUNBUFFERED": "1"})
    try:
        text = out.read_text()
        assert f"Dashboard: {base}/dashboard/" in text
        assert "ces token create NAME" in text and "ces user create EMAIL" in text
        assert "ces_admin_" not in text  # no token made behind the operator's back
        status, _ = http("GET", f"{base}/dashboard/login")
        assert status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)

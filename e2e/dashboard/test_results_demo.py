"""The results page on `ces demo`'s history, under the production server (`ces serve`'s event
loop: the report services run off the loop): every survey's page opens from the Overview and
shows the report API's numbers, drivers, comments and a chart."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect

from ces.testing import free_port, http, wait_until_serving
from dashboard_support import axe_violations, screenshot

CES = str(Path(sys.executable).with_name("ces"))


def test_results_of_the_demo_surveys(tmp_path, page: Page) -> None:
    port, db, out = free_port(), tmp_path / "demo.db", tmp_path / "out.txt"
    with open(out, "w") as sink:
        proc = subprocess.Popen([CES, "demo", "--port", str(port), "--db", str(db), "--connections", "50"],
                                stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, proc, timeout=60)
        token = re.search(r"admin token \(shown only now\): (ces_admin_\S+)", out.read_text()).group(1)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(base + "/")
        page.get_by_label("Admin token").fill(token)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        overview = page.url
        surveys = http("GET", f"{base}/api/v1/surveys", token=token)[1]["items"]
        for survey in surveys:
            page.goto(overview)
            page.get_by_role("link", name=survey["name"]).first.click()
            expect(page.get_by_role("heading", level=1)).to_have_text(survey["name"])
            options = http("GET", f"{base}/api/v1/surveys/{survey['id']}/filters", token=token)[1]
            assert options["properties"], options  # the demo's events carry operational measures
            report = http("GET", f"{base}/api/v1/surveys/{survey['id']}/report?driver={options['properties'][0]}",
                          token=token)[1]
            expect(page.locator("#headline-n")).to_have_text(f"{report['score']['n']:,}".replace(",", "\u202f"))
            expect(page.locator("#driver-rows tbody tr")).to_have_count(len(report["drivers"]["values"]))
            assert report["drivers"]["values"]
            expect(page.locator("#trend-chart canvas")).to_be_visible()
            assert page.locator("#comment-list .comment-text").count() >= 1
        assert axe_violations(page) == []
        screenshot(page, "results-demo")
    finally:
        proc.terminate()
        proc.wait(timeout=15)

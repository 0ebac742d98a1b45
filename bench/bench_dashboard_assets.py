"""Dashboard assets benchmark: the JS and CSS a browser loads on the dashboard's first visit, gzip.

A real server (LiveServer, with a few answers so every page renders its charts), real headless
Chromium logged in with an admin token: it opens the login page and then every dashboard page of
the site found in the URL map (Overview, Settings, and whichever pages are installed: results,
editors, …). Every script and stylesheet response is recorded; each distinct file is counted
once (the browser caches it for the next pages), at its gzip -9 size (what a gzip-serving proxy
sends; the server itself sends files as they are). The chart library (uPlot, JS + CSS) is always
counted, also when no installed page loads it yet. Target: ≤ 60 KB in all.

    .venv/bin/python bench/bench_dashboard_assets.py [--answers 20] [--json]
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "e2e" / "dashboard"))

from playwright.sync_api import sync_playwright  # noqa: E402

from ces.testing import LiveServer  # noqa: E402
from dashboard_support import login, seed_answers  # noqa: E402


def _browser_settings() -> tuple[str, list[str]]:
    """Debian's Chromium and its flags, as the browser tests launch it (e2e/conftest.py)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("e2e_conftest", ROOT / "e2e" / "conftest.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.CHROMIUM, module.CHROMIUM_ARGS


CHROMIUM, CHROMIUM_ARGS = _browser_settings()

TARGET = 60 * 1024
CHARTS = ("/dashboard/vendor/uplot.min.js", "/dashboard/vendor/uplot.min.css")


def site_pages(server: LiveServer) -> list[str]:
    """Every GET page of the site in the URL map, its ids filled with the seeded site's."""
    ids = {"site_id": server.site["id"], "survey_id": server.survey_id, "trigger_id": 1, "user_id": "seed-0"}
    pages = []
    for rule in server.app.url_map.iter_rules():
        if (rule.rule.startswith("/dashboard/sites/") and "GET" in rule.methods
                and not rule.rule.endswith((".json", ".csv", ".jsonl")) and "/vendor/" not in rule.rule
                and "/export" not in rule.rule):  # downloads are not pages
            pages.append(re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(ids.get(m.group(1), 1)), rule.rule))
    return sorted(set(pages))


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def measure(answers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "ces.db")
        try:
            seed_answers(server, [(i % 7) + 1 for i in range(answers)], comments=["bench"] * answers)
            assets: dict[str, dict] = {}
            per_page: dict[str, list[str]] = {}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                current: list[str] = []

                def seen(response) -> None:  # noqa: ANN001
                    if response.request.resource_type in ("script", "stylesheet"):
                        path = response.url.replace(server.url, "").split("?")[0]
                        current.append(path)
                        if path not in assets:
                            body = response.body()
                            assets[path] = {"kind": response.request.resource_type, "raw": len(body),
                                            "gzip": gzip_size(body)}
                page.on("response", seen)
                login(page, server)  # the login page, then the Overview
                per_page["/dashboard/login + overview"] = sorted(set(current))
                for path in site_pages(server):
                    current.clear()
                    page.goto(server.url + path)
                    page.wait_for_load_state("networkidle")
                    per_page[path] = sorted(set(current))
                browser.close()
            for path in CHARTS:  # the charts count even before a page loads them
                if path not in assets:
                    body = urllib.request.urlopen(server.url + path).read()
                    assets[path] = {"kind": "script" if path.endswith(".js") else "stylesheet", "raw": len(body),
                                    "gzip": gzip_size(body), "not_loaded_by_a_page": True}
        finally:
            server.stop()
    total = sum(a["gzip"] for a in assets.values())
    return {"assets": assets, "pages": per_page, "total_gzip": total, "total_raw": sum(a["raw"] for a in assets.values()),
            "target": TARGET, "within_target": total <= TARGET}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20, help="answers seeded so charts have data")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.answers)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'file':<48} {'raw':>9} {'gzip -9':>9}")
    for path, a in sorted(result["assets"].items()):
        note = "  (not loaded by an installed page yet)" if a.get("not_loaded_by_a_page") else ""
        print(f"{path:<48} {a['raw']:>9,} {a['gzip']:>9,}{note}")
    print(f"{'total (each file once)':<48} {result['total_raw']:>9,} {result['total_gzip']:>9,}"
          f"   target {TARGET:,}: {'ok' if result['within_target'] else 'OVER'}")
    for page, files in result["pages"].items():
        print(f"  {page}: {', '.join(files) or '-'}")
    if not result["within_target"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

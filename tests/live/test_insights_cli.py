"""`ces drivers`, `ces fix-first`, `ces report --insights` and `ces alerts run` on a database file
seeded as `ces demo` seeds it (its support tickets carry the conventional operational measures)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from ces.bootstrap import seed_default_site
from ces.demo_seed import seed_demo_history
from ces.storage import Storage

CES = str(Path(sys.executable).with_name("ces"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CES, *args], capture_output=True, text=True, timeout=120)


def test_insights_commands_on_the_demo_seed(tmp_path) -> None:
    db = str(tmp_path / "ces.db")
    storage = Storage(db)
    storage.migrate()
    site = seed_default_site(storage, time.time(), origins=["*"])
    assert seed_demo_history(storage, site, time.time()) > 0
    storage.close()

    ranked = run("drivers", "1", "--db", db, "--json")
    assert ranked.returncode == 0, ranked.stderr
    body = json.loads(ranked.stdout)
    keys = {p["key"] for p in body["properties"] if p["source"] == "event"}
    assert {"transfers", "repeat_contacts", "channel_switches", "wait_seconds", "channel"} <= keys
    assert body["properties"][0]["key"] in ("transfers", "wait_seconds") and body["properties"][0]["findings"]
    text = run("drivers", "1", "--db", db, "--top", "3")
    assert text.returncode == 0 and text.stdout.startswith("What drives effort (")

    fix = run("fix-first", "1", "--db", db, "--top", "5")
    assert fix.returncode == 0, fix.stderr
    assert fix.stdout.startswith("Fix first") and len(fix.stdout.splitlines()) == 6
    assert "None" not in fix.stdout
    themed = run("fix-first", "1", "--db", db, "--top", "50")
    assert "× theme " in themed.stdout, themed.stdout

    report = run("report", "1", "--db", db, "--insights")
    assert report.returncode == 0, report.stderr
    assert "What drives effort" in report.stdout and "Fix first" in report.stdout

    bad = run("drivers", "1", "--db", db, "--min-n", "1")
    assert bad.returncode != 0 and "min_n" in bad.stderr
    alerts = run("alerts", "run", "--db", db)
    assert alerts.returncode == 0 and alerts.stdout.strip().endswith("notice(s) queued"), alerts.stderr

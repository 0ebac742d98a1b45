"""`ces themes show` and `ces themes customers` on a database file, as the product's command."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

from ces.bootstrap import seed_default_site
from ces.demo_seed import seed_demo_answers
from ces.storage import Storage

CES = str(Path(sys.executable).with_name("ces"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CES, *args], capture_output=True, text=True, timeout=120)


def test_themes_show_and_customers(tmp_path) -> None:
    db = str(tmp_path / "ces.db")
    storage = Storage(db)
    storage.migrate()
    site = seed_default_site(storage, time.time(), origins=["*"])
    assert seed_demo_answers(storage, site, time.time()) > 0
    storage.close()
    shown = run("themes", "show", "1", "--db", db, "--top", "3")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("Survey 1:") and "Delivery" in lines[1]
    assert sum(1 for line in lines if line.startswith("  ") and not line.startswith("      ")) >= 3
    assert "Found among the other comments:" in shown.stdout
    as_json = run("themes", "show", "1", "--db", db, "--json")
    assert as_json.returncode == 0 and '"themes"' in as_json.stdout
    listed = run("themes", "customers", "1", "--theme", "delivery", "--db", db, "--csv")
    assert listed.returncode == 0, listed.stderr
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert rows and all(r["email"].endswith("@example.com") and int(r["score"]) <= 3 for r in rows)
    text = run("themes", "customers", "1", "--theme", "delivery", "--db", db)
    assert text.returncode == 0 and f"{len(rows)} customers" in text.stderr
    bad = run("themes", "customers", "1", "--theme", "nope", "--db", db)
    assert bad.returncode == 2 and "no theme 'nope'" in bad.stderr
    missing = run("themes", "show", "99", "--db", db)
    assert missing.returncode == 1 and "no survey 99" in missing.stderr

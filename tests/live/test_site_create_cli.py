"""`ces site create` sets everything a site is created with: origins and its time zone."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CES = str(Path(sys.executable).with_name("ces"))


def ces(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CES, *args], capture_output=True, text=True, timeout=60)


def test_a_site_is_created_in_its_time_zone_and_a_bad_zone_creates_nothing(tmp_path) -> None:
    db = str(tmp_path / "ces.db")
    made = ces("site", "create", "Paris shop", "--db", db, "--origin", "https://shop.example",
               "--time-zone", "Europe/Paris", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["time_zone"] == "Europe/Paris"
    listed = ces("site", "list", "--db", db, "--json")
    assert [s["time_zone"] for s in json.loads(listed.stdout) if s["name"] == "Paris shop"] == ["Europe/Paris"]
    refused = ces("site", "create", "Nowhere", "--db", db, "--time-zone", "Mars/Olympus")
    assert refused.returncode == 2 and "--time-zone" in refused.stderr and "Mars/Olympus" in refused.stderr
    assert "Nowhere" not in ces("site", "list", "--db", db, "--json").stdout

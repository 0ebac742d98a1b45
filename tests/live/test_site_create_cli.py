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


def test_a_webhook_secret_rotated_from_the_cli_signs_beside_the_old_one(tmp_path) -> None:
    from ces.storage import Storage
    from ces.storage.webhooks import WebhookStore
    db = str(tmp_path / "hooks.db")
    site = json.loads(ces("site", "create", "Hooked", "--db", db, "--json").stdout)
    storage = Storage(db)
    store = WebhookStore(storage)
    hook = store.create(site["id"], "http://127.0.0.1:9/hook", "whsec_old", ["answer.created"], None, None, 0.0)
    rotated = ces("webhook", "rotate-secret", str(hook["id"]), "--db", db, "--grace", "1h")
    assert rotated.returncode == 0, rotated.stderr
    new_secret = rotated.stdout.strip()
    row = store.get(hook["id"])
    assert new_secret and new_secret != "whsec_old" and row["secret"] == new_secret
    assert storage.one("select previous_secret from webhooks where id = ?", [hook["id"]])["previous_secret"] == "whsec_old"
    assert "also signs until" in rotated.stderr
    missing = ces("webhook", "rotate-secret", "999", "--db", db)
    assert missing.returncode == 2 and "No webhook 999" in missing.stderr

"""The `ces` command as a user runs it: gunicorn serving the real app in its own process."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ces.testing import WsClient, ces_serve, http

CES = str(Path(sys.executable).with_name("ces"))


def test_serve_bootstraps_prints_keys_and_serves(tmp_path) -> None:
    proc, url = ces_serve(tmp_path / "ces.db", connections=50,
                          env={"CES_BOOTSTRAP_SITE_KEY": "site_fixed", "CES_BOOTSTRAP_SECRET_KEY": "sk_fixed"},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = int(url.rsplit(":", 1)[1])
    try:
        tab = WsClient(f"ws://127.0.0.1:{port}/ws")
        tab.send({"type": "hello", "site": "site_fixed", "user": "u1"})
        tab.expect("welcome")
        status, body = http("POST", f"{url}/api/v1/events", {"user_id": "u1", "name": "ticket_closed"}, "sk_fixed")
        assert status == 200 and body["results"][0]["reason"] == "prompted"
        assert tab.expect("prompt")["prompt"]["id"] == body["results"][0]["prompt_id"]
        status, _ = http("GET", f"{url}/widget.js")
        assert status == 200
        tab.close()
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0]
    assert "site_fixed" in out and "sk_fixed" in out
    assert f'<script async src="http://127.0.0.1:{port}/widget.js" data-site="site_fixed"' in out


def test_site_create_json(tmp_path) -> None:
    out = subprocess.run([CES, "site", "create", "Shop", "--db", str(tmp_path / "c.db"), "--json"],
                         capture_output=True, text=True, check=True).stdout
    keys = json.loads(out)
    assert keys["name"] == "Shop" and keys["site_key"].startswith("site_") and keys["secret_key"].startswith("sk_")


def test_every_command_has_help() -> None:
    from click.testing import CliRunner

    from ces.cli import main
    runner = CliRunner()
    for args in (["serve"], ["demo"], ["site", "create"], ["token", "create"], ["token", "list"], ["token", "revoke"]):
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0 and len(result.output) > 50


def test_admin_token_create_use_and_revoke(tmp_path) -> None:
    db = str(tmp_path / "t.db")
    created = subprocess.run([CES, "token", "create", "ops", "--db", db], capture_output=True, text=True, check=True)
    secret = created.stdout.strip()
    assert secret.startswith("ces_admin_")
    from ces.storage import Storage
    storage = Storage(db)
    assert storage.admin_by_token(secret)["name"] == "ops"
    assert secret not in json.dumps(storage.all("select * from admin_tokens"))  # stored hashed
    listed = subprocess.run([CES, "token", "list", "--db", db], capture_output=True, text=True, check=True).stdout
    assert "ops\tactive" in listed
    subprocess.run([CES, "token", "revoke", "1", "--db", db], capture_output=True, text=True, check=True)
    assert storage.admin_by_token(secret) is None

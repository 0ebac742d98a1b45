"""`ces demo` on a database an earlier run made (on another port or host): the demo shop's own
pages must still open the widget, or the demo shows no prompt at all."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ces.storage import Storage
from ces.testing import WsClient, free_port, wait_until_serving

CES = str(Path(sys.executable).with_name("ces"))


def run(command: str, db: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([CES, command, "--port", str(port), "--db", str(db), "--connections", "50"],
                            env={**os.environ, "CES_BOOTSTRAP_SITE_KEY": "site_demo"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_until_serving(f"http://127.0.0.1:{port}", proc)
    return proc


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    return proc.communicate(timeout=15)[0]


def hello_reply(port: int, origin: str) -> dict:
    tab = WsClient(f"ws://127.0.0.1:{port}/ws", headers={"Origin": origin})
    try:
        tab.send({"type": "hello", "id": "h1", "site": "site_demo", "user": "shopper"})
        reply = tab.recv(timeout=5)
        assert reply is not None
        return reply
    finally:
        tab.close()


def test_demo_on_another_port_allows_its_own_pages_and_says_so(tmp_path) -> None:
    db = tmp_path / "ces.db"
    first = free_port()
    stop(run("serve", db, first))
    second = free_port()
    proc = run("demo", db, second)
    try:
        for origin in (f"http://127.0.0.1:{second}", f"http://localhost:{second}"):
            assert hello_reply(second, origin)["type"] == "welcome", origin
        assert hello_reply(second, "https://evil.example")["code"] == "origin_not_allowed"
    finally:
        out = stop(proc)
    assert f"http://127.0.0.1:{second}" in out and "allowed origins" in out, out
    allowed = Storage(str(db)).site_by_key("site_demo")["allowed_origins"]
    assert allowed == [f"http://127.0.0.1:{first}", f"http://localhost:{first}",
                       f"http://127.0.0.1:{second}", f"http://localhost:{second}"]


def test_serve_on_another_port_changes_no_origin(tmp_path) -> None:
    """Only the demo adds its pages: `ces serve` never widens what a site allows."""
    db = tmp_path / "ces.db"
    first = free_port()
    stop(run("serve", db, first))
    second = free_port()
    proc = run("serve", db, second)
    try:
        assert hello_reply(second, f"http://127.0.0.1:{second}")["code"] == "origin_not_allowed"
    finally:
        stop(proc)

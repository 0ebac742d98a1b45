"""The production server dies after the click but before the ack; a new one starts on the same
port and database file; the widget reconnects, re-sends, and the answer is stored exactly once.

Nothing is simulated: `ces serve` (gunicorn, its own process group) is frozen with SIGSTOP so the
answer the widget sends sits unread in the kernel's socket buffer, then killed with SIGKILL (the
answer is lost with it), then restarted.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from playwright.sync_api import Page, expect

from ces.testing import ces_serve, free_port, http
from test_widget_support import HOST, open_shop, shop, wait_until  # noqa: F401 (shop is a fixture)

SITE_KEY, SECRET_KEY = "site_restart", "sk_restart"


def start(port: int, db: Path, shop_origin: str) -> subprocess.Popen[bytes]:
    """`ces serve` in a process group of its own (gunicorn's master and worker: signal both); its
    default site allows the shop's pages, served from another port, as a customer would set it up."""
    return ces_serve(db, threads=50, port=port, start_new_session=True,
                     env={"CES_BOOTSTRAP_SITE_KEY": SITE_KEY, "CES_BOOTSTRAP_SECRET_KEY": SECRET_KEY,
                          "CES_BOOTSTRAP_ORIGINS": shop_origin})[0]


def kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db, timeout=5) as con:
        return con.execute(sql, params).fetchall()


def outbox(page: Page) -> dict[str, Any]:
    return json.loads(page.evaluate("localStorage.getItem('ces_out') || '{}'"))


def test_server_killed_before_the_ack_answer_arrives_once_after_restart(shop, page: Page, tmp_path) -> None:
    started = time.monotonic()
    port, db = free_port(), tmp_path / "ces.db"
    url = f"http://127.0.0.1:{port}"
    server = SimpleNamespace(url=url, site={"site_key": SITE_KEY})  # what the host page helper needs
    procs = [start(port, db, shop.url)]
    try:
        user = "restart-" + uuid.uuid4().hex[:8]
        # data-retry-max: reconnect at most 1 s apart (production: 30 s), to keep the test short.
        open_shop(page, server, shop, user=user, retry_max="1000")
        status, body = http("POST", f"{url}/api/v1/events",
                            {"user_id": user, "name": "checkout_completed", "event_id": uuid.uuid4().hex},
                            SECRET_KEY)
        assert status == 200, body
        prompt_id = body["results"][0]["prompt_id"]
        assert prompt_id, body
        expect(page.get_by_role("radiogroup")).to_be_visible()
        wait_until(lambda: rows(db, "select status from prompts where id = ?", (prompt_id,)) == [("shown",)],
                   page=page)

        os.killpg(procs[0].pid, signal.SIGSTOP)  # frozen: the answer will not be read, let alone acked
        page.get_by_role("radio", name="6", exact=True).click()
        expect(page.locator(HOST).get_by_text("Thank you!")).to_be_visible()  # score 6: no follow-up
        stored = outbox(page)
        assert list(stored) == ["a" + prompt_id]
        assert stored["a" + prompt_id]["m"]["score"] == 6
        page.wait_for_timeout(200)  # the frozen server holds the answer, unacked
        assert list(outbox(page)) == ["a" + prompt_id]

        kill(procs[0])  # gone with the answer in its socket buffer
        assert rows(db, "select count(*) from answers") == [(0,)]
        procs.append(start(port, db, shop.url))  # same port, same database file
        wait_until(lambda: outbox(page) == {}, timeout=10, page=page)  # re-sent and acked

        assert rows(db, "select prompt_id, score from answers") == [(prompt_id, 6)]
        assert rows(db, "select status from prompts where id = ?", (prompt_id,)) == [("answered",)]
        expect(page.locator(HOST)).to_have_count(0, timeout=5_000)  # the thank-you closed itself
        page.wait_for_timeout(300)  # nothing more is re-sent after the ack
        assert rows(db, "select count(*) from answers") == [(1,)]
    finally:
        for proc in procs:
            kill(proc)
    assert time.monotonic() - started < 30

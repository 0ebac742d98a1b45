"""Helpers for the widget's browser tests (no tests here; imported by e2e/test_widget_*.py).

Host pages are served by a tiny HTTP server of their own (fixture `shop`, another loopback port)
and embed the real `/widget.js` of the live server: another origin, so the widget runs
cross-origin as on customers' sites. (Pages fulfilled by Playwright's router count as public
address space for Chromium, which then refuses to load a loopback script.)
The websocket goes to the real server; a few tests put Playwright's websocket router in between
to lose an ack or inject garbage.
"""
from __future__ import annotations

import hashlib
import hmac
import html
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import Page

PAGES = Path(__file__).parent / "pages"
WIDGET = Path(__file__).resolve().parents[1] / "widget"
HOST = "[data-ces]"

POINT_LABELS = {  # what each metric shows on its buttons when it has per-point labels
    "ces5": 5, "csat5": 5,
}


def script_tag(server: Any, **attrs: str) -> str:
    data = {"site": server.site["site_key"], **attrs}
    parts = " ".join(f'data-{k.replace("_", "-")}="{html.escape(str(v))}"' for k, v in data.items() if v is not None)
    return f'<script async src="{server.url}/widget.js" {parts}></script>'


def host_html(server: Any, *, body: str | None = None, head: str = "", before: str = "",
              **attrs: str) -> str:
    body = body if body is not None else (PAGES / "shop_body.html").read_text()
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>{head}</head>'
            f"<body>{body}{before}{script_tag(server, **attrs)}</body></html>")


class Shop:
    """A host site on its own loopback port; `pages` maps a path to the HTML served there."""

    def __init__(self) -> None:
        pages: dict[str, str] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        # 20 ms between checks for shutdown() (the default 0.5 s was every test's teardown)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def shop() -> Iterator[Shop]:
    site = Shop()
    try:
        yield site
    finally:
        site.stop()


def open_shop(page: Page, server: Any, shop: Shop, path: str = "/", **kwargs: Any) -> Page:
    """Serve a host page at shop.url+path embedding the widget, and open it."""
    shop.pages[path] = host_html(server, **kwargs)
    page.goto(shop.url + path)
    return page


def create_survey(server: Any, metric: str, event: str, **fields: Any) -> dict[str, Any]:
    """A survey of `metric` asked after backend event `event` (storage calls: no admin API yet)."""
    storage, now = server.services.storage, server.clock()
    survey = storage.create_survey(server.site["id"], now, name=f"{metric} test", metric=metric, **fields)
    storage.create_trigger(server.site["id"], now, name=f"ask {metric}", event_name=event, survey_id=survey["id"])
    return survey


def ask(server: Any, user: str, name: str = "checkout_completed") -> str:
    """Send a backend event for `user`; the id of the prompt it created."""
    status, body = server.post_events({"user_id": user, "name": name, "event_id": uuid.uuid4().hex})
    assert status in (200, 201, 202), body
    result = (body.get("results") or [body])[0] if isinstance(body, dict) else body[0]
    prompt_id = result.get("prompt_id")
    assert prompt_id, body
    return prompt_id


def answers(server: Any, prompt_id: str | None = None) -> list[dict[str, Any]]:
    sql, params = "select * from answers", []
    if prompt_id:
        sql, params = sql + " where prompt_id = ?", [prompt_id]
    return server.services.storage.all(sql, params)


def prompt_status(server: Any, prompt_id: str) -> str:
    return server.services.storage.get_prompt(prompt_id)["status"]


def wait_until(predicate: Any, timeout: float = 8.0, page: Page | None = None) -> Any:
    """Poll `predicate`. With `page`, wait through Playwright so that its events (frames, console,
    websocket routes) keep being dispatched meanwhile; a bare sleep would stall them."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        if page is not None:
            page.wait_for_timeout(25)
        else:
            time.sleep(0.02)


def user_hash(server: Any, user: str) -> str:
    return hmac.new(server.site["secret_key"].encode(), user.encode(), hashlib.sha256).hexdigest()


def shadow_active(page: Page) -> dict[str, Any] | None:
    """What has focus inside the widget's shadow root (None when focus is outside it)."""
    return page.evaluate("""() => {
        const h = document.querySelector('[data-ces]');
        if (!h || document.activeElement !== h) return null;
        const a = h.shadowRoot.activeElement;
        return a && {tag: a.tagName, role: a.getAttribute('role'), text: a.textContent,
                     label: a.getAttribute('aria-label')};
    }""")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core on the whole page, shadow roots included; [] when it is clean."""
    axe = WIDGET / "node_modules" / "axe-core" / "axe.min.js"
    assert axe.exists(), "axe-core is missing: run widget/install-test-deps.sh"
    page.add_script_tag(content=axe.read_text())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]]


def console_warnings(page: Page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text) if msg.type == "warning" else None)
    return found


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def http_get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """Raw GET (no decompression): status, headers, body bytes."""
    import urllib.request
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, dict(resp.headers), resp.read()

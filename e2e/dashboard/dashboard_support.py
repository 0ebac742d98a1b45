"""Helpers of the dashboard's browser tests (import them: `from dashboard_support import login, ...`).

- `login(page, server, token=None, next_path=None)` / `login_password(page, server, email, password)`:
  log in through the real form. `url(server, path)`, `site_url(server, path, site_id=None)`.
- `axe_violations(page)`: axe-core on the page (works under the dashboard's CSP, which forbids
  the inline <script> other tests use to inject it).
- `screenshot(page, name)`: e2e/screenshots/<name>-desktop.png (1280x800) and -phone.png (390x844).
- `seed_answers(server, scores, comments=None)`: real answers (backend event + widget socket).
The fixture `dash` (conftest.py): a page logged in with the server's admin token, on the Overview.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Iterator

from playwright.sync_api import Page, expect

E2E = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(E2E))  # the widget tests' helpers (e2e/test_widget_support.py)

AXE = E2E.parent / "widget" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = E2E / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def url(server: Any, path: str = "/") -> str:
    return f"{server.url}/dashboard{path}"


def site_url(server: Any, path: str = "/", site_id: int | None = None) -> str:
    return url(server, f"/sites/{site_id or server.site['id']}{path}")


def login(page: Page, server: Any, token: str | None = None, next_path: str | None = None) -> None:
    """Log in with an admin token through the login form (the server's all-sites token by default)."""
    target = url(server, "/login?with=token") + (f"&next={next_path}" if next_path else "")
    page.goto(target)
    page.get_by_label("Admin token").fill(token or server.admin_token)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def login_password(page: Page, server: Any, email: str, password: str) -> None:
    page.goto(url(server, "/login?with=password"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core on the whole page; [] when it is clean. Evaluated through the DevTools protocol,
    which the page's CSP does not govern (an injected <script> would be refused, rightly)."""
    assert AXE.exists(), "axe-core is missing: run widget/install-test-deps.sh"
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]]


def screenshot(page: Page, name: str) -> list[Path]:
    """Full-page screenshots at desktop and phone widths (the viewport is put back after)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    before = page.viewport_size
    paths = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(50)  # one layout pass after the resize (not a wait for data)
        path = SCREENSHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    if before:
        page.set_viewport_size(before)
    return paths


def seed_answers(server: Any, scores: list[int], comments: list[str | None] | None = None,
                 user_prefix: str = "seed") -> list[str]:
    """One answer per score through the real path: a backend event (API) issues a prompt, the
    user's widget socket shows it and answers; returns once each answer is acked (committed)."""
    users = []
    for i, score in enumerate(scores):
        user = f"{user_prefix}-{i}-{time.monotonic_ns()}"
        ws = server.ws(user)
        status, body = server.post_events({"name": "checkout_completed", "user_id": user})
        assert status in (200, 201, 202), body
        prompt_id = ws.expect("prompt")["prompt"]["id"]
        ws.send({"type": "shown", "prompt": prompt_id, "id": f"s{i}"})
        ws.expect("ack")
        answer: dict[str, Any] = {"type": "answer", "prompt": prompt_id, "score": score, "id": f"a{i}"}
        if comments and comments[i]:
            answer["comment"] = comments[i]
        ws.send(answer)
        ack = ws.expect("ack")
        assert ack["ref"] == f"a{i}", ack
        ws.close()
        users.append(user)
    return users

"""The demo shop under its content security policy: the page, its script and the widget run with
no violation (an inline script or style the policy forbids would show up here)."""
from __future__ import annotations

from playwright.sync_api import Page, expect


def test_demo_runs_under_its_csp_without_violations(live_server, page: Page) -> None:
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.log('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
    response = page.goto(f"{live_server.url}/demo/?user=shopper-csp")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_role("button", name="Complete checkout").click()
    expect(page.locator("#decision")).to_contain_text("prompt: prompted")
    group = page.get_by_role("radiogroup")
    expect(group).to_be_visible()
    group.get_by_role("radio", name="6", exact=False).first.click()
    expect(page.locator("#score")).to_have_text("100.0 %", timeout=10_000)
    assert violations == []

"""The API docs page in a real browser: Swagger UI, served by this server, renders the document."""
from __future__ import annotations

from playwright.sync_api import Page, expect


def test_the_docs_page_renders_every_tag_with_no_outside_request(live_server, page: Page) -> None:
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server.url) else outside.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Customer Effort Score")
    for tag in ("events", "surveys", "triggers", "sites", "reports", "webhooks"):
        expect(page.locator(f"#operations-tag-{tag}")).to_be_visible()
    expect(page.get_by_text("/api/v1/sites/{site_id}/rotate-secret").first).to_be_visible()
    if __import__("os").environ.get("CES_DOCS_SCREENSHOT"):
        page.screenshot(path=__import__("os").environ["CES_DOCS_SCREENSHOT"], full_page=False)
    assert outside == [] and errors == []

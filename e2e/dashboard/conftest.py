"""Fixtures of the dashboard's browser tests; helpers are in dashboard_support.py.

- `live_server` (the root conftest): a real server on a loopback port with the default site,
  its survey and triggers seeded, and an all-sites admin token (`live_server.admin_token`).
- `dash`: a Chromium page already logged in with that token, on the default site's Overview.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from playwright.sync_api import Page, expect

from dashboard_support import login, site_url


@pytest.fixture
def dash(live_server: Any, page: Page) -> Iterator[Page]:
    """A page logged in with the admin token, on the default site's Overview."""
    login(page, live_server)
    expect(page).to_have_url(site_url(live_server, "/"))
    yield page

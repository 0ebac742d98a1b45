"""The size budget: the widget file the server serves is at most 4 KB after gzip -9."""
from __future__ import annotations

import gzip
from pathlib import Path

import brotli

from test_widget_support import http_get

WIDGET = Path(__file__).resolve().parents[1] / "widget"
BUDGET = 4096


def served_file() -> Path:
    """The file GET /widget.js serves: the minified build when present (server/ces/widget_route.py)."""
    built = WIDGET / "dist" / "ces.min.js"
    return built if built.exists() else WIDGET / "ces.js"


def test_served_widget_is_within_the_gzip_budget() -> None:
    raw = served_file().read_bytes()
    size = len(gzip.compress(raw, 9))
    assert size <= BUDGET, (f"{served_file().name}: {size} B gzip -9 > {BUDGET} B "
                            "(run widget/build.sh: the source alone is over budget)")


def test_live_widget_js_is_the_file_and_within_budget(live_server) -> None:
    status, headers, body = http_get(f"{live_server.url}/widget.js", {"Accept-Encoding": "identity"})
    assert status == 200
    assert body == served_file().read_bytes()
    assert len(gzip.compress(body, 9)) <= BUDGET
    _, gz_headers, gz_body = http_get(f"{live_server.url}/widget.js", {"Accept-Encoding": "gzip"})
    assert gz_headers.get("Content-Encoding") == "gzip" and len(gz_body) <= BUDGET
    _, br_headers, br_body = http_get(f"{live_server.url}/widget.js", {"Accept-Encoding": "br"})
    assert br_headers.get("Content-Encoding") == "br" and brotli.decompress(br_body) == body

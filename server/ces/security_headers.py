"""Security headers on every response.

- `X-Content-Type-Options: nosniff` everywhere: a browser never runs or renders a response as
  anything but its declared type (a JSON error echoing input cannot become a script or a page).
  `/widget.js` keeps working cross-origin: it is served as `application/javascript`, with
  `Access-Control-Allow-Origin: *`, and no `Cross-Origin-Resource-Policy` is set.
- On HTML pages (the demo shop): a content security policy with no inline script (the demo's
  script is a served file, `/demo/demo.js`), no plugins, no framing; a referrer policy that never
  sends a page's path to another origin; `X-Frame-Options` for browsers without frame-ancestors.
  Styles may be inline: the widget draws itself with a `<style>` element in its shadow root.
"""
from __future__ import annotations

import re

from flask import Flask, Response, request

_HOST = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def content_security_policy(host: str | None) -> str:
    # 'self' covers ws:/wss: of the same host in CSP 3; older engines need them named.
    sockets = f" ws://{host} wss://{host}" if host and _HOST.fullmatch(host) else ""
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"connect-src 'self'{sockets}; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")


def add_headers(response: Response) -> Response:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", content_security_policy(request.host))
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
    return response


def register(app: Flask) -> None:
    app.after_request(add_headers)

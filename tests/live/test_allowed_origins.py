"""Allowed origins: the widget socket of a site opens only for pages of the origins the site lists.

A real server, a real websocket client sending the `Origin` header a browser sends with the
upgrade, and `ces` itself for the command line and the first run.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import simple_websocket

from ces.storage import Storage
from ces.testing import LiveServer, WsClient, ces_serve

CES = str(Path(sys.executable).with_name("ces"))


def no_site_in(db: Path) -> bool:
    storage = Storage(str(db))
    storage.migrate()  # the file may not exist yet: the command stopped before opening it
    return storage.first_site() is None


@pytest.fixture
def shop_site(live_server: LiveServer) -> dict[str, Any]:
    """A second site that lists its shop's origin and the shop's subdomains."""
    return live_server.services.storage.create_site(
        "Shop", live_server.clock(), allowed_origins=["https://shop.example", "https://*.brand.example"])


@pytest.fixture
def hello() -> Iterator[Callable[..., tuple[WsClient, dict[str, Any]]]]:
    """open(url, site_key, origin, user): a socket opened by a page of `origin` (None: no Origin
    header), its hello sent, and the first reply. Every socket is closed after the test."""
    opened: list[WsClient] = []

    def open_(url: str, site_key: str, origin: str | None, user: str = "u1") -> tuple[WsClient, dict[str, Any]]:
        tab = WsClient(url, headers={"Origin": origin} if origin is not None else None)
        opened.append(tab)
        tab.send({"type": "hello", "id": "h1", "site": site_key, "user": user})
        reply = tab.recv(timeout=5)
        assert reply is not None
        return tab, reply

    yield open_
    for tab in opened:
        tab.close()


def assert_refused_and_closed(tab: WsClient, reply: dict[str, Any]) -> None:
    assert reply["type"] == "error" and reply["code"] == "origin_not_allowed", reply
    assert reply["ref"] == "h1" and reply["field"] == "origin"
    with pytest.raises(simple_websocket.ConnectionClosed):
        tab.ws.receive(timeout=5)
        tab.ws.receive(timeout=5)
    assert tab.ws.close_reason == 1008 and tab.ws.close_message == "origin_not_allowed"


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://shop.example.evil.example",
                                    "http://shop.example", "https://shop.example:8443"])
def test_a_page_of_another_origin_is_refused_and_closed(live_server: LiveServer, shop_site, origin: str, hello) -> None:
    tab, reply = hello(live_server.ws_url, shop_site["site_key"], origin)
    assert_refused_and_closed(tab, reply)
    assert live_server.services.hub.connections(shop_site["id"], "u1") == []
    # The advice fits the case: an opaque origin cannot be listed, any other can.
    assert ("never may" in reply["message"]) == (origin == "null"), reply["message"]


def test_a_page_of_an_allowed_origin_gets_welcome(live_server: LiveServer, shop_site, hello) -> None:
    for origin in ("https://shop.example", "HTTPS://Shop.Example:443"):
        tab, reply = hello(live_server.ws_url, shop_site["site_key"], origin)
        assert reply["type"] == "welcome", (origin, reply)
        tab.close()


def test_a_wildcard_entry_allows_subdomains_only(live_server: LiveServer, shop_site, hello) -> None:
    tab, reply = hello(live_server.ws_url, shop_site["site_key"], "https://eu.brand.example")
    assert reply["type"] == "welcome"
    tab, reply = hello(live_server.ws_url, shop_site["site_key"], "https://brand.example")
    assert_refused_and_closed(tab, reply)


def test_a_client_without_origin_is_let_through(live_server: LiveServer, shop_site, hello) -> None:
    """Non-browser clients send no Origin: the check cannot apply to them (identity verification does)."""
    tab, reply = hello(live_server.ws_url, shop_site["site_key"], None)
    assert reply["type"] == "welcome"


def test_a_site_with_no_origin_refuses_every_page(live_server: LiveServer, hello) -> None:
    closed = live_server.services.storage.create_site("Backend only", live_server.clock())
    tab, reply = hello(live_server.ws_url, closed["site_key"], "http://127.0.0.1:1234")
    assert_refused_and_closed(tab, reply)


def test_the_refusal_reaches_one_socket_only(live_server: LiveServer, shop_site, hello) -> None:
    """A refused page does not disturb a welcome socket of the same site and user."""
    good, reply = hello(live_server.ws_url, shop_site["site_key"], "https://shop.example", user="same")
    assert reply["type"] == "welcome"
    bad, reply = hello(live_server.ws_url, shop_site["site_key"], "https://evil.example", user="same")
    assert_refused_and_closed(bad, reply)
    good.send({"type": "event", "id": "e1", "name": "page_viewed"})
    assert good.expect("ack")["ref"] == "e1"


def test_site_create_stores_the_origins(tmp_path) -> None:
    db = tmp_path / "c.db"
    out = subprocess.run([CES, "site", "create", "Shop", "--db", str(db), "--json",
                          "--origin", "https://Shop.Example/", "--origin", "https://*.shop.example",
                          "--origin", "http://localhost:3000"], capture_output=True, text=True, check=True).stdout
    keys = json.loads(out)
    expected = ["https://shop.example", "https://*.shop.example", "http://localhost:3000"]
    assert keys["allowed_origins"] == expected
    assert Storage(str(db)).site_by_key(keys["site_key"])["allowed_origins"] == expected
    text = subprocess.run([CES, "site", "create", "Open", "--db", str(db), "--origin", "*"],
                          capture_output=True, text=True, check=True).stdout
    assert "allowed origins: *" in text


@pytest.mark.parametrize("bad", ["shop.example", "https://shop.example/checkout", "ftp://shop.example", "null"])
def test_site_create_refuses_an_invalid_origin_and_creates_nothing(tmp_path, bad: str) -> None:
    db = tmp_path / "c.db"
    done = subprocess.run([CES, "site", "create", "Shop", "--db", str(db), "--origin", "https://ok.example",
                           "--origin", bad], capture_output=True, text=True)
    assert done.returncode == 2
    assert "--origin" in done.stderr and "is not an origin" in done.stderr and bad in done.stderr
    assert no_site_in(db)


def test_first_run_allows_the_servers_own_origin_and_bootstrap_origins(tmp_path, hello) -> None:
    """`ces serve` on a new database: the default site allows the pages the server serves itself
    (the demo shop) and CES_BOOTSTRAP_ORIGINS, prints them, and refuses any other page."""
    proc, url = ces_serve(tmp_path / "ces.db", threads=20,
                          env={"CES_BOOTSTRAP_SITE_KEY": "site_fixed",
                               "CES_BOOTSTRAP_ORIGINS": "https://shop.example, https://*.shop.example"},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = int(url.rsplit(":", 1)[1])
    ws_url = f"ws://127.0.0.1:{port}/ws"
    try:
        for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}", "https://www.shop.example"):
            tab, reply = hello(ws_url, "site_fixed", origin)
            assert reply["type"] == "welcome", (origin, reply)
            tab.close()
        tab, reply = hello(ws_url, "site_fixed", "https://evil.example")
        assert_refused_and_closed(tab, reply)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0]
    allowed = [f"http://127.0.0.1:{port}", f"http://localhost:{port}", "https://shop.example", "https://*.shop.example"]
    assert Storage(str(tmp_path / "ces.db")).site_by_key("site_fixed")["allowed_origins"] == allowed
    assert ", ".join(allowed) in out and "CES_BOOTSTRAP_ORIGINS" in out and "--origin" in out


def test_an_invalid_bootstrap_origin_stops_the_first_run_with_a_clear_message(tmp_path) -> None:
    done = subprocess.run([CES, "serve", "--db", str(tmp_path / "ces.db"), "--port", "1"],
                          env={"CES_BOOTSTRAP_ORIGINS": "https://ok.example,shop.example", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "CES_BOOTSTRAP_ORIGINS" in done.stderr and "shop.example" in done.stderr
    assert no_site_in(tmp_path / "ces.db")

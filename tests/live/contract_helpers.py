"""Helpers of the live tests: a real answer through the real socket; a real webhook receiver."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ces.testing import LiveServer, WsClient


def answer_through_widget(server: LiveServer, site: dict, user: str, event: str, score: int,
                          comment: str | None = None) -> str:
    """`event` from the site's backend, the prompt on the user's socket, shown and answered; the
    prompt id."""
    from ces.testing import http
    status, body = http("POST", f"{server.url}/api/v1/events", {"user_id": user, "name": event},
                        site["secret_key"])
    assert status == 200 and body["results"][0]["decision"] == "prompt", body
    ws = WsClient(server.ws_url)
    server._clients.append(ws)
    ws.send({"type": "hello", "site": site["site_key"], "user": user})
    ws.expect("welcome")
    prompt_id = ws.expect("prompt")["prompt"]["id"]
    ws.send({"type": "shown", "prompt": prompt_id, "id": "s"})
    ws.expect("ack")
    message = {"type": "answer", "prompt": prompt_id, "score": score, "id": "a"}
    if comment:
        message["comment"] = comment
    ws.send(message)
    ack = ws.expect("ack")
    assert ack["status"] == "answered", ack
    ws.close()
    return prompt_id


class Receiver:
    """Answers `fail` 500s first, then 200s, each after `delay` seconds; records every request."""

    def __init__(self, fail: int = 0, delay: float = 0.0) -> None:
        self.fail, self.delay = fail, delay
        self.requests: list[dict] = []
        self.times: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                receiver.times.append(time.monotonic())
                time.sleep(receiver.delay)
                failing = len(receiver.requests) <= receiver.fail
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()  # close() quick

    def wait(self, count: int, timeout: float = 8.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} of {count} requests arrived"
            time.sleep(0.01)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""Helpers of the admin-contract tests: a real answer through the real socket."""
from __future__ import annotations

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

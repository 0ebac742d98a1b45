"""Helpers for the issue-18 live tests ("asking well"): configure through the admin API, send
events through the events API, answer through a real websocket, move the server's clock."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ces.testing import LiveServer

DAY = 86400
OFF = {"recontact_wait": None, "type_wait": None, "survey_wait": None, "max_prompts": None,
       "max_prompts_window": None, "one_open": False}


def ok(result: tuple[int, Any], status: int = 200) -> Any:
    assert result[0] == status, result
    return result[1]


def policy(server: LiveServer, **layers: Any) -> dict[str, Any]:
    """Every fatigue layer off except the ones given."""
    return ok(server.admin("PUT", f"/api/v1/sites/{server.site['id']}/fatigue", {**OFF, **layers}))


def time_zone(server: LiveServer, name: str) -> None:
    ok(server.admin("PATCH", f"/api/v1/sites/{server.site['id']}", {"time_zone": name}))


def survey(server: LiveServer, metric: str = "ces7", **fields: Any) -> int:
    return ok(server.admin("POST", "/api/v1/surveys", {"name": f"{metric} survey", "metric": metric, **fields}), 201)["id"]


def trigger(server: LiveServer, event: str, survey_id: int | None = None, **fields: Any) -> int:
    body = {"event_name": event, "survey_id": survey_id or server.survey_id, **fields}
    return ok(server.admin("POST", "/api/v1/triggers", body), 201)["id"]


def send(server: LiveServer, user: str, name: str = "checkout_completed", **event: Any) -> dict[str, Any]:
    return ok(server.post_events({"user_id": user, "name": name, **event}))["results"][0]


def answer(server: LiveServer, user: str, prompt_id: str, score: int) -> None:
    """The user's tab connects, gets the prompt, shows it and answers it."""
    tab = server.ws(user)
    assert tab.expect("prompt")["prompt"]["id"] == prompt_id
    tab.send({"type": "shown", "prompt": prompt_id, "id": "s"})
    tab.expect("ack")
    tab.send({"type": "answer", "prompt": prompt_id, "score": score, "id": "a"})
    assert tab.expect("ack")["status"] == "answered"
    tab.close()


def move_to(server: LiveServer, when: float) -> None:
    """The server's clock (which only moves forward) set to `when`."""
    gap = when - server.clock()
    assert gap > 0, "the test clock only moves forward"
    server.clock.advance(gap)


def local(zone: str, *parts: int) -> float:
    """Epoch seconds of a wall-clock time in `zone` (never an ambiguous or skipped one here)."""
    return datetime(*parts, tzinfo=ZoneInfo(zone)).timestamp()


def prompt_status(server: LiveServer, prompt_id: str) -> str:
    return server.services.storage.get_prompt(prompt_id)["status"]

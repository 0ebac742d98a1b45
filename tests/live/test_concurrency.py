"""The check-and-record step is atomic: concurrent HTTP requests to a real server never overshoot."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ces.testing import LiveServer, http

THREADS = 8


def hammer(server: LiveServer, events: list[dict]) -> list[dict]:
    """Send every event as its own request, from THREADS threads released at the same moment."""
    barrier = threading.Barrier(THREADS)
    url, key = f"{server.url}/api/v1/events", server.site["secret_key"]

    def worker(chunk: list[dict]) -> list[dict]:
        barrier.wait(timeout=10)
        out = []
        for event in chunk:
            status, body = http("POST", url, event, key)
            assert status == 200, body
            out.append(body["results"][0])
        return out

    chunks = [events[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        return [r for part in pool.map(worker, chunks) for r in part]


def test_100_events_for_one_user_from_8_threads_make_at_most_one_prompt(live_server: LiveServer) -> None:
    events = [{"user_id": "busy", "name": "checkout_completed" if i % 2 else "ticket_closed",
               "event_id": f"busy-{i}"} for i in range(100)]
    results = hammer(live_server, events)
    storage = live_server.services.storage
    assert len(results) == 100
    assert sum(r["reason"] == "prompted" for r in results) == 1
    assert storage.one("select count(*) as n from prompts where user_id = 'busy'")["n"] == 1
    assert storage.one("select count(*) as n from events where user_id = 'busy'")["n"] == 100
    assert {r["reason"] for r in results} == {"prompted", "prompt_open"}


def test_daily_quota_of_50_under_8_threads_issues_exactly_50(live_server: LiveServer) -> None:
    status, _ = live_server.admin("PATCH", f"/api/v1/surveys/{live_server.survey_id}",
                                  {"quota": {"max_prompts_per_day": 50}})
    assert status == 200
    events = [{"user_id": f"user-{i}", "name": "checkout_completed"} for i in range(240)]
    results = hammer(live_server, events)
    reasons = [r["reason"] for r in results]
    assert reasons.count("prompted") == 50
    assert reasons.count("quota_reached") == 190
    storage = live_server.services.storage
    assert storage.one("select count(*) as n from prompts where survey_id = ?", [live_server.survey_id])["n"] == 50

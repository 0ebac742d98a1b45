"""The sweep and the reconcile step, without Redis: two servers on one database file that share no
doorbell (each its own in-process bus) are two processes whose every doorbell to the other is
lost. What one decides still reaches the other's tabs, by the sweep, once per tab."""
from __future__ import annotations

import time
from typing import Iterator

import pytest

from ces.testing import LiveServer


@pytest.fixture
def pair(tmp_path) -> Iterator[tuple[LiveServer, LiveServer]]:
    a = LiveServer(tmp_path / "ces.db", SWEEP_INTERVAL=0.5)
    b = LiveServer(tmp_path / "ces.db", SWEEP_INTERVAL=0.5)
    b.site = a.site  # one site: the second server found it made
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def prompted(server: LiveServer, user: str) -> str:
    status, body = server.post_events({"user_id": user, "name": "checkout_completed"})
    assert status == 200 and body["results"][0]["reason"] == "prompted", body
    return body["results"][0]["prompt_id"]


def quiet(client, kind: str, seconds: float) -> bool:
    try:
        client.expect(kind, timeout=seconds)
    except AssertionError:
        return True
    return False


def test_a_prompt_decided_by_a_process_whose_doorbell_is_lost_arrives_at_the_next_sweep_once(pair) -> None:
    a, b = pair
    tab = a.ws("u-swept")
    decided = time.monotonic()
    prompt_id = prompted(b, "u-swept")
    assert tab.expect("prompt", timeout=2)["prompt"]["id"] == prompt_id
    assert time.monotonic() - decided < 0.5 + 1.0, "within the sweep interval"
    a.wait_for(lambda: a.services.courier.swept == 1, timeout=1)  # counted once its pass wrote the mark
    assert b.services.courier.swept == 0
    assert quiet(tab, "prompt", 1.5), "the next sweeps send it no more"


def test_an_answer_in_one_process_closes_the_prompt_on_the_other_processs_tab_at_the_sweep(pair) -> None:
    a, b = pair
    tab_a, tab_b = a.ws("u-two"), b.ws("u-two")
    prompt_id = prompted(b, "u-two")
    tab_b.expect("prompt")
    tab_a.expect("prompt", timeout=2)
    tab_b.send({"type": "answer", "id": "r1", "prompt": prompt_id, "score": 7})
    assert tab_b.expect("ack")["status"] == "answered"
    assert tab_a.expect("close", timeout=2) == {"type": "close", "prompt": prompt_id, "reason": "answered"}
    assert quiet(tab_b, "close", 1.0), "the answering tab keeps its thanks"


def test_the_connected_count_covers_every_process(pair) -> None:
    a, b = pair
    a.ws("u-count-1"), a.ws("u-count-2"), b.ws("u-count-3")
    deadline = time.monotonic() + 3
    while (a.services.connected_count(), b.services.connected_count()) != (3, 3):
        assert time.monotonic() < deadline, (a.services.connected_count(), b.services.connected_count())
        time.sleep(0.05)
    assert a.get("/healthz")[1]["connected"] == 3


def test_pausing_a_survey_takes_its_prompts_off_the_screens_and_resuming_brings_them_back(pair) -> None:
    a, b = pair
    tab = a.ws("u-paused")
    prompt_id = prompted(a, "u-paused")
    tab.expect("prompt")
    assert b.admin("POST", f"/api/v1/surveys/{a.survey_id}/pause")[0] == 200
    assert tab.expect("close", timeout=2) == {"type": "close", "prompt": prompt_id, "reason": "paused"}
    other = a.ws("u-paused")  # a tab opened while paused gets nothing
    assert quiet(other, "prompt", 1.0)
    assert b.admin("POST", f"/api/v1/surveys/{a.survey_id}/resume")[0] == 200
    for client in (tab, other):
        assert client.expect("prompt", timeout=2)["prompt"]["id"] == prompt_id

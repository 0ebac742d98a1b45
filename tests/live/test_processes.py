"""Two `ces serve` processes on one database file, as a deployment with several servers runs:
decisions stay atomic across processes, and a trigger changed through one applies on the other."""
from __future__ import annotations

import os
import time
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest

from ces.testing import ces_serve, free_port, http, wait_until_serving, websocket_wire

CES = str(Path(sys.executable).with_name("ces"))
SITE, SECRET = "site_procs", "sk_procs"


def _serve(db: Path, **popen: Any) -> tuple[subprocess.Popen, str]:
    return ces_serve(db, env={"CES_BOOTSTRAP_SITE_KEY": SITE, "CES_BOOTSTRAP_SECRET_KEY": SECRET}, **popen)


@pytest.fixture
def two_servers(tmp_path) -> Iterator[tuple[str, str, str]]:
    db = tmp_path / "ces.db"
    first, url_a = _serve(db)          # bootstraps the site and migrates
    second, url_b = _serve(db)
    token = subprocess.run([CES, "token", "create", "tests", "--db", str(db)], capture_output=True, text=True,
                           check=True).stdout.split()[-1]
    try:
        yield url_a, url_b, token
    finally:
        for proc in (first, second):
            proc.terminate()
        for proc in (first, second):
            proc.wait(timeout=15)


def _admin(url: str, token: str, method: str, path: str, body=None):
    status, answer = http(method, url + path, body, token=token)
    assert status in (200, 201), (status, answer)
    return answer


def test_a_daily_quota_of_50_holds_across_two_processes(two_servers) -> None:
    url_a, url_b, token = two_servers
    survey_id = _admin(url_a, token, "GET", "/api/v1/surveys")["items"][0]["id"]
    _admin(url_a, token, "PATCH", f"/api/v1/surveys/{survey_id}", {"quota": {"max_prompts_per_day": 50}})
    barrier = threading.Barrier(8)

    def worker(i: int) -> list[str]:
        url = (url_a, url_b)[i % 2]                       # half the threads on each process
        barrier.wait(timeout=10)
        reasons = []
        for k in range(30):
            status, body = http("POST", f"{url}/api/v1/events",
                                {"user_id": f"user-{i}-{k}", "name": "checkout_completed"}, SECRET)
            assert status == 200, body
            reasons.append(body["results"][0]["reason"])
        return reasons

    with ThreadPoolExecutor(8) as pool:
        reasons = [r for part in pool.map(worker, range(8)) for r in part]
    assert reasons.count("prompted") == 50 and reasons.count("quota_reached") == 190


def test_a_trigger_changed_through_one_process_applies_on_the_other(two_servers) -> None:
    url_a, url_b, token = two_servers
    send = lambda url, user: http("POST", f"{url}/api/v1/events",  # noqa: E731
                                  {"user_id": user, "name": "checkout_completed", "properties": {"amount": 10}},
                                  SECRET)[1]["results"][0]
    assert send(url_b, "u1")["reason"] == "prompted"          # process B has compiled the trigger
    trigger = next(t for t in _admin(url_a, token, "GET", "/api/v1/triggers")["items"]
                   if t["event_name"] == "checkout_completed")
    _admin(url_a, token, "PATCH", f"/api/v1/triggers/{trigger['id']}",
           {"conditions": {"all": [{"field": "properties.amount", "op": "gte", "value": 50}]}})
    assert send(url_b, "u2")["reason"] == "conditions_false"  # the very next event on B
    _admin(url_a, token, "POST", f"/api/v1/triggers/{trigger['id']}/pause")
    assert send(url_b, "u3")["reason"] == "no_trigger"


def test_a_refused_socket_ends_at_the_close_frame_under_gunicorn(tmp_path) -> None:
    proc, url = _serve(tmp_path / "ces.db")
    try:
        frames = websocket_wire(url.replace("http", "ws") + "/ws", '{"type":"hello","site":"site_nope","user":"u"}')
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert [opcode for opcode, _ in frames] == [0x1, 0x8]
    assert b"unknown_site" in frames[0][1]


def _open_file_limits(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no open-file limit in /proc")


def test_ces_serve_raises_its_open_file_limit_to_the_hard_limit(tmp_path) -> None:
    """Started at a soft limit of 1,024 (many systems' default: about 500 widgets), it takes the hard one."""
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard <= 1024:
        pytest.skip("the hard limit here is no higher than 1,024")
    low = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # noqa: E731
    proc, url = _serve(tmp_path / "ces.db", preexec_fn=low)
    try:
        soft, _ = _open_file_limits(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert soft > 1024 and (hard == resource.RLIM_INFINITY or soft == hard)


def test_servers_started_at_the_same_moment_on_a_new_file_all_come_up_with_one_site(tmp_path) -> None:
    db = tmp_path / "ces.db"
    ports = [free_port() for _ in range(4)]
    env = {**os.environ, "CES_BOOTSTRAP_SITE_KEY": SITE, "CES_BOOTSTRAP_SECRET_KEY": SECRET}
    procs = [subprocess.Popen([CES, "serve", "--port", str(port), "--db", str(db)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for port in ports]
    try:
        for proc, port in zip(procs, ports):
            wait_until_serving(f"http://127.0.0.1:{port}", proc)
        for port in ports:
            status, body = http("POST", f"http://127.0.0.1:{port}/api/v1/events",
                                {"user_id": f"u-{port}", "name": "checkout_completed"}, SECRET)
            assert status == 200, body
        sites = sqlite3.connect(db).execute("select count(*) from sites").fetchone()[0]
        assert sites == 1
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)


def test_a_delayed_prompt_is_pushed_when_due_after_the_server_restarted(tmp_path) -> None:
    from ces.testing import WsClient
    db = tmp_path / "ces.db"
    port = free_port()
    proc, url = ces_serve(db, port=port, env={"CES_BOOTSTRAP_SITE_KEY": SITE, "CES_BOOTSTRAP_SECRET_KEY": SECRET})
    try:
        token = subprocess.run([CES, "token", "create", "tests", "--db", str(db)], capture_output=True, text=True,
                               check=True).stdout.split()[-1]
        _admin(url, token, "PATCH", "/api/v1/triggers/1", {"delay_seconds": 4})
        status, body = http("POST", url + "/api/v1/events", {"user_id": "u-later", "name": "checkout_completed"},
                            SECRET)
        assert body["results"][0]["reason"] == "prompted", body
        decided = time.monotonic()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    proc, url = ces_serve(db, port=port, env={"CES_BOOTSTRAP_SITE_KEY": SITE, "CES_BOOTSTRAP_SECRET_KEY": SECRET})
    try:
        widget = WsClient(url.replace("http", "ws") + "/ws")  # connected before the delay ends
        widget.send({"type": "hello", "site": SITE, "user": "u-later"})
        widget.expect("welcome")
        assert time.monotonic() - decided < 3.5, "the restart took too long for this test to mean anything"
        prompt = widget.expect("prompt", timeout=8)
        arrived = time.monotonic() - decided
        assert 3.5 < arrived < 7, f"the delayed prompt arrived {arrived:.1f} s after the event (delay 4 s)"
        assert prompt["prompt"]["id"] == body["results"][0]["prompt_id"]
        widget.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)

"""Several `ces serve` processes on one database with a real Redis between them (and nginx in front):
a prompt reaches the user's tabs wherever they are connected, survives restarts, Redis outages
and a killed server. Helpers and fixtures: scale_out.py."""
from __future__ import annotations

import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from ces.storage import Storage
from ces.testing import WsClient, http

from scale_out import (CES, SECRET, SITE, Nginx, Swarm, cluster_factory, poll, post_event,  # noqa: F401
                       redis_server, redis_up)


def tab(server, user: str) -> WsClient:
    client = WsClient(server.ws_url)
    client.send({"type": "hello", "site": SITE, "user": user})
    client.expect("welcome")
    return client


def no_message(client: WsClient, kind: str, seconds: float) -> bool:
    """True when no message of `kind` comes within `seconds`."""
    try:
        client.expect(kind, timeout=seconds)
    except AssertionError:
        return True
    return False


def test_a_prompt_decided_on_a_third_process_is_live_on_tabs_of_two_others_and_an_answer_closes_the_other(
        redis_up, cluster_factory) -> None:
    cluster = cluster_factory(redis_up.url, sweep=30)  # a sweep this slow cannot be what delivers
    p1, p2, p3 = cluster.add(3)
    tab1, tab2 = tab(p1, "u-tabs"), tab(p2, "u-tabs")
    assert poll(lambda: p3.health()["connected"] == 2, 5, "the third process counts both widgets")
    decided = time.monotonic()
    prompt_id = post_event(p3.url, "u-tabs")["prompt_id"]
    assert prompt_id
    for client in (tab1, tab2):
        assert client.expect("prompt", timeout=3)["prompt"]["id"] == prompt_id
    assert time.monotonic() - decided < 3
    assert [s.health()["swept"] for s in (p1, p2, p3)] == [0, 0, 0], "a doorbell, not the sweep, brought it"

    tab1.send({"type": "answer", "id": "a1", "prompt": prompt_id, "score": 6})
    assert tab1.expect("ack")["status"] == "answered"
    closed = tab2.expect("close", timeout=3)
    assert closed == {"type": "close", "prompt": prompt_id, "reason": "answered"}
    assert no_message(tab1, "close", 0.5), "the tab that answered keeps its thanks on screen"
    assert no_message(tab2, "prompt", 0.5), "each tab got the prompt once"
    assert Storage(cluster.db).one("select count(*) as n from answers where prompt_id = ?", [prompt_id])["n"] == 1


def test_a_dismissal_in_one_tab_closes_the_prompt_in_the_tab_on_another_process(redis_up, cluster_factory) -> None:
    cluster = cluster_factory(redis_up.url, sweep=30)  # a doorbell, not the sweep
    p1, p2 = cluster.add(2)
    tab1, tab2 = tab(p1, "u-dismiss"), tab(p2, "u-dismiss")
    prompt_id = post_event(p1.url, "u-dismiss")["prompt_id"]
    for client in (tab1, tab2):
        assert client.expect("prompt", timeout=3)["prompt"]["id"] == prompt_id
    tab2.send({"type": "dismiss", "id": "d1", "prompt": prompt_id})
    assert tab2.expect("ack")["status"] == "dismissed"
    assert tab1.expect("close", timeout=3) == {"type": "close", "prompt": prompt_id, "reason": "dismissed"}
    assert [s.health()["swept"] for s in (p1, p2)] == [0, 0]


def test_a_survey_paused_through_one_process_leaves_the_tabs_on_the_others_at_once(redis_up, cluster_factory) -> None:
    cluster = cluster_factory(redis_up.url, sweep=30)
    p1, p2 = cluster.add(2)
    client = tab(p1, "u-pause")
    prompt_id = post_event(p2.url, "u-pause")["prompt_id"]
    assert client.expect("prompt", timeout=3)["prompt"]["id"] == prompt_id
    survey_id = cluster.admin("GET", "/api/v1/surveys")["items"][0]["id"]
    http("POST", f"{p2.url}/api/v1/surveys/{survey_id}/pause", token=cluster.token)
    assert client.expect("close", timeout=3) == {"type": "close", "prompt": prompt_id, "reason": "paused"}
    http("POST", f"{p2.url}/api/v1/surveys/{survey_id}/resume", token=cluster.token)
    assert client.expect("prompt", timeout=3)["prompt"]["id"] == prompt_id
    assert p1.health()["swept"] == 0, "doorbells, not the sweep"


def test_servers_and_workers_started_at_the_same_moment_on_a_new_file_all_come_up(redis_up, cluster_factory) -> None:
    cluster = cluster_factory(redis_up.url)
    servers = cluster.add(2, start=False, args=("--workers", "2"))
    procs = [server.spawn() for server in servers]  # together, on a file that does not exist yet
    from ces.testing import wait_until_serving
    for server, proc in zip(servers, procs):
        wait_until_serving(server.url, proc)
    for server in servers:
        assert post_event(server.url, f"u-start-{server.port}")["decision"] == "prompt"
    assert poll(lambda: len(Storage(cluster.db).all("select id from server_processes")) == 4, 10,
                "four worker processes are present")
    for server in servers:
        assert "database is locked" not in server.log()


def test_a_delayed_prompt_is_delivered_once_when_due_after_every_process_restarted(redis_up, cluster_factory) -> None:
    cluster = cluster_factory(redis_up.url, sweep=1.0)
    p1, p2 = cluster.add(2)
    cluster.admin("PATCH", "/api/v1/triggers/1", {"delay_seconds": 14})
    result = post_event(p2.url, "u-later")
    decided = time.monotonic()
    assert result["reason"] == "prompted", result
    for server in (p1, p2):
        server.stop()
    for server in (p1, p2):
        server.spawn()
    for server in (p1, p2):
        poll(lambda: server.proc.poll() is None and _serving(server.url), 15, "restarted")
    tab1, tab2 = tab(p1, "u-later"), tab(p2, "u-later")
    assert time.monotonic() - decided < 12.5, "the restart took too long for this test to mean anything"
    for client in (tab1, tab2):
        assert client.expect("prompt", timeout=16)["prompt"]["id"] == result["prompt_id"]
        arrived = time.monotonic() - decided
        assert 13.5 < arrived < 16.5, f"the delayed prompt arrived {arrived:.1f} s after the event (delay 14 s)"
    for client in (tab1, tab2):
        assert no_message(client, "prompt", 2.5), "delivered twice to a tab"
    row = Storage(cluster.db).one("select status, rung_at from prompts where id = ?", [result["prompt_id"]])
    assert row["status"] == "delivered" and row["rung_at"] is not None


def _serving(url: str) -> bool:
    try:
        return http("GET", url + "/healthz")[0] == 200
    except OSError:
        return False


def test_with_redis_killed_prompts_arrive_at_the_sweep_and_live_again_once_it_is_back(redis_up, cluster_factory) -> None:
    sweep = 3.0
    cluster = cluster_factory(redis_up.url, sweep=sweep)
    p1, p2 = cluster.add(2)
    first, second = tab(p1, "u-outage-1"), tab(p1, "u-outage-2")
    redis_up.kill()
    poll(lambda: p2.health()["bus"] == "down", 10, "p2 notices the outage")
    killed = time.monotonic()
    result = post_event(p2.url, "u-outage-1")  # decided and stored with Redis down
    assert result["reason"] == "prompted", result
    assert first.expect("prompt", timeout=sweep + 2)["prompt"]["id"] == result["prompt_id"]
    assert time.monotonic() - killed < sweep + 2
    poll(lambda: p1.health()["swept"] >= 1, 2, "the sweep brought it")
    first.send({"type": "answer", "id": "a1", "prompt": result["prompt_id"], "score": 5})
    assert first.expect("ack")["status"] == "answered"

    redis_up.start()
    poll(lambda: p1.health()["bus"] == "up" and p2.health()["bus"] == "up", 15, "both processes reconnect")
    swept = p1.health()["swept"]
    decided = time.monotonic()
    result = post_event(p2.url, "u-outage-2")
    assert second.expect("prompt", timeout=sweep)["prompt"]["id"] == result["prompt_id"]
    assert time.monotonic() - decided < 1.5
    assert p1.health()["swept"] == swept, "live again: a doorbell brought it"
    for server in (p1, p2):
        assert server.log().count("unreachable") <= 1, "the outage is logged once"
    assert "unreachable" in p2.log() and "reachable again" in p2.log()


def test_quotas_and_fatigue_stay_exact_across_three_processes(redis_up, cluster_factory) -> None:
    cluster = cluster_factory(redis_up.url)
    servers = cluster.add(3)
    # One user, events through the three processes at once: one open prompt at most.
    with ThreadPoolExecutor(6) as pool:
        same = list(pool.map(lambda i: post_event(servers[i % 3].url, "u-fatigue"), range(12)))
    assert sum(r["decision"] == "prompt" for r in same) == 1
    assert Storage(cluster.db).one("select count(*) as n from prompts where user_id = 'u-fatigue'")["n"] == 1
    # A daily quota of 31 (one used above), 90 users' events through the three processes at once.
    survey = cluster.admin("GET", "/api/v1/surveys")["items"][0]
    cluster.admin("PATCH", f"/api/v1/surveys/{survey['id']}", {"quota": {"max_prompts_per_day": 31}})
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda i: post_event(servers[i % 3].url, f"u-quota-{i}"), range(90)))
    reasons = [r["reason"] for r in results]
    assert reasons.count("prompted") == 30 and reasons.count("quota_reached") == 60


def test_several_workers_without_redis_are_refused_with_a_clear_message(database) -> None:
    done = subprocess.run([CES, "serve", "--workers", "2", "--db", database], capture_output=True, text=True,
                          env={k: v for k, v in __import__("os").environ.items() if k != "CES_REDIS_URL"})
    assert done.returncode == 2
    assert "--workers 2 needs CES_REDIS_URL" in done.stderr


def test_behind_nginx_500_widgets_survive_a_killed_server(redis_up, cluster_factory) -> None:
    cluster = cluster_factory(redis_up.url, sweep=2.0)
    cluster.env["CES_WS_MAX_PER_ADDRESS"] = "0"  # every widget comes through nginx's one address
    p1, p2 = cluster.add(2)
    nginx = Nginx([f"127.0.0.1:{p1.port}", f"127.0.0.1:{p2.port}"])
    swarm = Swarm([nginx.ws_url], 500, answer=True)
    try:
        swarm.wait_connected()
        assert p1.health()["sockets"] > 100 and p2.health()["sockets"] > 100, "nginx spread the widgets"
        assert poll(lambda: p2.health()["connected"] == 500, 5, "every widget counted across processes")
        status, body = http("POST", nginx.url + "/api/v1/events",
                            {"events": [{"user_id": f"w{i}", "name": "checkout_completed"} for i in range(500)]}, SECRET)
        assert status == 200, body
        issued = {r["event_id"]: r for r in body["results"]}
        assert all(r["decision"] == "prompt" for r in issued.values())
        prompt_of = {f"w{i}": r["prompt_id"] for i, r in enumerate(body["results"])}
        p1.stop(signal.SIGKILL)  # answers are in flight to it now
        killed = time.monotonic()
        poll(lambda: p2.health()["sockets"] == 500, 10, "every widget reconnected to the other server")
        assert time.monotonic() - killed <= 10
        last: list = []

        def all_acked() -> bool:
            last[:] = swarm.report()
            return all(w["acks"] for w in last)
        try:
            poll(all_acked, 30, "every widget's answer acknowledged")
        except AssertionError:
            waiting = [w for w in last if not w["acks"]]
            raise AssertionError(f"{len(waiting)} widgets without an ack, e.g. {waiting[:3]}") from None
        widgets = last
    finally:
        swarm.stop()
        nginx.stop()
    for w in widgets:
        ids = [p[1] for p in w["prompts"]]
        assert set(ids) == {prompt_of[w["user"]]}, w
        per_socket = [(p[0], p[1]) for p in w["prompts"]]
        assert len(per_socket) == len(set(per_socket)), f"a prompt delivered twice to one socket: {w}"
        assert w["unacked"] == 0 and {a[1] for a in w["acks"]} <= {"answered", "duplicate"}
    db = Storage(cluster.db)
    assert db.one("select count(*) as n, count(distinct prompt_id) as d from answers") == {"n": 500, "d": 500}
    assert db.one("select count(*) as n from prompts where status = 'answered'")["n"] == 500


def test_a_server_started_while_redis_is_unreachable_serves_and_joins_the_bus_once_it_is_up(
        redis_server, cluster_factory, tmp_path) -> None:
    from scale_out import RedisServer
    late = RedisServer(tmp_path)  # a port nothing listens on yet
    cluster = cluster_factory(late.url, sweep=1.0)
    started = time.monotonic()
    (server,) = cluster.add(1)
    assert time.monotonic() - started < 15
    assert server.health()["bus"] == "down"
    client = tab(server, "u-early")
    result = post_event(server.url, "u-early")
    assert result["reason"] == "prompted"
    assert client.expect("prompt", timeout=3)["prompt"]["id"] == result["prompt_id"]  # its own doorbell
    late.start()
    try:
        poll(lambda: server.health()["bus"] == "up", 10, "the server joins the bus")
        assert server.log().count("unreachable") == 1
    finally:
        late.kill()


def test_the_dashboard_live_counter_counts_a_sites_widgets_on_every_process(redis_up, cluster_factory) -> None:
    cluster = cluster_factory(redis_up.url, sweep=30)
    p1, p2 = cluster.add(2)
    site_id = cluster.admin("GET", "/api/v1/sites")["items"][0]["id"]

    def connected(server) -> int:
        status, body = http("GET", f"{server.url}/api/v1/sites/{site_id}/activity", token=cluster.token)
        assert status == 200, body
        return body["connected"]

    tabs = [tab(p1, "u-count-1"), tab(p1, "u-count-2"), tab(p2, "u-count-3")]
    assert poll(lambda: connected(p2) == 3 and connected(p1) == 3, 5, "each process counts the other's widgets")
    other = cluster.admin("POST", "/api/v1/sites", {"name": "Other shop"})
    status, body = http("GET", f"{p2.url}/api/v1/sites/{other['id']}/activity", token=cluster.token)
    assert (status, body["connected"]) == (200, 0), "another site's widgets are not this one's"
    tabs[0].close()
    assert poll(lambda: connected(p2) == 2, 5, "a widget gone from process 1 leaves process 2's count")
    for client in tabs[1:]:
        client.close()

"""Two `ces serve` processes on one PostgreSQL database: the guarantees hold across servers.

The servers are the production server (gunicorn, event-loop worker) in child processes, started
at the same moment on a database that has no schema yet (both run the migrations at start: one
does the work under the advisory lock, the other finds it done). Events reach both servers at once
from 8 threads each, released together by a barrier.
"""
from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pytest

from ces.storage import Storage
from ces.storage.migrations_postgres import STEPS
from ces.testing import WsClient, ces_serve, fresh_rows, http, release

pytestmark = [pytest.mark.postgresql, pytest.mark.timeout(240)]
THREADS = 8  # per server


class TwoServers:
    def __init__(self, url: str, procs: list[subprocess.Popen], urls: list[str]) -> None:
        self.db, self.procs, self.urls = url, procs, urls
        self.storage = Storage(url)
        self.site: dict[str, Any] = self.storage.first_site()  # type: ignore[assignment]
        self.survey_id: int = self.storage.one("select id from surveys order by id limit 1")["id"]  # type: ignore[index]

    def hammer(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every event as its own request, THREADS threads per server released at the same moment."""
        n = THREADS * len(self.urls)
        barrier = threading.Barrier(n)
        key = self.site["secret_key"]

        def worker(i: int) -> list[dict[str, Any]]:
            url = f"{self.urls[i % len(self.urls)]}/api/v1/events"
            barrier.wait(timeout=30)
            out = []
            for event in events[i::n]:
                status, body = http("POST", url, event, key)
                assert status == 200, body
                out.append(body["results"][0])
            return out

        with ThreadPoolExecutor(n) as pool:
            return [r for part in pool.map(worker, range(n)) for r in part]


@pytest.fixture
def servers(pg_cluster) -> Iterator[TwoServers]:
    url = pg_cluster.new_database(migrated=False)
    started: list[tuple[subprocess.Popen, str]] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            started.append(ces_serve(url))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    two = None
    try:
        assert not errors, errors
        two = TwoServers(url, [p for p, _ in started], [u for _, u in started])
        yield two
    finally:
        if two is not None:
            release(two.storage)
        for proc, _ in started:
            proc.terminate()
        for proc, _ in started:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_two_servers_started_at_once_migrate_once_and_seed_one_site(servers: TwoServers) -> None:
    names = [r[0] for r in fresh_rows(servers.db, "select name from ces_migrations order by name")]
    assert names == sorted(name for name, _ in STEPS)
    assert fresh_rows(servers.db, "select count(*) from sites") == [(1,)]


def test_100_events_for_one_user_on_two_servers_make_at_most_one_prompt(servers: TwoServers) -> None:
    events = [{"user_id": "busy", "name": "checkout_completed" if i % 2 else "ticket_closed",
               "event_id": f"busy-{i}"} for i in range(100)]
    results = servers.hammer(events)
    assert len(results) == 100
    assert sum(r["reason"] == "prompted" for r in results) == 1
    assert {r["reason"] for r in results} == {"prompted", "prompt_open"}
    assert fresh_rows(servers.db, "select count(*) from prompts where user_id = 'busy'") == [(1,)]
    assert fresh_rows(servers.db, "select count(*) from events where user_id = 'busy'") == [(100,)]


def test_daily_quota_of_50_under_8_threads_times_2_servers_issues_exactly_50(servers: TwoServers) -> None:
    with servers.storage.write() as db:
        db.execute("update surveys set quota = ? where id = ?", ['{"max_prompts_per_day": 50}', servers.survey_id])
    events = [{"user_id": f"user-{i}", "name": "checkout_completed"} for i in range(240)]
    # Each server reads the rule rows with every batch (rules_cache compares them): both see the quota.
    results = servers.hammer(events)
    reasons = [r["reason"] for r in results]
    assert reasons.count("prompted") == 50, sorted(set(reasons))
    assert reasons.count("quota_reached") == 190
    assert fresh_rows(servers.db, "select count(*) from prompts where survey_id = ?", [servers.survey_id]) == [(50,)]


def _answer(server_url: str, site_key: str, user: str, score: int) -> str:
    """The user's prompt, from a socket on `server_url`: shown, then answered; the ack's status."""
    ws = WsClient(server_url.replace("http://", "ws://") + "/ws")
    try:
        ws.send({"type": "hello", "site": site_key, "user": user})
        ws.expect("welcome", timeout=20)
        prompt_id = ws.expect("prompt", timeout=20)["prompt"]["id"]
        ws.send({"type": "shown", "prompt": prompt_id, "id": "s"})
        ws.expect("ack", timeout=20)
        ws.send({"type": "answer", "prompt": prompt_id, "score": score, "id": "a"})
        return ws.expect("ack", timeout=20)["status"]
    finally:
        ws.close()


def test_answers_through_both_servers_while_reports_run_keep_the_rollups_exact(servers: TwoServers) -> None:
    users = [f"answerer-{i}" for i in range(48)]
    results = servers.hammer([{"user_id": u, "name": "checkout_completed"} for u in users])
    assert all(r["reason"] == "prompted" for r in results)
    token = servers.storage.create_admin_token("rollups", time.time())[1]
    stop = threading.Event()
    reports: list[int] = []

    def read_reports() -> None:  # the rollups are folded in by whichever report runs, on either server
        i = 0
        while not stop.is_set():
            status, body = http("GET", f"{servers.urls[i % 2]}/api/v1/surveys/{servers.survey_id}/report", token=token)
            assert status == 200, body
            reports.append(body["score"]["n"])
            i += 1

    reader = threading.Thread(target=read_reports)
    reader.start()
    try:
        with ThreadPoolExecutor(16) as pool:
            acks = list(pool.map(lambda i: _answer(servers.urls[i % 2], servers.site["site_key"], users[i],
                                                   1 + i % 7), range(len(users))))
    finally:
        stop.set()
        reader.join()
    assert acks == ["answered"] * len(users)
    assert reports, "no report ran during the answers"
    status, report = http("GET", f"{servers.urls[0]}/api/v1/surveys/{servers.survey_id}/report", token=token)
    assert status == 200
    base = dict(fresh_rows(servers.db, "select score, count(*) from answers where survey_id = ? group by score",
                           [servers.survey_id]))
    assert report["score"]["n"] == sum(base.values()) == len(users)
    rollup = dict(fresh_rows(servers.db, "select score, sum(n) from report_answers_daily where survey_id = ? "
                                         "group by score", [servers.survey_id]))
    assert rollup == base  # every answer counted once: none lost, none twice, whoever folded it


def test_a_second_answer_on_the_other_server_is_refused(servers: TwoServers) -> None:
    servers.hammer([{"user_id": "twice", "name": "checkout_completed"}])
    assert _answer(servers.urls[0], servers.site["site_key"], "twice", 3) == "answered"
    prompt_id = fresh_rows(servers.db, "select id from prompts where user_id = 'twice'")[0][0]
    ws = WsClient(servers.urls[1].replace("http://", "ws://") + "/ws")
    try:
        ws.send({"type": "hello", "site": servers.site["site_key"], "user": "twice"})
        ws.expect("welcome", timeout=20)
        ws.send({"type": "answer", "prompt": prompt_id, "score": 7, "id": "again"})
        reply = ws.expect("error", timeout=20)
    finally:
        ws.close()
    assert reply["ref"] == "again" and reply["code"] == "already_answered"
    assert fresh_rows(servers.db, "select score from answers where prompt_id = ?", [prompt_id]) == [(3,)]


def test_a_durable_write_commits_with_synchronous_commit_on(pg_cluster) -> None:
    storage = Storage(pg_cluster.new_database())
    try:
        with storage.write() as db:
            durable = db.execute("show synchronous_commit").fetchone()[0]
        with storage.write(durable=False) as db:
            relaxed = db.execute("show synchronous_commit").fetchone()[0]
        assert (durable, relaxed) == ("on", "off")  # an acknowledged answer waits for the WAL flush
    finally:
        release(storage)

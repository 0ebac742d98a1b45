"""The SDK against a scripted loopback server: batching, order, retries, refusals, queue-full,
shutdown and exit flush. Every test is bounded in time and uses short backoffs."""
from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

pytestmark = pytest.mark.timeout(30)


def test_events_arrive_batched_authenticated_in_order(fake_ces, make_client):
    client = make_client(fake_ces.url, flush_at=10)
    for i in range(25):
        client.track(f"u{i % 3}", "checkout_completed", {"i": i})
    assert client.flush(timeout=5)
    requests = fake_ces.event_requests()
    assert [len(r["json"]["events"]) for r in requests] == [10, 10, 5]
    assert all(r["headers"]["Authorization"] == "Bearer sk_test" for r in requests)
    assert all(r["headers"]["Content-Type"] == "application/json" for r in requests)
    events = [e for r in requests for e in r["json"]["events"]]
    assert [e["properties"]["i"] for e in events] == list(range(25))  # call order, so per user too
    assert len({e["event_id"] for e in events}) == 25
    for e in events:
        parsed = dt.datetime.fromisoformat(e["timestamp"])
        assert parsed.tzinfo is not None
        assert abs((dt.datetime.now(dt.timezone.utc) - parsed).total_seconds()) < 10
    assert client.stats.snapshot()["sent"] == 25


def test_interval_sends_without_flush(fake_ces, make_client):
    client = make_client(fake_ces.url, flush_at=100, flush_interval=0.1)
    client.track("u1", "a")
    assert fake_ces.wait_for(lambda: len(fake_ces.events) == 1, timeout=3)


def test_explicit_ids_and_timestamps_are_sent_as_given(fake_ces, make_client):
    client = make_client(fake_ces.url)
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    client.track("u1", "a", event_id="ord-1", timestamp=when)
    client.track("u1", "b", timestamp=dt.datetime(2026, 1, 2, 3, 4, 5))  # naive: taken as UTC
    client.track("u1", "c", timestamp=0)
    assert client.flush(5)
    a, b, c = fake_ces.events
    assert a["event_id"] == "ord-1" and a["timestamp"] == "2026-01-02T03:04:05+02:00"
    assert b["timestamp"] == "2026-01-02T03:04:05+00:00"
    assert c["timestamp"] == "1970-01-01T00:00:00+00:00"


def test_batches_respect_byte_size(fake_ces, make_client):
    client = make_client(fake_ces.url, flush_at=1000, max_batch_bytes=20_000)
    for i in range(60):
        client.track("u1", "big", {"blob": "x" * 1000, "i": i})
    assert client.flush(5)
    requests = fake_ces.event_requests()
    assert len(requests) >= 3
    assert all(r["size"] <= 20_000 for r in requests)
    assert [e["properties"]["i"] for e in fake_ces.events] == list(range(60))


def test_500_twice_then_200_delivers_once(fake_ces, make_client):
    fake_ces.script = [(500, {}, {"error": "boom"}), (503, {}, {})]
    client = make_client(fake_ces.url)
    for i in range(5):
        client.track("u1", "e", {"i": i})
    assert client.flush(5)
    requests = fake_ces.event_requests()
    assert len(requests) == 3
    ids = [[e["event_id"] for e in r["json"]["events"]] for r in requests]
    assert ids[0] == ids[1] == ids[2]  # the same batch, the same ids: the server can deduplicate
    assert len(fake_ces.events) == 5 and all(n == 1 for n in fake_ces.seen_ids.values())
    stats = client.stats.snapshot()
    assert (stats["sent"], stats["retries"], stats["failed"]) == (5, 2, 0)


def test_duplicate_answers_from_a_retried_batch_count_once(fake_ces, make_client):
    # The server stored the batch but the answer was lost (a 502 from a proxy): the retry is
    # answered duplicate_event and nothing is counted twice on the server side.
    client = make_client(fake_ces.url, sync_mode=True)
    first = client.track("u1", "e", event_id="same")
    again = client.track("u1", "e", event_id="same")
    assert first["reason"] == "no_trigger" and again["reason"] == "duplicate_event"
    assert len(fake_ces.events) == 1


def test_408_and_network_errors_are_retried(fake_ces, make_client):
    fake_ces.script = [(408, {}, {})]
    client = make_client(fake_ces.url)
    client.track("u1", "e")
    assert client.flush(5)
    assert len(fake_ces.event_requests()) == 2 and len(fake_ces.events) == 1


def test_429_honours_retry_after(fake_ces, make_client):
    fake_ces.script = [(429, {"Retry-After": "1"}, {"error": {"code": "rate_limited", "message": "slow down"}})]
    client = make_client(fake_ces.url, backoff_base=0.01, backoff_max=0.01)
    client.track("u1", "e")
    assert client.flush(5)
    first, second = fake_ces.event_requests()
    assert second["at"] - first["at"] >= 0.95  # the backoff alone would have waited 10 ms
    assert len(fake_ces.events) == 1


def test_down_then_up_gets_every_event_once(make_client, unused_port, start_fake_ces):
    port = unused_port
    client = make_client(f"http://127.0.0.1:{port}", flush_at=7, backoff_base=0.05, backoff_max=0.2,
                         max_retries=50)
    for i in range(20):
        client.track(f"u{i % 2}", "e", {"i": i})
    time.sleep(0.4)  # a few refused connections
    assert client.stats.snapshot()["retries"] >= 1
    server = start_fake_ces(port)
    assert client.flush(10)
    assert [e["properties"]["i"] for e in server.events] == list(range(20))
    assert all(n == 1 for n in server.seen_ids.values())  # nothing reached it twice
    assert client.stats.snapshot()["sent"] == 20


def test_retries_give_up_after_max_retries(make_client, caplog, unused_port):
    client = make_client(f"http://127.0.0.1:{unused_port}", max_retries=2, backoff_base=0.01, backoff_max=0.01)
    client.track("u1", "e")
    with caplog.at_level(logging.ERROR, logger="ces_sdk"):
        assert client.flush(5)
    stats = client.stats.snapshot()
    assert stats["failed"] == 1 and stats["requests"] == 3 and stats["sent"] == 0
    assert any("giving up" in r.getMessage() for r in caplog.records)


def test_wrong_secret_key_logs_401_once_and_does_not_retry(fake_ces, make_client, caplog):
    client = make_client(fake_ces.url, secret_key="sk_wrong", flush_at=2)
    with caplog.at_level(logging.DEBUG, logger="ces_sdk"):
        for i in range(10):
            client.track("u1", "e", {"i": i})
        assert client.flush(5)
    assert len(fake_ces.event_requests()) == 5  # one request per batch: no retry storm
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "secret key" in errors[0].getMessage()
    assert client.stats.snapshot()["failed"] == 10 and client.stats.snapshot()["retries"] == 0


def test_other_4xx_is_not_retried(fake_ces, make_client, caplog):
    fake_ces.script = [(413, {}, {"error": {"code": "too_large", "message": "Body over 1 MB."}})]
    client = make_client(fake_ces.url)
    client.track("u1", "e")
    with caplog.at_level(logging.ERROR, logger="ces_sdk"):
        assert client.flush(5)
    assert len(fake_ces.event_requests()) == 1
    assert "too_large" in caplog.text
    assert client.stats.snapshot()["failed"] == 1


def test_a_validation_error_drops_only_the_named_events(fake_ces, make_client):
    refusal = {"error": {"code": "validation_error", "message": "Invalid request body.",
                         "fields": {"events": {"1": {"properties": ["Nested too deep."]}}}}}
    fake_ces.script = [(400, {}, refusal)]
    client = make_client(fake_ces.url)
    for i in range(3):
        client.track("u1", "e", {"i": i})
    assert client.flush(5)
    assert [e["properties"]["i"] for e in fake_ces.events] == [0, 2]
    stats = client.stats.snapshot()
    assert stats["failed"] == 1 and stats["sent"] == 2


def test_queue_full_drops_and_counts_without_blocking(fake_ces, make_client, caplog):
    fake_ces.hang.set()  # the server takes the first batch and does not answer
    client = make_client(fake_ces.url, max_queue_size=50, flush_at=10, timeout=5)
    client.track("u0", "e")
    time.sleep(0.3)  # the consumer has sent its first batch and is stuck waiting for the answer
    with caplog.at_level(logging.WARNING, logger="ces_sdk"):
        started = time.perf_counter()
        for i in range(5000):
            client.track("u1", "e", {"i": i})
        elapsed = time.perf_counter() - started
    assert elapsed < 1.0  # 5,000 calls, none of them waited for the stuck server
    stats = client.stats.snapshot()
    assert stats["dropped"] >= 5000 - 50
    assert client.pending() <= 50
    warnings = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert 1 <= len(warnings) <= 2  # rate-limited, not one line per dropped call
    fake_ces.release.set()
    assert client.flush(5)
    assert len(fake_ces.events) + stats["dropped"] == 5001


def test_flush_with_server_down_respects_its_timeout(make_client, unused_port):
    client = make_client(f"http://127.0.0.1:{unused_port}", max_retries=1000, backoff_base=0.05,
                         backoff_max=0.05)
    client.track("u1", "e")
    started = time.monotonic()
    assert client.flush(timeout=0.5) is False
    assert time.monotonic() - started < 1.5


def test_shutdown_deadline_with_server_down(make_client, unused_port):
    client = make_client(f"http://127.0.0.1:{unused_port}", max_retries=1000, backoff_base=5, backoff_max=5)
    client.track("u1", "e")
    time.sleep(0.2)  # the consumer is in a 5 s backoff
    started = time.monotonic()
    assert client.shutdown(timeout=0.5) is False
    assert time.monotonic() - started < 1.5
    client.track("u1", "after")  # dropped, counted, no exception
    assert client.stats.snapshot()["dropped"] == 1


def test_identify_is_sent_before_the_events_tracked_after_it(fake_ces, make_client):
    client = make_client(fake_ces.url)
    client.track("u1", "before")
    client.identify("u1", {"plan": "pro", "seats": 3, "gone": None})
    client.track("u1", "after")
    assert client.flush(5)
    paths = [r["path"] for r in fake_ces.requests]
    assert paths == ["/api/v1/events", "/api/v1/identify", "/api/v1/events"]
    assert fake_ces.users == [{"user_id": "u1", "traits": {"plan": "pro", "seats": 3, "gone": None}}]


def test_concurrent_callers_lose_nothing(fake_ces, make_client):
    client = make_client(fake_ces.url, flush_at=50)

    def work(n: int) -> None:
        for i in range(200):
            client.track(f"user-{n}", "e", {"i": i})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert client.flush(10)
    assert len(fake_ces.events) == 1600
    for n in range(8):
        mine = [e["properties"]["i"] for e in fake_ces.events if e["user_id"] == f"user-{n}"]
        assert mine == list(range(200))  # in order per user


def test_disabled_sends_nothing(fake_ces, make_client):
    client = make_client(fake_ces.url, disabled=True)
    assert client.track("u1", "e") is None
    assert client.identify("u1", {"a": 1}) is None
    assert client.flush(1)
    time.sleep(0.1)
    assert fake_ces.requests == []


EXIT_SCRIPT = textwrap.dedent("""
    import sys, ces_sdk
    client = ces_sdk.Client("sk_test", sys.argv[1], flush_interval=60, flush_at=1000, exit_timeout=3,
                            backoff_base=0.05, backoff_max=0.1)
    for i in range(int(sys.argv[2])):
        client.track("u1", "exit_event", {"i": i})
    # no flush(), no shutdown(): the interpreter exits with everything still queued
""")


def test_exit_flush_delivers_what_was_queued(fake_ces):
    subprocess.run([sys.executable, "-c", EXIT_SCRIPT, fake_ces.url, "250"], check=True, timeout=15)
    assert [e["properties"]["i"] for e in fake_ces.events] == list(range(250))


def test_exit_flush_with_server_down_exits_within_the_deadline(unused_port):
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", EXIT_SCRIPT, f"http://127.0.0.1:{unused_port}", "10"],
                   check=True, timeout=15, capture_output=True)
    assert time.monotonic() - started < 3 + 3  # exit_timeout plus interpreter start-up


def test_module_level_functions_use_the_environment(fake_ces):
    script = textwrap.dedent("""
        import ces_sdk
        ces_sdk.track("u1", "from_env", {"k": "v"})
        ces_sdk.identify("u1", {"plan": "pro"})
        assert ces_sdk.flush(5)
        print(ces_sdk.user_hash("u1"))
    """)
    env = {**os.environ, "CES_SECRET_KEY": "sk_test", "CES_HOST": fake_ces.url}
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=15,
                         capture_output=True, text=True)
    assert [e["name"] for e in fake_ces.events] == ["from_env"]
    assert fake_ces.users == [{"user_id": "u1", "traits": {"plan": "pro"}}]
    from ces_sdk.identity import user_hash
    assert out.stdout.strip() == user_hash("sk_test", "u1")


def test_module_level_without_a_key_drops_quietly():
    script = textwrap.dedent("""
        import ces_sdk
        assert ces_sdk.track("u1", "e") is None
        assert ces_sdk.flush(1)
        try:
            ces_sdk.user_hash("u1")
        except ValueError as e:
            print("ValueError", e)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CES_")}
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=15,
                         capture_output=True, text=True)
    assert "ValueError" in out.stdout and "CES_SECRET_KEY" in out.stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_consumer(fake_ces, make_client):
    client = make_client(fake_ces.url)
    client.track("u1", "parent")
    assert client.flush(5)
    pid = os.fork()
    if pid == 0:  # child: the parent's thread is not here
        try:
            client.track("u2", "child")
            os._exit(0 if client.flush(5) else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(e["name"] for e in fake_ces.events) == ["child", "parent"]

"""Bad input, conversions, retry policy and the user hash: fast, mostly without a network."""
from __future__ import annotations

import datetime as dt
import decimal
import email.utils
import hashlib
import hmac
import logging
import time
import uuid

import pytest

from ces_sdk import Client
from ces_sdk.identity import user_hash
from ces_sdk.retry import RetryPolicy, is_retryable, parse_retry_after
from ces_sdk.serialize import check_id, encode_event, to_jsonable

pytestmark = pytest.mark.timeout(20)


@pytest.mark.parametrize("sync_mode", [False, True])
@pytest.mark.parametrize("user_id,name", [("", "e"), ("u1", ""), ("   ", "e"), ("u1", " ")])
def test_empty_user_id_or_name_is_a_value_error_in_both_modes(user_id, name, sync_mode, fake_ces, make_client):
    client = make_client(fake_ces.url, sync_mode=sync_mode)
    with pytest.raises(ValueError):
        client.track(user_id, name)
    assert client.flush(2) and fake_ces.requests == []


def test_ids_are_checked():
    assert check_id(42, "user_id", 256) == "42"
    with pytest.raises(TypeError):
        check_id(None, "user_id", 256)
    with pytest.raises(ValueError, match="at most 256"):
        check_id("x" * 257, "user_id", 256)


def test_non_serializable_property_is_a_type_error_at_the_call_site_in_sync_mode(fake_ces, make_client):
    client = make_client(fake_ces.url, sync_mode=True)
    with pytest.raises(TypeError, match=r"properties\['order'\]\['when'\] is of type object"):
        client.track("u1", "e", {"order": {"when": object()}})
    with pytest.raises(TypeError, match="properties must be a dict"):
        client.track("u1", "e", ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nan"):
        client.track("u1", "e", {"x": float("nan")})
    assert fake_ces.requests == []


def test_non_serializable_property_is_a_logged_drop_in_async_mode(fake_ces, make_client, caplog):
    client = make_client(fake_ces.url)
    with caplog.at_level(logging.ERROR, logger="ces_sdk"):
        assert client.track("u1", "bad", {"x": object()}) is None  # no exception in the host app
        client.track("u1", "good", {"x": 1})
        assert client.flush(5)
    assert [e["name"] for e in fake_ces.events] == ["good"]
    assert client.stats.snapshot()["invalid"] == 1
    assert "dropped event 'bad'" in caplog.text and "object" in caplog.text


def test_common_types_are_converted():
    converted = to_jsonable({
        "at": dt.datetime(2026, 3, 1, 10, 30, tzinfo=dt.timezone.utc),
        "naive": dt.datetime(2026, 3, 1, 10, 30),
        "day": dt.date(2026, 3, 1),
        "price": decimal.Decimal("19.90"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "tuple": (1, 2),
        1: "int key",
    })
    assert converted == {
        "at": "2026-03-01T10:30:00+00:00", "naive": "2026-03-01T10:30:00+00:00", "day": "2026-03-01",
        "price": 19.9, "id": "12345678-1234-5678-1234-567812345678", "tuple": [1, 2], "1": "int key",
    }


def test_event_encoding_enforces_the_server_limits():
    with pytest.raises(ValueError, match="keys"):
        encode_event("u", "e", {f"k{i}": i for i in range(65)}, None, "id")
    with pytest.raises(ValueError, match="bytes"):
        encode_event("u", "e", {"blob": "x" * 9000}, None, "id")
    with pytest.raises(ValueError, match="nested"):
        encode_event("u", "e", {"a": {"b": {"c": {}}}}, None, "id")
    encode_event("u", "e", {"a": {"b": [{"c": 1}]}}, None, "id")  # lists do not add a level


def test_bad_timestamp_type_raises_in_sync_mode(fake_ces, make_client):
    client = make_client(fake_ces.url, sync_mode=True)
    with pytest.raises(TypeError, match="timestamp"):
        client.track("u1", "e", timestamp=object())  # type: ignore[arg-type]


def test_a_secret_key_is_required_unless_disabled():
    with pytest.raises(ValueError):
        Client("")
    Client("", disabled=True).track("u1", "e")
    with pytest.raises(ValueError):
        Client("sk", "ces.example.com")  # no scheme


def test_user_hash_is_hex_hmac_sha256_of_utf8():
    expected = hmac.new("sk_é".encode(), "usér".encode(), hashlib.sha256).hexdigest()
    assert user_hash("sk_é", "usér") == expected
    assert Client("sk_é", disabled=False).user_hash("usér") == expected
    assert len(expected) == 64
    with pytest.raises(ValueError):
        user_hash("", "u1")


def test_retry_policy():
    assert all(is_retryable(s) for s in (500, 502, 503, 504, 408, 429))
    assert not any(is_retryable(s) for s in (400, 401, 403, 404, 409, 413, 422))
    policy = RetryPolicy(backoff_base=1, backoff_max=8)
    for attempt, ceiling in [(0, 1), (1, 2), (2, 4), (3, 8), (10, 8), (100, 8)]:
        for _ in range(50):
            assert ceiling / 2 <= policy.backoff(attempt) <= ceiling
    assert policy.wait_before_retry(0, 7.0) == 7.0
    assert RetryPolicy(retry_after_max=5).wait_before_retry(0, 3600) == 5


def test_parse_retry_after():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= parse_retry_after(in_ten) <= 10.5


def test_properties_are_copied_at_call_time(fake_ces, make_client):
    client = make_client(fake_ces.url, flush_interval=0.3)
    props = {"step": 1}
    client.track("u1", "e", props)
    props["step"] = 2  # the caller reuses its dict before the batch goes out
    assert client.flush(5)
    assert fake_ces.events[0]["properties"] == {"step": 1}


def test_track_cost_in_the_callers_thread_is_small(fake_ces, make_client):
    """A loose guard (the benchmark measures properly): 2,000 calls well under 100 ms."""
    client = make_client(fake_ces.url, max_queue_size=100_000)
    started = time.perf_counter()
    for i in range(2000):
        client.track("u1", "checkout_completed", {"order_id": i, "total": 42.5})
    assert time.perf_counter() - started < 0.1
    assert client.flush(10)

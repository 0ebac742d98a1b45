"""Alerts and digests through the API on a real server, to a real receiver: `score.dropped` fires
(signed) on a planted drop and not on noise (seeded); once per period; the digest's Slack text;
the settings' validation."""
from __future__ import annotations

import json
import random
from typing import Iterator

import pytest

from ces.core import webhook_signing
from ces.testing import LiveServer

from contract_helpers import Receiver
from insights_seed import DAY, seed


@pytest.fixture
def server(tmp_path) -> Iterator[LiveServer]:
    s = LiveServer(tmp_path / "ces.db", WEBHOOK_BACKOFF_BASE=0.2, WEBHOOK_MAX_ATTEMPTS=3, ALERTS_INTERVAL=0)
    try:
        yield s
    finally:
        s.app.extensions["ces_webhooks"].stop()
        s.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


def hook(server: LiveServer, url: str, events: list[str]) -> dict:
    status, body = server.admin("POST", "/api/v1/webhooks", {"site_id": server.site["id"], "url": url, "events": events})
    assert status == 201, body
    return body


def midnight(server: LiveServer) -> float:
    now = server.clock()
    return now - now % DAY


def plant(server: LiveServer, rng: random.Random, p_before: float, p_after: float, n: int = 150) -> None:
    """n answers a day-spread over the 7 days before the last 7, and n over the last 7 (UTC)."""
    end = midnight(server)
    rows = []
    for period, p in ((end - 14 * DAY, p_before), (end - 7 * DAY, p_after)):
        for i in range(n):
            easy = rng.random() < p
            rows.append({"user": f"u{period}-{i}", "score": rng.choice((5, 6, 7)) if easy else rng.choice((1, 2, 3)),
                         "t": period + (i % 7) * DAY + 600 + i})
    seed(server, rows)


def run(server: LiveServer) -> list[dict]:
    status, body = server.admin("POST", f"/api/v1/sites/{server.site['id']}/alerts/run")
    assert status == 200, body
    return body["sent"]


def test_score_dropped_fires_signed_once_on_a_planted_drop(server: LiveServer, receiver: Receiver) -> None:
    h = hook(server, receiver.url, ["score.dropped"])
    plant(server, random.Random(11), 0.75, 0.45)
    sent = run(server)
    assert [s["kind"] for s in sent] == ["score.dropped"] and sent[0]["survey_id"] == server.survey_id
    receiver.wait(1)
    req = receiver.requests[0]
    webhook_signing.verify(h["secret"], req["headers"], req["body"], server.clock())  # raises unless signed
    with pytest.raises(webhook_signing.SignatureError):
        webhook_signing.verify(h["secret"], req["headers"], req["body"] + b" ", server.clock())
    body = json.loads(req["body"])
    assert body["type"] == "score.dropped" and body["text"].count("fell from") == 1
    d = body["data"]
    assert d["difference"]["significant"] and d["difference"]["difference"] < 0
    assert d["score"]["n"] == 150 and d["previous_score"]["n"] == 150
    # The same period is never announced twice.
    assert run(server) == []
    _, settings = server.admin("GET", f"/api/v1/sites/{server.site['id']}/alerts")
    assert [r["kind"] for r in settings["recent"]] == ["score.dropped"]


def test_no_alert_on_noise(server: LiveServer, receiver: Receiver) -> None:
    hook(server, receiver.url, ["score.dropped"])
    plant(server, random.Random(5), 0.6, 0.6)
    assert run(server) == []


def test_no_alert_when_disabled_or_too_few(server: LiveServer, receiver: Receiver) -> None:
    hook(server, receiver.url, ["score.dropped"])
    plant(server, random.Random(11), 0.75, 0.45, n=150)
    status, _ = server.admin("PUT", f"/api/v1/sites/{server.site['id']}/alerts",
                             {"score_dropped": {"min_n": 200}})
    assert status == 200
    assert run(server) == []
    server.admin("PUT", f"/api/v1/sites/{server.site['id']}/alerts", {"score_dropped": {"enabled": False}})
    assert run(server) == []
    server.admin("PUT", f"/api/v1/sites/{server.site['id']}/alerts", {})
    assert [s["kind"] for s in run(server)] == ["score.dropped"]


def test_daily_digest_with_slack_text(server: LiveServer, receiver: Receiver) -> None:
    hook(server, receiver.url, ["digest"])
    status, body = server.admin("PUT", f"/api/v1/sites/{server.site['id']}/alerts",
                                {"digest": {"frequency": "daily", "hour": 0}})
    assert status == 200 and body["digest"]["frequency"] == "daily"
    end = midnight(server)
    rng = random.Random(2)
    rows = []
    for day, p in ((end - 2 * DAY, 0.7), (end - DAY, 0.4)):
        for i in range(120):
            transfers = rng.choice((0, 1, 2, 3))
            easy = rng.random() < (p - 0.3 if transfers >= 2 else p + 0.2)
            comment = None
            if day == end - DAY and i % 4 == 0:  # yesterday: 30 comments, 20 about delivery, 10 about waiting
                comment = ("My parcel arrived two weeks late", "Le colis est arrivé en retard",
                           "I waited on hold for an hour")[i % 3]
            rows.append({"user": f"d{day}-{i}", "score": 6 if easy else 2, "t": day + 60 + i,
                         "props": {"transfers": transfers}, "comment": comment})
    seed(server, rows)
    sent = run(server)
    assert [s["kind"] for s in sent] == ["digest"]
    receiver.wait(1)
    body = json.loads(receiver.requests[0]["body"])
    text = body["text"]
    assert text.startswith("*Effort digest: ") and "▼" in text and "Top drivers: transfers" in text
    survey = body["data"]["surveys"][0]
    assert survey["score"]["n"] == 120 and survey["previous_score"]["n"] == 120
    assert survey["difference"]["difference"] < 0
    themes = {t["theme"]: t["count"] for t in survey["top_themes"]}
    assert themes["Delivery"] == 20 and themes["Waiting"] == 10, themes
    assert "Top themes: Delivery (20), Waiting (10)" in text
    assert run(server) == []  # one digest per day


def test_alert_settings_validation(server: LiveServer) -> None:
    path = f"/api/v1/sites/{server.site['id']}/alerts"
    _, before = server.admin("GET", path)
    assert before["score_dropped"] == {"enabled": True, "period_days": 7, "min_n": 30}
    for body, field in (({"score_dropped": {"period_days": 0}}, "score_dropped.period_days"),
                        ({"score_dropped": {"enabled": "yes"}}, "score_dropped.enabled"),
                        ({"digest": {"frequency": "hourly"}}, "digest.frequency"),
                        ({"digest": {"hour": 24}}, "digest.hour"),
                        ({"digest": {"colour": 1}}, "digest.colour"),
                        ({"nope": {}}, "nope"), ({"digest": []}, "digest")):
        status, err = server.admin("PUT", path, body)
        assert status == 400 and field in err["error"]["fields"], (body, err)
    assert server.admin("GET", path)[1] == before  # nothing stored by a refusal
    assert server.admin("GET", "/api/v1/sites/999/alerts")[0] == 404

"""Scores that diverge and effort against loyalty, through the API on planted data: a CES survey
and an NPS survey answered by the same customers."""
from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from ces.core.scoring import wilson_interval
from ces.testing import LiveServer

from insights_seed import DAY, add_event, seed

T0 = datetime(2026, 3, 2, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def two_surveys(live_server: LiveServer):
    storage = live_server.services.storage
    nps = storage.create_survey(live_server.site["id"], T0, name="Recommend", metric="nps")
    rng = random.Random(9)
    ces_rows, nps_rows, truth = [], [], {}
    for i in range(300):
        user = f"c{i}"
        low_effort = rng.random() < 0.6
        ces = rng.choice((6, 7)) if low_effort else rng.choice((1, 2))
        # Effort predicts loyalty: most easy answers come with a promoter, most hard ones a detractor.
        if low_effort:
            nps_score = rng.choice((9, 10)) if rng.random() < 0.75 else rng.choice((7, 8))
        else:
            nps_score = rng.choice((2, 3, 4)) if rng.random() < 0.8 else rng.choice((9, 10))
        if i < 6:  # planted divergent customers: very easy, yet would not recommend
            ces, nps_score = 7, 0
        # An older answer first: only each customer's latest counts.
        ces_rows.append({"user": user, "score": 1 if ces > 3 else 7, "t": T0 + i})
        ces_rows.append({"user": user, "score": ces, "t": T0 + DAY + i})
        nps_rows.append({"user": user, "score": nps_score, "t": T0 + 2 * DAY + i})
        truth[user] = (ces, nps_score)
    # Customers who answered only one of the two are not paired.
    ces_rows += [{"user": f"only{i}", "score": 7, "t": T0 + i} for i in range(5)]
    seed(live_server, ces_rows)
    seed(live_server, nps_rows, survey_id=nps["id"])
    return live_server, nps, truth


def test_divergence_cross_table_correlation_and_divergent(two_surveys) -> None:
    server, nps, truth = two_surveys
    status, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/divergence?with={nps['id']}")
    assert status == 200, body
    assert body["pairs"] == 300 and body["with"]["metric"] == "nps"
    groups = body["cross_table"]["groups"]
    def group(metric_pos, metric_neg, v):
        return "positive" if v in metric_pos else "negative" if v in metric_neg else "neutral"
    expected: dict = {}
    for ces, n in truth.values():
        key = (group({5, 6, 7}, {1, 2, 3}, ces), group({9, 10}, set(range(7)), n))
        expected[key] = expected.get(key, 0) + 1
    for (ga, gb), count in expected.items():
        assert groups[ga][gb] == count
    assert sum(sum(row.values()) for row in groups.values()) == 300
    assert body["cross_table"]["points"]["7"]["0"] == 6
    for name in ("pearson", "spearman"):
        c = body[name]
        assert c["n"] == 300 and c["r"] > 0.3 and c["ci"]["low"] > 0 and c["ci"]["low"] < c["r"] < c["ci"]["high"]
    # Exactly the customers half a scale apart or more: the planted "very easy, would not
    # recommend" ones (a gap of a whole scale, downwards) and the hard-effort promoters.
    far = {u for u, (c, n) in truth.items() if abs(n / 10 - (c - 1) / 6) >= 0.5}
    assert {d["user_id"] for d in body["divergent"]} == far and body["divergent_total"] == len(far)
    gaps = [abs(d["gap"]) for d in body["divergent"]]
    assert gaps == sorted(gaps, reverse=True)  # the furthest apart first
    below = [d for d in body["divergent"] if d["gap"] < 0]
    assert {d["user_id"] for d in below} == {f"c{i}" for i in range(6)}
    assert all(d["score"] == 7 and d["other_score"] == 0 and d["gap"] == -1.0 for d in below)


def test_loyalty_share_of_promoters_by_effort(two_surveys) -> None:
    server, nps, truth = two_surveys
    status, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/loyalty?with={nps['id']}")
    assert status == 200, body
    low = [n >= 9 for c, n in truth.values() if c >= 5]
    high = [n >= 9 for c, n in truth.values() if c <= 3]
    assert body["low_effort"]["n"] == len(low) and body["low_effort"]["count"] == sum(low)
    assert body["high_effort"]["n"] == len(high) and body["high_effort"]["count"] == sum(high)
    lo, hi = wilson_interval(sum(low), len(low))
    assert body["low_effort"]["ci"] == {"low": round(100 * lo, 2), "high": round(100 * hi, 2)}
    assert body["difference"] > 0 and body["significant"] and body["difference_ci"]["low"] > 0


def test_loyalty_by_a_repeat_event(two_surveys) -> None:
    server, _, truth = two_surveys
    # Repeat purchases after the answer: low-effort customers c6..c99 with an even number, plus
    # one purchase before the answer (which must not count) and one too late (after 90 days).
    buyers = set()
    for i in range(6, 100, 2):
        add_event(server, f"c{i}", "order_completed", T0 + 5 * DAY)
        buyers.add(f"c{i}")
    add_event(server, "c1", "order_completed", T0 - DAY)
    add_event(server, "c3", "order_completed", T0 + 200 * DAY)
    status, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/loyalty?event=order_completed")
    assert status == 200, body
    low = [u for u, (c, _) in truth.items() if c >= 5] + [f"only{i}" for i in range(5)]
    high = [u for u, (c, _) in truth.items() if c <= 3]
    assert body["respondents"] == 305
    assert body["low_effort"]["count"] == len(buyers & set(low)) and body["low_effort"]["n"] == len(low)
    assert body["high_effort"]["count"] == len(buyers & set(high))
    assert body["measure"] == {"kind": "event", "event": "order_completed", "within_days": 90.0}


def test_bad_parameters(two_surveys) -> None:
    server, nps, _ = two_surveys
    base = f"/api/v1/surveys/{server.survey_id}"
    for path, field in ((f"{base}/divergence", "with"), (f"{base}/divergence?with=abc", "with"),
                        (f"{base}/divergence?with=999", "with"), (f"{base}/divergence?with={server.survey_id}", "with"),
                        (f"{base}/divergence?with={nps['id']}&threshold=2", "threshold"),
                        (f"{base}/divergence?with={nps['id']}&trigger=1", "trigger"),
                        (f"{base}/loyalty", "with"), (f"{base}/loyalty?with={nps['id']}&event=x", "with"),
                        (f"{base}/loyalty?event=x&within_days=0", "within_days")):
        status, err = server.admin("GET", path)
        assert status == 400 and field in err["error"]["fields"], (path, err)

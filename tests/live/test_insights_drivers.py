"""What drives effort and fix first, through the API on a real server: a planted effect found, a
planted null not found among 30 random properties (seeded); the filtered report read from
`answer_props` equals the same report from the base tables and the pure computation."""
from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from ces.core.scoring import score as pure_score
from ces.testing import LiveServer

from insights_seed import DAY, seed

T0 = datetime(2026, 3, 2, tzinfo=timezone.utc).timestamp()


def planted_rows(seed_value: int = 7, n: int = 3000, randoms: int = 30) -> list[dict]:
    """transfers ≥ 2 lowers the chance of an easy answer from 70 % to 35 %; 30 other properties
    (texts of 2 to 5 values, small counts, booleans) have no effect."""
    rng = random.Random(seed_value)
    rows = []
    for i in range(n):
        transfers = rng.choice((0, 0, 0, 1, 1, 2, 3, 4))
        easy = rng.random() < (0.35 if transfers >= 2 else 0.70)
        props: dict = {"transfers": transfers, "channel": rng.choice(("chat", "phone", "email"))}
        for k in range(randoms):
            if k % 3 == 0:
                props[f"r{k:02d}"] = "abcde"[rng.randrange(2 + k % 4)]
            elif k % 3 == 1:
                props[f"r{k:02d}"] = rng.randrange(4)
            else:
                props[f"r{k:02d}"] = rng.random() < 0.5
        rows.append({"user": f"u{i}", "score": rng.choice((5, 6, 7)) if easy else rng.choice((1, 2, 3, 4)),
                     "t": T0 + (i % 28) * DAY + 3600, "props": props,
                     "event": "ticket_closed" if i % 3 == 0 else "checkout_completed"})
    return rows


@pytest.fixture
def planted(live_server: LiveServer) -> tuple[LiveServer, list[dict]]:
    rows = planted_rows()
    seed(live_server, rows)
    return live_server, rows


def test_ranking_finds_the_planted_effect_and_not_the_nulls(planted) -> None:
    server, rows = planted
    status, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/drivers")
    assert status == 200, body
    props = body["properties"]
    assert len(props) == 32 and body["fdr"] == 0.05 and body["min_n"] == 30
    top = props[0]
    assert (top["source"], top["key"]) == ("event", "transfers"), [p["key"] for p in props[:3]]
    findings = {v["value"]: v for v in top["values"] if v["finding"]}
    # The buckets of 2 and more transfers are found below the rest, with intervals below 0.
    assert {"2", "3-4"} <= set(findings), findings.keys()
    for label in ("2", "3-4"):
        v = findings[label]
        assert v["difference"] < -20 and v["difference_ci"]["high"] < 0 and v["q"] <= 0.05
    assert top["effect"]["difference"] < -20
    # Not one of the 30 random properties (nor channel) has a finding after the correction.
    nulls = [p for p in props if p["key"] != "transfers"]
    assert all(p["findings"] == 0 and p["effect"] is None for p in nulls), [p["key"] for p in nulls if p["findings"]]
    # The values' scores are the pure computation on the seeded answers.
    zero = next(v for v in top["values"] if v["value"] == "0")
    assert zero["n"] == sum(1 for r in rows if r["props"]["transfers"] == 0)
    expected = pure_score("ces7", [r["score"] for r in rows if r["props"]["transfers"] == 0]).as_dict()
    assert zero["headline"] == expected["headline"] and zero["headline_ci"] == expected["headline_ci"]


def test_without_correction_the_nulls_would_show(planted) -> None:
    """The correction matters: at an uncorrected 5 % some of the 160-odd null values pass."""
    server, _ = planted
    _, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/drivers")
    raw_hits = [v for p in body["properties"] if p["key"] != "transfers" for v in p["values"]
                if v["tested"] and v["p"] < 0.05]
    assert body["tests"] > 100
    assert raw_hits, "the seeded nulls give some uncorrected p < 0.05 (what the correction removes)"


def test_min_n_and_bad_parameters(planted) -> None:
    server, _ = planted
    _, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/drivers?min_n=2000")
    assert all(not v["tested"] and v["q"] is None for p in body["properties"] for v in p["values"])
    for query, field in (("min_n=1", "min_n"), ("min_n=x", "min_n"), ("fdr=0", "fdr"), ("fdr=1.5", "fdr"),
                         ("locale=en", "locale"), ("nope=1", "nope")):
        status, err = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/drivers?{query}")
        assert status == 400 and field in err["error"]["fields"], (query, err)
    assert server.admin("GET", "/api/v1/surveys/999/drivers")[0] == 404


def test_traits_are_ranked_too(planted) -> None:
    server, rows = planted
    storage = server.services.storage
    rng = random.Random(3)
    with storage.write() as db:
        for r in rows:
            traits = {"plan": rng.choice(("free", "pro")), "vip": r["props"]["transfers"] >= 2}
            storage.merge_traits(db, server.site["id"], r["user"], traits, T0)
    _, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/drivers")
    by_key = {(p["source"], p["key"]): p for p in body["properties"]}
    assert by_key[("trait", "plan")]["findings"] == 0
    assert by_key[("trait", "vip")]["findings"] >= 1  # the trait that follows transfers ≥ 2
    vip = {v["value"]: v for v in by_key[("trait", "vip")]["values"]}
    assert vip["true"]["n"] == sum(1 for r in rows if r["props"]["transfers"] >= 2)


def test_fix_first_ranks_the_planted_cell_first(planted) -> None:
    server, rows = planted
    status, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/fix-first?limit=10")
    assert status == 200, body
    items = body["items"]
    assert items and items[0]["finding"] and items[0]["key"] == "transfers"
    assert items[0]["value"] in ("2", "3-4") and items[0]["touchpoint"]
    top = items[0]
    assert top["impact"] == pytest.approx(top["respondents"] * top["effort_gap"] / 100, abs=0.02)
    assert top["impact_ci"]["low"] > 0
    # Cells of random properties are not findings.
    assert all(not i["finding"] for i in items if i["key"] and i["key"].startswith("r"))
    impacts = [i["impact"] for i in items if i["finding"]]
    assert impacts == sorted(impacts, reverse=True)


FILTERS = [
    ("properties.channel=chat", lambda p: p.get("channel") == "chat"),
    ("properties.transfers[gte]=2", lambda p: isinstance(p.get("transfers"), int) and p["transfers"] >= 2),
    ("properties.transfers=2", lambda p: p.get("transfers") == 2),
    ("properties.channel[ne]=chat", lambda p: p.get("channel") != "chat"),
    ("properties.channel[in]=chat,phone", lambda p: p.get("channel") in ("chat", "phone")),
    ("properties.r02=true", lambda p: p.get("r02") is True),
    ("properties.extra.level[lt]=2", lambda p: isinstance(p.get("extra"), dict) and p["extra"].get("level", 9) < 2),
    ("properties.extra[exists]=false", lambda p: "extra" not in p),
    ("properties.extra[exists]=true&properties.channel=phone", lambda p: "extra" in p and p.get("channel") == "phone"),
]


@pytest.mark.parametrize("query,keep", FILTERS, ids=[f[0] for f in FILTERS])
def test_filtered_report_equals_the_base_tables(live_server: LiveServer, query: str, keep) -> None:
    rows = planted_rows(n=600, randoms=3)
    for i, r in enumerate(rows):
        if i % 4 == 0:
            r["props"]["extra"] = {"level": i % 3}
    seed(live_server, rows)
    path = f"/api/v1/surveys/{live_server.survey_id}/report?interval=week&driver=transfers&{query}"
    status, fast = live_server.admin("GET", path)
    assert status == 200, fast
    # Every seeded prompt is in locale "en": the same filter with locale=en reads the base tables
    # (events' JSON), which answer_props does not serve.
    status, base = live_server.admin("GET", path + "&locale=en")
    assert status == 200, base
    for section in ("score", "over_time", "by_touchpoint", "drivers"):
        assert fast[section] == base[section], section
    expected = [r["score"] for r in rows if keep(r["props"])]
    assert fast["score"] == pure_score("ces7", expected).as_dict()
    assert fast["score"]["n"] == len(expected) > 0


@pytest.mark.parametrize("span", ["", "from=2026-03-03&to=2026-04-30", "from=2026-03-13&to=2026-03-20",
                                  "from=2026-01-01&to=2026-03-15"])
def test_ranking_rollups_equal_the_answers_themselves(planted, span: str) -> None:
    """The ranking from the rollups (28-day blocks, edge days) equals the one from answer_props
    (a filter every answer passes sends it there), before and after an erasure."""
    server, rows = planted
    base = f"/api/v1/surveys/{server.survey_id}/drivers?{span}"
    def both() -> tuple[list, list]:
        _, fast = server.admin("GET", base)
        _, exact = server.admin("GET", base + "&properties.transfers[exists]=true")
        return fast["properties"], exact["properties"]
    fast, exact = both()
    assert fast == exact and sum(p["n"] for p in fast) > 0
    for user in ("u3", "u4", "u100"):
        status, _ = server.admin("DELETE", f"/api/v1/users/{user}?site={server.site['id']}")
        assert status == 200
    after, after_exact = both()
    assert after == after_exact and after != fast


def test_fix_first_has_the_theme_dimension(live_server: LiveServer) -> None:
    """Delivery complaints at checkout score low, and within them `transfers` ≥ 2 lower still:
    the list has the touchpoint × theme item and the touchpoint × theme × driver item."""
    rng = random.Random(4)
    rows = []
    for i in range(1200):
        delivery = i % 3 == 0
        transfers = rng.choice((0, 1, 2, 3))
        p = 0.25 if delivery else 0.75
        if delivery and transfers >= 2:
            p = 0.05
        comment = ("My parcel arrived two weeks late" if delivery else
                   rng.choice(("Great, thanks", "Everything fine", "Quick and easy")))
        rows.append({"user": f"t{i}", "score": rng.choice((5, 6, 7)) if rng.random() < p else rng.choice((1, 2, 3)),
                     "t": T0 + (i % 20) * DAY + 60, "props": {"transfers": transfers}, "comment": comment})
    seed(live_server, rows)
    status, body = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/fix-first?limit=100")
    assert status == 200 and body["themes"] is True, body
    theme_items = [i for i in body["items"] if i["theme"] == "Delivery" and i["dimension"] == "theme"]
    assert len(theme_items) == 1 and theme_items[0]["finding"]
    assert theme_items[0]["respondents"] == 400 and theme_items[0]["touchpoint"] == "Ask after checkout_completed"
    inner = [i for i in body["items"] if i["theme"] == "Delivery" and i["key"] == "transfers" and i["finding"]]
    assert inner and all(i["value"] in ("2", "3-4") for i in inner)
    assert inner[0]["respondents"] == sum(1 for r in rows if r["comment"].startswith("My parcel")
                                          and r["props"]["transfers"] == int(inner[0]["value"][0]))


def test_answers_given_through_the_widget_are_in_the_filtered_report(live_server: LiveServer) -> None:
    """The product's own path: an event with properties, the prompt over the websocket, the
    answer; the next filtered report and ranking count it (answer_props copied by the report)."""
    for i, (channel, transfers, score) in enumerate((("chat", 3, 2), ("chat", 0, 7), ("phone", 1, 6))):
        user = f"w{i}"
        status, body = live_server.post_events({"user_id": user, "name": "ticket_closed",
                                                "properties": {"channel": channel, "transfers": transfers,
                                                               "nested": {"level": i}}})
        assert body["results"][0]["decision"] == "prompt", body
        tab = live_server.ws(user)
        prompt_id = tab.expect("prompt")["prompt"]["id"]
        tab.send({"type": "answer", "prompt": prompt_id, "score": score, "id": "a"})
        assert tab.expect("ack")["status"] == "answered"
    path = f"/api/v1/surveys/{live_server.survey_id}/report?driver=transfers"
    _, chat = live_server.admin("GET", path + "&properties.channel=chat")
    assert chat["score"] == pure_score("ces7", [2, 7]).as_dict()
    _, nested = live_server.admin("GET", path + "&properties.nested.level[gte]=1")
    assert nested["score"]["n"] == 2
    assert {v["value"]: v["n"] for v in nested["drivers"]["values"]} == {"0": 1, "1": 1}
    _, ranked = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/drivers?min_n=2")
    assert {p["key"] for p in ranked["properties"]} == {"channel", "transfers"}

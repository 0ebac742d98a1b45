"""Themes through the API on a real server: the grouping of comments written in three languages
(and two more) matches their known themes; the customers of a theme are exactly those with a
high-effort answer in it, with their traits, in CSV too, and marked contacted as in the at-risk
list; renaming, merging and extending themes changes the assignment; theme.grown fires on a
planted rise and not on noise."""
from __future__ import annotations

import csv
import io
import itertools
import json
import random
import urllib.request
from typing import Iterator

import pytest

from ces.core.cluster_agreement import adjusted_rand_index
from ces.core.time_zones import day_start
from ces.storage.reports import Reports
from ces.testing import LiveServer, http
from ces.theme_samples import labelled, uncovered

from contract_helpers import Receiver
from test_webhooks import independent_signature

DAY = 86400
_ids = itertools.count(1)


def seed(server: LiveServer, rows: list[dict], survey_id: int | None = None) -> None:
    """Event + prompt + answer per row (user, score, comment, at, event) through the Storage."""
    storage = server.services.storage
    survey_id = survey_id or server.survey_id
    site_id = storage.get_survey(survey_id)["site_id"]
    triggers = {t["event_name"]: t["id"] for t in storage.all("select id, event_name from triggers where site_id = ?",
                                                             [site_id])}
    with storage.write() as db:
        for r in rows:
            i = next(_ids)
            t = r.get("at", server.clock() - 3600)
            event = r.get("event", "checkout_completed")
            pid = f"p_theme{i}"
            eid = db.execute(
                "insert into events (site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
                "decision, reason, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,?,?,?,?)",
                [site_id, f"te{i}", r["user"], event, json.dumps(r.get("props", {})), t, t, "backend", "prompt",
                 "prompted", triggers.get(event), pid]).lastrowid
            db.execute(
                "insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, "
                "created_at, deliver_after, expires_at, delivered_at, shown_at, closed_at) "
                "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [pid, site_id, r["user"], survey_id, triggers.get(event), eid, "answered", r.get("locale", "en"),
                 t, t, t + 30 * DAY, t + 1, t + 2, t + 10])
            db.execute("insert into answers (prompt_id, site_id, survey_id, user_id, score, comment, created_at) "
                       "values (?,?,?,?,?,?,?)", [pid, site_id, survey_id, r["user"], r["score"], r.get("comment"),
                                                  t + 10])
    Reports(storage).rebuild_funnel_rollup()


def get(server: LiveServer, path: str) -> dict:
    status, body = server.admin("GET", path)
    assert status == 200, body
    return body


def all_comments(server: LiveServer, query: str = "") -> list[dict]:
    out, page = [], 1
    while True:
        body = get(server, f"/api/v1/surveys/{server.survey_id}/themes/comments?page_size=200&page={page}{query}")
        out += body["comments"]
        if len(out) >= body["total"]:
            return out
        page += 1


def labelled_rows() -> list[dict]:
    rows = []
    samples = labelled()
    random.Random(11).shuffle(samples)
    for n, (theme, lang, text) in enumerate(samples):
        rows.append({"user": f"u{n}", "score": 2 if n % 3 else 6, "comment": text, "locale": lang, "truth": theme})
    return rows


def test_grouping_through_the_api_matches_the_known_themes(live_server: LiveServer) -> None:
    rows = labelled_rows()
    seed(live_server, rows)
    truth = {r["user"]: r["truth"] for r in rows}
    comments = all_comments(live_server)
    assert len(comments) == len(rows)
    found = {c["user_id"]: (c["themes"][0] if c["themes"] else "none") for c in comments}
    users = sorted(truth)
    ari = adjusted_rand_index([truth[u] for u in users], [found[u] for u in users])
    assert ari >= 0.8, ari  # see tests/unit/test_themes.py for why this floor
    for lang in ("en", "fr", "ro"):
        mine = [r["user"] for r in rows if r["locale"] == lang]
        assert adjusted_rand_index([truth[u] for u in mine], [found[u] for u in mine]) >= 0.8, lang

    report = get(live_server, f"/api/v1/surveys/{live_server.survey_id}/themes")
    sections = {s["key"]: s for s in report["themes"]}
    assert set(sections) == {"delivery", "payment", "returns-refunds", "website-errors", "transfers-repetition",
                             "staff", "price", "waiting"}
    assert report["comments"] == len(rows)
    d = sections["delivery"]
    in_delivery = [c for c in comments if "delivery" in c["themes"]]
    high = [c for c in in_delivery if c["score"] <= 3]
    assert d["comments"] == len(in_delivery) and d["high_effort"] == len(high)
    assert d["high_effort_share"]["ci"]["low"] <= d["high_effort_share"]["share"] <= d["high_effort_share"]["ci"]["high"]
    assert d["score"]["n"] == len(in_delivery) and d["score"]["headline_ci"] is not None
    assert d["label"] == "Delivery" and len(d["representative"]) == 3
    assert all(r["score"] <= 3 for r in d["representative"])  # high-effort ones first
    assert sum(p["comments"] for p in d["trend"]["periods"]) == len(in_delivery)
    # The same input gives the same themes: a second report is equal (and themes nothing again).
    assert get(live_server, f"/api/v1/surveys/{live_server.survey_id}/themes") == report


def test_a_comment_arriving_by_the_widget_is_themed_on_the_next_report(live_server: LiveServer) -> None:
    status, body = live_server.post_events({"user_id": "w1", "name": "checkout_completed"})
    assert body["results"][0]["decision"] == "prompt", body
    tab = live_server.ws("w1")
    prompt_id = tab.expect("prompt")["prompt"]["id"]
    tab.send({"type": "answer", "prompt": prompt_id, "score": 2, "id": "a"})
    assert tab.expect("ack")["status"] == "answered"
    assert get(live_server, f"/api/v1/surveys/{live_server.survey_id}/themes")["comments"] == 0
    tab.send({"type": "comment", "prompt": prompt_id, "comment": "Colisul... nu, coletul nu a ajuns!", "id": "c"})
    tab.expect("ack")
    report = get(live_server, f"/api/v1/surveys/{live_server.survey_id}/themes")
    assert [(s["key"], s["comments"], s["high_effort"]) for s in report["themes"]] == [("delivery", 1, 1)]


def test_customers_of_a_theme_are_exactly_those_with_a_high_effort_answer_in_it(live_server: LiveServer) -> None:
    now = live_server.clock()
    rows = [
        {"user": "ana", "score": 1, "comment": "Le colis n'est jamais arrivé", "at": now - 5 * DAY},
        {"user": "ana", "score": 6, "comment": "fine this time", "at": now - 2 * DAY},
        {"user": "bob", "score": 2, "comment": "Parcel arrived a week late", "at": now - 4 * DAY},
        {"user": "bob", "score": 3, "comment": "Delivery late again", "at": now - 1 * DAY},
        {"user": "cy", "score": 6, "comment": "delivery was a bit slow but ok", "at": now - 3 * DAY},  # not high effort
        {"user": "dan", "score": 1, "comment": "Plata cu cardul a eșuat", "at": now - 3 * DAY},      # another theme
        {"user": "eve", "score": 2, "comment": "Coletul nu a ajuns", "at": now - 2 * DAY, "event": "ticket_closed"},
        {"user": "fay", "score": 1, "at": now - 2 * DAY},                                               # no comment
        {"user": "gus", "score": 2, "comment": "I was transferred three times", "at": now - 2 * DAY,
         "event": "ticket_closed", "props": {"transfers": 3}},
        {"user": "hal", "score": 6, "comment": "transferred once, fine", "at": now - 2 * DAY,
         "event": "ticket_closed", "props": {"transfers": 2}},
    ]
    seed(live_server, rows)
    for user, traits in (("ana", {"email": "ana@example.com", "first_name": "Ana", "last_name": "Pop"}),
                         ("bob", {"email": "bob@example.com", "name": "=HYPERLINK(\"http://x\",\"x\")"})):
        status, body = http("POST", f"{live_server.url}/api/v1/identify", {"user_id": user, "traits": traits},
                            live_server.site["secret_key"])
        assert status == 200, body
    base = f"/api/v1/surveys/{live_server.survey_id}/customers"
    body = get(live_server, f"{base}?theme=delivery")
    assert sorted(c["user_id"] for c in body["customers"]) == ["ana", "bob", "eve"] and body["total"] == 3
    by_user = {c["user_id"]: c for c in body["customers"]}
    assert by_user["ana"]["email"] == "ana@example.com" and by_user["ana"]["name"] == "Ana Pop"
    assert by_user["bob"]["high_effort_answers"] == 2 and by_user["bob"]["comment"] == "Delivery late again"
    assert by_user["eve"]["email"] is None and by_user["eve"]["trigger"]["name"]
    # A touchpoint: the high-effort answers at the ticket trigger, any theme.
    ticket = live_server.services.storage.one("select id from triggers where event_name = 'ticket_closed'")["id"]
    assert sorted(c["user_id"] for c in get(live_server, f"{base}?trigger={ticket}")["customers"]) == ["eve", "gus"]
    assert [c["user_id"] for c in get(live_server, f"{base}?theme=delivery&trigger={ticket}")["customers"]] == ["eve"]
    # A driver value: the high-effort answers whose event had transfers ≥ 2.
    assert [c["user_id"] for c in get(live_server, f"{base}?properties.transfers[gte]=2")["customers"]] == ["gus"]
    # Any theme: every high-effort answer, with or without a comment.
    assert sorted(c["user_id"] for c in get(live_server, base)["customers"]) == ["ana", "bob", "dan", "eve", "fay",
                                                                                 "gus"]

    # CSV: the same customers, a formula-looking name made inert.
    req = urllib.request.Request(f"{live_server.url}{base}/export?theme=delivery",
                                 headers={"Authorization": f"Bearer {live_server.admin_token}"})
    with urllib.request.urlopen(req) as resp:
        assert resp.headers["Content-Type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(resp.read().decode())))
    assert sorted(r["user_id"] for r in table) == ["ana", "bob", "eve"]
    assert {r["user_id"]: r["name"] for r in table}["bob"].startswith("'=HYPERLINK")

    # Contacted: shared with the at-risk list's "followed up".
    status, done = live_server.admin("POST", f"{base}/contacted?theme=delivery", {"user_ids": ["bob", "zed"]})
    assert status == 200 and done["customers"] == 1 and done["answers"] == 2 and done["unknown_user_ids"] == ["zed"]
    at_risk = get(live_server, f"/api/v1/surveys/{live_server.survey_id}/at-risk?followed_up=true")
    assert [u["user_id"] for u in at_risk["users"]] == ["bob"]
    still = get(live_server, f"{base}?theme=delivery&followed_up=false")
    assert sorted(c["user_id"] for c in still["customers"]) == ["ana", "eve"]
    status, done = live_server.admin("POST", f"{base}/contacted?theme=delivery", {})
    assert status == 200 and done["customers"] == 3
    assert all(c["contacted"] for c in get(live_server, f"{base}?theme=delivery")["customers"])
    status, done = live_server.admin("POST", f"{base}/contacted?theme=delivery", {"contacted": False})
    assert status == 200 and not any(c["contacted"] for c in get(live_server, f"{base}?theme=delivery")["customers"])

    # Bad input: a clear 400 naming the field, nothing changed.
    for query, field in (("?theme=Nope!", "theme"), ("?theme=unknown-theme", "theme"), ("?high_effort_max=99", "high_effort_max"),
                         ("?followed_up=maybe", "followed_up"), ("?page=0", "page")):
        status, err = live_server.admin("GET", base + query)
        assert status == 400 and field in err["error"]["fields"], (query, err)
    status, err = live_server.admin("POST", f"{base}/contacted?theme=delivery", {"user_ids": "bob"})
    assert status == 400 and "user_ids" in err["error"]["fields"]
    status, err = live_server.admin("POST", f"{base}/contacted?theme=delivery", {"contacted": "yes"})
    assert status == 400 and "contacted" in err["error"]["fields"]

    # Erasing a customer takes their answers' stored themes with them.
    stored = lambda: live_server.services.storage.one(  # noqa: E731
        "select count(*) as n from comment_themes c join answers a on a.id = c.answer_id where a.user_id = 'ana'")
    assert stored()["n"] == 2
    ana_answers = [r["id"] for r in live_server.services.storage.all("select id from answers where user_id = 'ana'")]
    status, _ = live_server.admin("DELETE", f"/api/v1/users/ana?site={live_server.site['id']}")
    assert status == 200
    marks = ",".join("?" * len(ana_answers))
    assert live_server.services.storage.one(f"select count(*) as n from comment_themes where answer_id in ({marks})",
                                            ana_answers)["n"] == 0
    assert sorted(c["user_id"] for c in get(live_server, f"{base}?theme=delivery")["customers"]) == ["bob", "eve"]


def test_rename_merge_extend_change_the_assignment(live_server: LiveServer) -> None:
    rows = [{"user": f"s{i}", "score": 2, "comment": text} for i, (_t, _l, text) in enumerate(uncovered())]
    rows += [{"user": "t1", "score": 1, "comment": "I was transferred three times"},
             {"user": "t2", "score": 2, "comment": "On m'a transféré d'un service à l'autre"},
             {"user": "w1", "score": 2, "comment": "Waited 45 minutes on hold"}]
    seed(live_server, rows)
    site = live_server.site["id"]
    themes_url = f"/api/v1/sites/{site}/themes"
    report_url = f"/api/v1/surveys/{live_server.survey_id}/themes"
    before = get(live_server, report_url)
    keys = {s["key"]: s for s in before["themes"]}
    assert keys["transfers-repetition"]["comments"] == 2 and keys["waiting"]["comments"] == 1
    assert any(d["key"].startswith("found-") for d in before["discovered"])
    # A discovered theme's customers and comments are reachable by its key.
    found = before["discovered"][0]
    listed = get(live_server, f"/api/v1/surveys/{live_server.survey_id}/themes/comments?theme={found['key']}")
    assert listed["total"] == found["comments"] > 0

    # Rename.
    status, body = live_server.admin("PUT", f"{themes_url}/waiting", {"label": "Queues"})
    assert status == 200 and {t["key"]: t["label"] for t in body["themes"]}["waiting"] == "Queues"
    # Merge: transfers count as waiting now.
    status, body = live_server.admin("POST", f"{themes_url}/transfers-repetition/merge", {"into": "waiting"})
    assert status == 200, body
    after = {s["key"]: s for s in get(live_server, report_url)["themes"]}
    assert "transfers-repetition" not in after
    assert after["waiting"]["label"] == "Queues" and after["waiting"]["comments"] == 3
    # Extend: a theme of the site's own, in three languages, takes the size comments.
    status, body = live_server.admin("PUT", f"{themes_url}/sizes",
                                     {"label": "Sizes", "terms": ["size*", "taille*", "mărime*"]})
    assert status == 200, body
    report = get(live_server, report_url)
    sizes = {s["key"]: s for s in report["themes"]}["sizes"]
    assert sizes["kind"] == "custom" and sizes["comments"] == 12
    assert not any(d["key"] in ("found-size", "found-taille", "found-marime") for d in report["discovered"])
    customers = get(live_server, f"/api/v1/surveys/{live_server.survey_id}/customers?theme=sizes")
    assert customers["total"] == 12
    # A theme of the site's own merged and unmerged: it keeps its label and terms.
    assert live_server.admin("POST", f"{themes_url}/sizes/merge", {"into": "returns-refunds"})[0] == 200
    assert "sizes" not in {s["key"] for s in get(live_server, report_url)["themes"]}
    status, body = live_server.admin("POST", f"{themes_url}/sizes/unmerge")
    assert status == 200, body
    mine = {t["key"]: t for t in body["themes"]}["sizes"]
    assert (mine["label"], mine["added_terms"]) == ("Sizes", ["marime*", "size*", "taille*"])
    assert {s["key"]: s for s in get(live_server, report_url)["themes"]}["sizes"]["comments"] == 12
    status, err = live_server.admin("POST", f"{themes_url}/sizes/unmerge")
    assert status == 409 and "key" in err["error"]["fields"], err
    assert live_server.admin("POST", f"{themes_url}/never-made/unmerge")[0] == 404
    # Reset and delete: back to the starter themes.
    assert live_server.admin("DELETE", f"{themes_url}/transfers-repetition")[0] == 200
    assert live_server.admin("DELETE", f"{themes_url}/sizes")[0] == 200
    reset = {s["key"]: s for s in get(live_server, report_url)["themes"]}
    assert reset["transfers-repetition"]["comments"] == 2 and "sizes" not in reset

    # Bad input, a read-only token, a token of another site.
    for method, path, body, field in (
            ("PUT", f"{themes_url}/Bad_Key", {"label": "x", "terms": ["y"]}, "key"),
            ("PUT", f"{themes_url}/mine", {"label": "Mine"}, "terms"),
            ("PUT", f"{themes_url}/mine", {"terms": ["mine"]}, "label"),
            ("PUT", f"{themes_url}/delivery", {"terms": ["a*"]}, "terms"),
            ("PUT", f"{themes_url}/found-mine", {"label": "x", "terms": ["y"]}, "key"),
            ("PUT", f"{themes_url}/delivery", {"enabled": "no"}, "enabled"),
            ("POST", f"{themes_url}/delivery/merge", {"into": "nowhere"}, "into"),
            ("POST", f"{themes_url}/delivery/merge", {}, "into")):
        status, err = live_server.admin(method, path, body)
        assert status == 400 and field in err["error"]["fields"], (path, err)
    assert live_server.admin("DELETE", f"{themes_url}/never-made")[0] == 404
    storage = live_server.services.storage
    from ces.storage.tokens import TokenStore
    read_only = TokenStore(storage).create("ro", live_server.clock(), site_id=site, read_only=True)[1]
    status, _ = http("PUT", f"{live_server.url}{themes_url}/waiting", {"label": "x"}, read_only)
    assert status == 403
    other = storage.create_site("other", live_server.clock())
    other_token = TokenStore(storage).create("other", live_server.clock(), site_id=other["id"])[1]
    assert http("GET", f"{live_server.url}{themes_url}", token=other_token)[0] == 404
    assert http("GET", f"{live_server.url}{report_url}", token=other_token)[0] == 404


# -- theme.grown ---------------------------------------------------------------------------------

@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


def _week(server: LiveServer, start: float, comments: dict[str, tuple[int, int]], rng: random.Random,
          prefix: str) -> list[dict]:
    """Answers over 7 days from `start`: per theme text, (high-effort count, other count)."""
    rows = []
    for text, (high, low) in comments.items():
        for k in range(high + low):
            rows.append({"user": f"{prefix}{len(rows)}", "score": rng.randint(1, 3) if k < high else rng.randint(5, 7),
                         "comment": text, "at": start + rng.uniform(0, 7 * DAY - 60)})
    return rows


def test_theme_grown_fires_on_a_planted_rise_and_not_on_noise(live_server: LiveServer, receiver: Receiver) -> None:
    status, hook = live_server.admin("POST", "/api/v1/webhooks", {"site_id": live_server.site["id"],
                                                                  "url": receiver.url, "events": ["theme.grown"]})
    assert status == 201, hook
    rng = random.Random(2026)
    today = day_start(live_server.clock(), "UTC")
    texts = {"Parcel arrived late": "delivery", "Card declined at checkout": "payment",
             "Waited an hour on hold": "waiting", "The app crashed": "website-errors"}
    before = {t: (10, 40) for t in texts}
    now = {t: (10, 40) for t in texts} | {"Parcel arrived late": (40, 40)}  # delivery: 10 → 40 high effort
    seed(live_server, _week(live_server, today - 14 * DAY, before, rng, "b")
         + _week(live_server, today - 7 * DAY, now, rng, "n"))
    path = f"/api/v1/sites/{live_server.site['id']}/themes/check-growth"
    status, body = live_server.admin("POST", path)
    assert status == 200, body
    assert [a["theme"]["key"] for a in body["alerts"]] == ["delivery"]
    alert = body["alerts"][0]
    assert alert["high_effort_now"] == 40 and alert["high_effort_before"] == 10 and alert["significant"]
    receiver.wait(1)
    sent = json.loads(receiver.requests[0]["body"])
    assert sent["type"] == "theme.grown" and sent["data"]["theme"]["key"] == "delivery"
    headers = receiver.requests[0]["headers"]
    expected = independent_signature(hook["secret"], headers["webhook-id"], headers["webhook-timestamp"],
                                     receiver.requests[0]["body"])
    assert headers["webhook-signature"] == expected and headers["webhook-id"].startswith("msg_")
    # Checked again (the background job runs every hour): the same alert is not sent twice.
    assert live_server.admin("POST", path)[1]["alerts"] == []

    # Noise: a second site whose themes keep the same rates, drawn at random (seeded), never fires.
    storage = live_server.services.storage
    for seed_value in range(5):
        other = storage.create_site(f"noise{seed_value}", live_server.clock())
        survey = storage.create_survey(other["id"], live_server.clock(), name="ces", metric="ces7")
        storage.create_trigger(other["id"], live_server.clock(), name="checkout", event_name="checkout_completed",
                               survey_id=survey["id"])
        status, _ = live_server.admin("POST", "/api/v1/webhooks", {"site_id": other["id"], "url": receiver.url,
                                                                    "events": ["theme.grown"]})
        noise = random.Random(seed_value)
        rows = []
        for week, start in ((0, today - 14 * DAY), (1, today - 7 * DAY)):
            for text in texts:
                for k in range(60):
                    rows.append({"user": f"z{seed_value}-{week}-{text}-{k}", "comment": text,
                                 "score": noise.randint(1, 3) if noise.random() < 0.25 else noise.randint(5, 7),
                                 "at": start + noise.uniform(0, 7 * DAY - 60)})
        seed(live_server, rows, survey_id=survey["id"])
        status, body = live_server.admin("POST", f"/api/v1/sites/{other['id']}/themes/check-growth")
        assert status == 200 and body["alerts"] == [], (seed_value, body)


def test_changes_made_at_once_are_all_kept(live_server: LiveServer) -> None:
    from concurrent.futures import ThreadPoolExecutor
    url = f"/api/v1/sites/{live_server.site['id']}/themes"

    def put(i: int) -> int:
        return live_server.admin("PUT", f"{url}/mine-{i}", {"label": f"Mine {i}", "terms": [f"word{i}*"]})[0]

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(put, range(16))) == {200}
    keys = {t["key"] for t in get(live_server, url)["themes"]}
    assert {f"mine-{i}" for i in range(16)} <= keys

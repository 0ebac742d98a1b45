"""Erasing and exporting one user through the real admin API and the real CLI: nothing of theirs is
left in any table, the rollups are corrected in the same transaction (a report after equals one
rebuilt from the base tables), other users are untouched, the export holds every row erased."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from _privacy import (DAY, ROLLUPS, cells_containing, reports, reports_from_scratch, rollup_rows, seed_rows,
                      tables)
from ces.testing import LiveServer, free_port

ALICE, BOB = "alice-7f3a9c", "bob-41d2e8"
CES = str(Path(sys.executable).with_name("ces"))


@pytest.fixture
def server(tmp_path) -> Iterator[LiveServer]:
    # Deliveries to a port nobody listens on stay queued (retried an hour later).
    s = LiveServer(tmp_path / "ces.db", WEBHOOK_BACKOFF_BASE=3600)
    try:
        yield s
    finally:
        s.app.extensions["ces_webhooks"].stop()
        s.stop()


def _answer_live(server: LiveServer, user: str, score: int, comment: str) -> str:
    """The whole real path: backend event, prompt over the socket, shown, answer, follow-up comment."""
    status, body = server.post_events({"user_id": user, "name": "ticket_closed",
                                       "properties": {"channel": "chat", "wait_minutes": 31}})
    assert status == 200 and body["results"][0]["decision"] == "prompt", body
    tab = server.ws(user)
    pid = tab.expect("prompt")["prompt"]["id"]
    for msg in ({"type": "shown", "prompt": pid, "id": "s"}, {"type": "answer", "prompt": pid, "score": score, "id": "a"},
                {"type": "comment", "prompt": pid, "comment": comment, "id": "c"}):
        tab.send(msg)
        assert tab.expect("ack")["ref"] == msg["id"]
    tab.close()
    return pid


def _populate(server: LiveServer) -> None:
    """Alice and Bob each: traits, a live answer with a comment (webhooks queued), prompts in every
    status over past days, an event no trigger matched. Rollups folded in between, so some of
    Alice's rows are in the rollups and one answer is not yet."""
    status, hook = server.admin("POST", "/api/v1/webhooks", {
        "site_id": server.site["id"], "url": f"http://127.0.0.1:{free_port()}/hook",
        "events": ["answer.created", "answer.high_effort", "answer.commented"]})
    assert status == 201, hook
    for user, plan in ((ALICE, "pro"), (BOB, "free")):
        assert http_identify(server, user, {"plan": plan, "email": f"{user}@example.com"}) == 200
    _answer_live(server, BOB, 2, "too slow")
    _answer_live(server, ALICE, 1, f"call me, {ALICE}")
    t0 = server.clock() - 40 * DAY
    seed_rows(server, ALICE, t0, comment=f"{ALICE} says: the courier was late")
    seed_rows(server, BOB, t0 + 3600, score=6, comment="fine")
    seed_rows(server, BOB, t0 + 7200, statuses=("answered", "dismissed"), score=1)
    reports(server)  # folds everything so far into the rollups
    seed_rows(server, ALICE, t0 + 9000, statuses=("answered",), score=7)  # above the watermark: not folded yet
    status, body = server.post_events({"user_id": ALICE, "name": "page_viewed"})
    assert body["results"][0]["reason"] == "no_trigger"


def http_identify(server: LiveServer, user: str, traits: dict) -> int:
    from ces.testing import http
    return http("POST", f"{server.url}/api/v1/identify", {"user_id": user, "traits": traits},
                server.site["secret_key"])[0]


def _rows_of(server: LiveServer, user: str) -> dict[str, set]:
    """The ids of the user's rows, table by table, as the base tables hold them."""
    st = server.services.storage
    prompts = {r["id"] for r in st.all("select id from prompts where user_id = ?", [user])}
    return {
        "events": {r["id"] for r in st.all("select id from events where user_id = ?", [user])},
        "prompts": prompts,
        "answers": {r["id"] for r in st.all("select id from answers where user_id = ?", [user])},
        "webhook_deliveries": {r["id"] for r in st.all(
            "select id from webhook_deliveries where json_extract(payload, '$.data.user_id') = ?", [user])},
        "users": {r["user_id"] for r in st.all("select user_id from users where user_id = ?", [user])},
    }


def test_erase_leaves_nothing_and_reports_equal_a_rebuild(server: LiveServer) -> None:
    _populate(server)
    db = server.db_path
    mine = _rows_of(server, ALICE)
    assert {s["status"] for s in server.services.storage.all(
        "select status from prompts where user_id = ?", [ALICE])} == {"issued", "delivered", "shown", "answered",
                                                                      "dismissed", "expired"}
    assert mine["webhook_deliveries"] and mine["answers"] and mine["users"]
    assert server.services.storage.one("select count(*) as n from webhook_deliveries where status = 'pending' "
                                       "and json_extract(payload, '$.data.user_id') = ?", [ALICE])["n"] >= 3
    bob_before = {t: [r for r in rows if any(isinstance(c, str) and BOB in c for c in r)]
                  for t, rows in tables(db).items()}
    before = reports(server)

    # The export holds every row the erasure is about to delete.
    status, doc = server.admin("GET", f"/api/v1/users/{ALICE}/export")
    assert status == 200, doc
    assert {e["id"] for e in doc["events"]} == mine["events"]
    assert {p["id"] for p in doc["prompts"]} == mine["prompts"]
    assert {a["id"] for a in doc["answers"]} == mine["answers"]
    assert {d["id"] for d in doc["webhook_deliveries"]} == mine["webhook_deliveries"]
    assert doc["traits"] == {"plan": "pro", "email": f"{ALICE}@example.com"}

    status, body = server.admin("DELETE", f"/api/v1/users/{ALICE}")
    assert status == 200, body
    assert body["deleted"] == {"events": len(mine["events"]), "prompts": len(mine["prompts"]),
                               "answers": len(mine["answers"]), "traits": 1,
                               "webhook_deliveries": len(mine["webhook_deliveries"])}

    # Table by table, rollups included: no cell holds her id, her prompt ids or her comment's words.
    needles = [ALICE, "courier was late", *mine["prompts"]]
    assert cells_containing(db, needles) == []
    assert _rows_of(server, ALICE) == {k: set() for k in mine}
    # Bob's rows are exactly as they were.
    bob_after = {t: [r for r in rows if any(isinstance(c, str) and BOB in c for c in r)]
                 for t, rows in tables(db).items()}
    assert bob_after == bob_before

    # The reports read the corrected rollups; rebuilt from the base tables they are the same.
    after = reports(server)
    rollups_now = rollup_rows(db)
    assert reports_from_scratch(server) == after
    assert rollup_rows(db) == rollups_now  # the corrected rollups ARE the rebuilt ones, row for row
    assert after[""]["score"]["n"] == before[""]["score"]["n"] - len(mine["answers"])
    assert after[""]["funnel"]["issued"] == before[""]["funnel"]["issued"] - len(mine["prompts"])
    # The report columns (a range off midnight) agree too.
    status, base = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/report?from=2000-01-01T00:00:01Z")
    assert base["source"] == "columns" and base["score"] == after[""]["score"] and base["funnel"] == after[""]["funnel"]

    # Recorded: who, when, the hash of the id; nothing else.
    digest = hashlib.sha256(ALICE.encode()).hexdigest()
    status, erasures = server.admin("GET", "/api/v1/erasures")
    assert status == 200 and erasures["total"] == 1
    record = erasures["items"][0]
    assert set(record) == {"id", "site_id", "user_sha256", "actor", "created_at"}
    assert record["user_sha256"] == digest and record["actor"].startswith("token:")
    status, log = server.admin("GET", "/api/v1/audit?action=user.erase")
    assert log["total"] == 1 and log["items"][0]["target"] == f"user_sha256:{digest}"
    assert log["items"][0]["actor"]["name"] == "tests"

    # Erasing or exporting her again: 404, nothing changed.
    snapshot = tables(db)
    for method, path in (("DELETE", f"/api/v1/users/{ALICE}"), ("GET", f"/api/v1/users/{ALICE}/export")):
        status, err = server.admin(method, path)
        assert status == 404 and "user_id" in err["error"]["fields"] and ALICE in err["error"]["message"]
    assert tables(db) == snapshot


def test_new_answers_after_an_erasure_are_counted(server: LiveServer) -> None:
    """The erased answer was the newest, already folded: the next answer (which may reuse its id)
    must still reach the rollups."""
    _answer_live(server, BOB, 5, "ok")
    _answer_live(server, ALICE, 2, "no")
    assert reports(server, ("",))[""]["score"]["n"] == 2
    assert server.admin("DELETE", f"/api/v1/users/{ALICE}")[0] == 200
    assert reports(server, ("",))[""]["score"]["n"] == 1
    server.clock.advance(31 * DAY)  # past the recontact wait
    _answer_live(server, BOB, 7, "better")
    after = reports(server)
    assert after[""]["score"]["n"] == 2 and after[""]["score"]["distribution"]["7"] == 1
    assert reports_from_scratch(server) == after


def test_erase_closes_the_open_prompt_on_screen(server: LiveServer) -> None:
    status, body = server.post_events({"user_id": ALICE, "name": "checkout_completed"})
    tab = server.ws(ALICE)
    pid = tab.expect("prompt")["prompt"]["id"]
    assert server.admin("DELETE", f"/api/v1/users/{ALICE}")[0] == 200
    assert tab.expect("close") == {"type": "close", "prompt": pid, "reason": "expired"}
    tab.send({"type": "answer", "prompt": pid, "score": 5, "id": "late"})
    assert tab.expect("error")["code"] == "unknown_prompt"  # nothing of hers is stored again
    assert server.services.storage.one("select count(*) as n from answers")["n"] == 0


def test_bad_input_unknown_user_and_site(server: LiveServer) -> None:
    snapshot = tables(server.db_path)
    status, err = server.admin("DELETE", "/api/v1/users/nobody")
    assert status == 404 and err["error"]["code"] == "not_found" and "nobody" in err["error"]["message"]
    assert server.admin("GET", "/api/v1/users/nobody/export")[0] == 404
    status, err = server.admin("DELETE", "/api/v1/users/nobody?site=99")
    assert status == 400 and "site" in err["error"]["fields"]
    status, err = server.admin("DELETE", "/api/v1/users/nobody?site=x")
    assert status == 400 and "site" in err["error"]["fields"]
    status, err = server.admin("DELETE", f"/api/v1/users/{'x' * 300}")
    assert status == 400 and "user_id" in err["error"]["fields"]
    # A site's secret key cannot erase or export.
    assert server.get("/api/v1/users/nobody/export")[0] == 401
    assert tables(server.db_path) == snapshot


def test_cli_erase_and_export_beside_the_running_server(server: LiveServer, tmp_path) -> None:
    _answer_live(server, ALICE, 3, "meh")
    _answer_live(server, BOB, 6, "good")
    key = server.site["site_key"]
    out = tmp_path / "alice.json"
    run = subprocess.run([CES, "user", "export", "--site", key, ALICE, "--db", server.db_path, "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    doc = json.loads(out.read_text())
    assert doc["format"] == "ces.user-export/1" and doc["user_id"] == ALICE
    assert [a["comment"] for a in doc["answers"]] == ["meh"] and len(doc["events"]) == 1
    run = subprocess.run([CES, "user", "erase", "--site", key, ALICE, "--db", server.db_path],
                         capture_output=True, text=True, timeout=60, env={**_env(), "CES_AUDIT_ACTOR": "dpo"})
    assert run.returncode == 0, run.stderr
    assert "1 answers" in run.stdout and hashlib.sha256(ALICE.encode()).hexdigest() in run.stdout
    assert cells_containing(server.db_path, [ALICE]) == []
    status, log = server.admin("GET", "/api/v1/audit?action=user.erase")
    assert log["items"][0]["actor"] == {"kind": "cli", "id": None, "name": "dpo"}
    after = reports(server)
    assert after[""]["score"]["n"] == 1 and reports_from_scratch(server) == after
    run = subprocess.run([CES, "user", "erase", "--site", key, ALICE, "--db", server.db_path],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "nothing is stored" in run.stderr
    run = subprocess.run([CES, "user", "erase", "--site", "site_nope", ALICE, "--db", server.db_path],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--site" in run.stderr


def _env() -> dict:
    import os
    return dict(os.environ)


def test_rollup_tables_are_all_known() -> None:
    """The erasure corrects every rollup the reports read: a new report_* table must be added to it."""
    source = Path(__file__).parents[2].joinpath("server/ces/storage/migrations.py").read_text()
    import re
    created = set(re.findall(r"create table if not exists (report_\w+)", source)) - {"report_rollup_state"}
    dropped = set(re.findall(r"drop table if exists (report_\w+)", source))  # by a later migration
    assert dropped == {"report_funnel_props_daily", "report_events_props_daily"}  # 0920
    assert created - dropped == set(ROLLUPS)
    erasure_source = Path(__file__).parents[2].joinpath("server/ces/storage/erasure.py").read_text()
    assert all(t in erasure_source for t in ROLLUPS)


def test_every_export_field_is_documented(server: LiveServer) -> None:
    """docs/privacy.md describes the export field by field: each key of a full document is there."""
    import re
    _populate(server)
    status, doc = server.admin("GET", f"/api/v1/users/{ALICE}/export")
    assert status == 200
    docs = Path(__file__).parents[2].joinpath("docs/privacy.md").read_text()
    table = docs[docs.index("## Export one user"):docs.index("## Retention")]
    missing = [k for k in doc if f"| `{k}" not in table]
    for part in ("events", "prompts", "answers", "webhook_deliveries"):
        assert doc[part], part
        rows = " ".join(line for line in table.splitlines() if line.startswith(f"| `{part}[]"))
        missing += [f"{part}[].{k}" for k in doc[part][0] if not re.search(rf"\b{k}\b", rows)]
    assert missing == []

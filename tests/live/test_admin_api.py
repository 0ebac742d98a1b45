"""The admin API, live: CRUD and pause for surveys and triggers, the site's fatigue policy, and
every bad input refused with a 400 naming the field while nothing stored changes."""
from __future__ import annotations

from typing import Any

import pytest

from ces.testing import LiveServer, http


def snapshot(server: LiveServer) -> dict[str, list]:
    storage = server.services.storage
    return {t: storage.all(f"select * from {t} order by 1") for t in ("sites", "surveys", "triggers", "prompts")}


def ok(result: tuple[int, Any], status: int = 200) -> Any:
    assert result[0] == status, result
    return result[1]


# --------------------------------------------------------------------------- auth

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/surveys"), ("POST", "/api/v1/surveys"), ("GET", "/api/v1/triggers/1"),
    ("PATCH", "/api/v1/triggers/1"), ("DELETE", "/api/v1/triggers/1"), ("POST", "/api/v1/triggers/1/pause"),
    ("PUT", "/api/v1/sites/1/fatigue"), ("GET", "/api/v1/users/u/decisions"),
])
def test_admin_token_required(live_server: LiveServer, method: str, path: str) -> None:
    before = snapshot(live_server)
    for token in (None, live_server.site["secret_key"], "ces_admin_forged"):
        status, body = http(method, live_server.url + path, {"name": "x"}, token)
        assert status == 401 and body["error"]["code"] == "unauthorized"
    assert snapshot(live_server) == before


def test_revoked_token_is_refused(live_server: LiveServer) -> None:
    storage = live_server.services.storage
    row, token = storage.create_admin_token("temp", live_server.clock())
    assert http("GET", live_server.url + "/api/v1/surveys", token=token)[0] == 200
    storage.revoke_admin_token(row["id"], live_server.clock())
    assert http("GET", live_server.url + "/api/v1/surveys", token=token)[0] == 401


# --------------------------------------------------------------------------- surveys

def test_survey_crud_and_pause(live_server: LiveServer) -> None:
    body = {"name": "NPS after onboarding", "metric": "nps", "default_locale": "fr",
            "texts": {"fr": {"question": "Recommanderiez-vous ?", "followup": "Pourquoi ?"}},
            "followup_max_score": 6, "appearance": {"color": "#000"}, "quota": {"max_prompts_per_day": 10}}
    created = ok(live_server.admin("POST", "/api/v1/surveys", body), 201)
    sid = created["id"]
    assert created["site_id"] == live_server.site["id"] and created["status"] == "active"
    assert created["quota"] == {"max_answers_per_day": None, "max_prompts_per_day": 10,
                                "max_answers_total": None, "max_prompts_total": None}
    assert created["created_at"].endswith("Z")
    assert ok(live_server.admin("GET", f"/api/v1/surveys/{sid}")) == created
    listed = ok(live_server.admin("GET", "/api/v1/surveys"))
    assert listed["total"] == 2 and [s["id"] for s in listed["items"]] == [live_server.survey_id, sid]
    assert ok(live_server.admin("GET", "/api/v1/surveys?limit=1&offset=1"))["items"][0]["id"] == sid
    patched = ok(live_server.admin("PATCH", f"/api/v1/surveys/{sid}", {"name": "NPS v2", "quota": {}}))
    assert patched["name"] == "NPS v2" and patched["metric"] == "nps" and patched["quota"]["max_prompts_per_day"] is None
    assert ok(live_server.admin("POST", f"/api/v1/surveys/{sid}/pause"))["status"] == "paused"
    assert ok(live_server.admin("GET", "/api/v1/surveys?status=paused"))["total"] == 1
    assert ok(live_server.admin("POST", f"/api/v1/surveys/{sid}/resume"))["status"] == "active"
    put = ok(live_server.admin("PUT", f"/api/v1/surveys/{sid}", {"name": "Only name", "metric": "csat5"}))
    assert put["texts"] == {} and put["metric"] == "csat5" and put["followup_max_score"] is None
    assert live_server.admin("DELETE", f"/api/v1/surveys/{sid}")[0] == 204
    assert live_server.admin("GET", f"/api/v1/surveys/{sid}")[0] == 404


def test_survey_in_use_cannot_be_deleted(live_server: LiveServer) -> None:
    before = snapshot(live_server)
    status, body = live_server.admin("DELETE", f"/api/v1/surveys/{live_server.survey_id}")
    assert status == 409 and body["error"]["code"] == "conflict"
    assert snapshot(live_server) == before


def test_score_endpoint_still_works_beside_the_admin_api(live_server: LiveServer) -> None:
    assert ok(live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/score"))["n"] == 0
    assert live_server.score()["survey_id"] == live_server.survey_id


# --------------------------------------------------------------------------- triggers

def test_trigger_crud_pause_and_effect_on_the_next_event(live_server: LiveServer) -> None:
    csat = ok(live_server.admin("POST", "/api/v1/surveys", {"name": "CSAT", "metric": "csat5"}), 201)["id"]
    body = {"event_name": "plan_upgraded", "survey_id": live_server.survey_id,
            "conditions": {"all": [{"field": "properties.amount", "op": "gte", "value": 50}]},
            "source": "any", "sample_rate": 100, "priority": 5, "delay_seconds": 0, "ttl_seconds": 3600,
            "transaction_key": "order.id",
            "variants": [{"survey_id": live_server.survey_id, "weight": 50}, {"survey_id": csat, "weight": 50}]}
    created = ok(live_server.admin("POST", "/api/v1/triggers", body), 201)
    tid = created["id"]
    assert created["name"] == "Ask after plan_upgraded" and created["variants"][1] == {"survey_id": csat, "weight": 50}
    assert "recontact_wait" not in created
    assert ok(live_server.admin("GET", f"/api/v1/triggers/{tid}")) == created
    assert ok(live_server.admin("GET", "/api/v1/triggers?event_name=plan_upgraded"))["total"] == 1
    assert ok(live_server.admin("GET", f"/api/v1/triggers?survey_id={csat}"))["total"] == 0
    assert ok(live_server.admin("GET", f"/api/v1/triggers?site={live_server.site['id']}"))["total"] == 3

    event = {"user_id": "u", "name": "plan_upgraded", "properties": {"amount": 10}}
    assert live_server.post_events(event, query="?dry_run=true")[1]["results"][0]["reason"] == "conditions_false"
    ok(live_server.admin("PATCH", f"/api/v1/triggers/{tid}", {"conditions": None}))
    assert live_server.post_events(event, query="?dry_run=true")[1]["results"][0]["reason"] == "prompted"
    ok(live_server.admin("POST", f"/api/v1/triggers/{tid}/pause"))
    assert live_server.post_events(event, query="?dry_run=true")[1]["results"][0]["reason"] == "no_trigger"
    ok(live_server.admin("PATCH", f"/api/v1/triggers/{tid}", {"status": "active"}))
    assert live_server.post_events(event, query="?dry_run=true")[1]["results"][0]["reason"] == "prompted"

    put = ok(live_server.admin("PUT", f"/api/v1/triggers/{tid}", {"event_name": "x", "survey_id": csat}))
    assert put["variants"] == [] and put["conditions"] is None and put["source"] == "backend"
    assert live_server.admin("DELETE", f"/api/v1/triggers/{tid}")[0] == 204
    assert live_server.admin("GET", f"/api/v1/triggers/{tid}")[0] == 404
    assert live_server.admin("DELETE", f"/api/v1/triggers/{tid}")[0] == 404


def test_unknown_ids_in_the_url_are_404(live_server: LiveServer) -> None:
    for method, path in [("GET", "/api/v1/surveys/999"), ("PATCH", "/api/v1/surveys/999"),
                         ("POST", "/api/v1/triggers/999/pause"), ("GET", "/api/v1/sites/999/fatigue"),
                         ("PUT", "/api/v1/sites/999/fatigue")]:
        status, body = live_server.admin(method, path, {})
        assert status == 404 and body["error"]["code"] == "not_found", (method, path)


# --------------------------------------------------------------------------- bad input

GOOD_TRIGGER = {"event_name": "checkout_completed", "survey_id": 1}
BAD_TRIGGERS = [
    ({**GOOD_TRIGGER, "conditions": {"all": [{"field": "properties.a", "op": "like", "value": 1}]}}, "conditions"),
    ({**GOOD_TRIGGER, "conditions": {"all": [{"field": "properties.a", "op": "gte", "value": "50"}]}}, "conditions"),
    ({**GOOD_TRIGGER, "conditions": {"all": [{"field": "properties.a", "op": "in", "value": 3}]}}, "conditions"),
    ({**GOOD_TRIGGER, "conditions": {"all": [{"field": "amount", "op": "eq", "value": 3}]}}, "conditions"),
    ({**GOOD_TRIGGER, "conditions": [1]}, "conditions"),
    ({**GOOD_TRIGGER, "sample_rate": 101}, "sample_rate"),
    ({**GOOD_TRIGGER, "sample_rate": -1}, "sample_rate"),
    ({**GOOD_TRIGGER, "sample_rate": "50"}, "sample_rate"),
    ({**GOOD_TRIGGER, "variants": [{"survey_id": 1, "weight": 60}, {"survey_id": 1, "weight": 30}]}, "variants"),
    ({**GOOD_TRIGGER, "variants": [{"survey_id": 1, "weight": -10}, {"survey_id": 1, "weight": 110}]}, "variants"),
    ({**GOOD_TRIGGER, "variants": [{"survey_id": 999, "weight": 100}]}, "variants"),
    ({**GOOD_TRIGGER, "delay_seconds": -5}, "delay_seconds"),
    ({**GOOD_TRIGGER, "ttl_seconds": 0}, "ttl_seconds"),
    ({**GOOD_TRIGGER, "delay_seconds": 1.5}, "delay_seconds"),
    ({**GOOD_TRIGGER, "transaction_key": "order id"}, "transaction_key"),
    ({**GOOD_TRIGGER, "transaction_key": "1st"}, "transaction_key"),
    ({**GOOD_TRIGGER, "transaction_key": ""}, "transaction_key"),
    ({**GOOD_TRIGGER, "source": "widget"}, "source"),
    ({**GOOD_TRIGGER, "status": "deleted"}, "status"),
    ({**GOOD_TRIGGER, "survey_id": 999}, "survey_id"),
    ({**GOOD_TRIGGER, "survey_id": "1"}, "survey_id"),
    ({**GOOD_TRIGGER, "site_id": 999}, "site_id"),
    ({**GOOD_TRIGGER, "priority": True}, "priority"),
    ({**GOOD_TRIGGER, "colour": "red"}, "colour"),
    ({**GOOD_TRIGGER, "id": 5}, "id"),
    ({"survey_id": 1}, "event_name"),
    ({"event_name": "x"}, "survey_id"),
]


@pytest.mark.parametrize("body,field", BAD_TRIGGERS)
def test_bad_trigger_is_refused_naming_the_field(live_server: LiveServer, body: dict, field: str) -> None:
    before = snapshot(live_server)
    for method, path in (("POST", "/api/v1/triggers"), ("PUT", "/api/v1/triggers/1")):
        status, answer = live_server.admin(method, path, body)
        assert status == 400, (method, answer)
        assert answer["error"]["code"] == "validation_error" and field in answer["error"]["fields"], answer
    if field not in ("event_name", "survey_id"):  # PATCH merges: a missing field is not missing
        status, answer = live_server.admin("PATCH", "/api/v1/triggers/1", body)
        assert status == 400 and field in answer["error"]["fields"], answer
    assert snapshot(live_server) == before


def test_trigger_survey_of_another_site_is_unknown(live_server: LiveServer) -> None:
    storage = live_server.services.storage
    other = storage.create_site("Other", live_server.clock())
    foreign = storage.create_survey(other["id"], live_server.clock(), name="theirs", metric="nps")
    before = snapshot(live_server)
    status, answer = live_server.admin("PATCH", "/api/v1/triggers/1", {"survey_id": foreign["id"]})
    assert status == 400 and "survey_id" in answer["error"]["fields"]
    status, answer = live_server.admin("POST", "/api/v1/triggers", {**GOOD_TRIGGER, "site_id": other["id"]})
    assert status == 400 and "survey_id" in answer["error"]["fields"]
    # With two sites, a new survey must say which.
    status, answer = live_server.admin("POST", "/api/v1/surveys", {"name": "x", "metric": "nps"})
    assert status == 400 and "site_id" in answer["error"]["fields"]
    assert snapshot(live_server) == before


BAD_SURVEYS = [
    ({"name": "x", "metric": "ces9"}, "metric"),
    ({"metric": "nps"}, "name"),
    ({"name": "", "metric": "nps"}, "name"),
    ({"name": "x", "metric": "nps", "quota": {"max_prompts_per_day": -1}}, "quota"),
    ({"name": "x", "metric": "nps", "quota": {"per_hour": 5}}, "quota"),
    ({"name": "x", "metric": "nps", "quota": {"max_prompts_total": 2.5}}, "quota"),
    ({"name": "x", "metric": "nps", "texts": {"en": {"low_label": "no question"}}}, "texts"),
    ({"name": "x", "metric": "nps", "texts": ["en"]}, "texts"),
    ({"name": "x", "metric": "ces7", "followup_max_score": 9}, "followup_max_score"),
    ({"name": "x", "metric": "nps", "appearance": [1]}, "appearance"),
    ({"name": "x", "metric": "nps", "status": "archived"}, "status"),
    ({"name": "x", "metric": "nps", "site_id": 999}, "site_id"),
]


@pytest.mark.parametrize("body,field", BAD_SURVEYS)
def test_bad_survey_is_refused_naming_the_field(live_server: LiveServer, body: dict, field: str) -> None:
    before = snapshot(live_server)
    for method, path in (("POST", "/api/v1/surveys"), ("PUT", f"/api/v1/surveys/{live_server.survey_id}")):
        status, answer = live_server.admin(method, path, body)
        assert status == 400 and field in answer["error"]["fields"], (method, answer)
    assert snapshot(live_server) == before


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"'])
def test_body_that_is_not_a_json_object(live_server: LiveServer, raw: bytes) -> None:
    before = snapshot(live_server)
    for path in ("/api/v1/surveys", "/api/v1/triggers"):
        status, answer = http("POST", live_server.url + path, raw=raw, token=live_server.admin_token)
        assert status == 400 and answer["error"]["code"] == "bad_json"
    assert snapshot(live_server) == before


# --------------------------------------------------------------------------- the site's fatigue policy

def test_fatigue_policy_read_and_replace(live_server: LiveServer) -> None:
    path = f"/api/v1/sites/{live_server.site['id']}/fatigue"
    assert ok(live_server.admin("GET", path))["survey_wait"] is None  # the seeded default site
    new = ok(live_server.admin("PUT", path, {"recontact_wait": 86400, "type_wait": 7 * 86400}))
    assert new["recontact_wait"] == 86400 and new["type_wait"] == 7 * 86400 and new["survey_wait"] == 90 * 86400
    assert ok(live_server.admin("GET", path)) == new
    assert ok(live_server.admin("GET", f"/api/v1/sites/{live_server.site['id']}"))["fatigue"] == new
    assert "secret_key" not in ok(live_server.admin("GET", "/api/v1/sites"))["items"][0]


@pytest.mark.parametrize("body,field", [
    ({"recontact_wait": -1}, "recontact_wait"), ({"recontact_wait": "30d"}, "recontact_wait"),
    ({"max_prompts": 3, "max_prompts_window": None}, "max_prompts_window"),
    ({"one_open": "yes"}, "one_open"), ({"per_session": 1}, "per_session"), ({"max_prompts": 1.5}, "max_prompts"),
])
def test_bad_fatigue_policy_is_refused(live_server: LiveServer, body: dict, field: str) -> None:
    before = snapshot(live_server)
    status, answer = live_server.admin("PUT", f"/api/v1/sites/{live_server.site['id']}/fatigue", body)
    assert status == 400 and field in answer["error"]["fields"], answer
    assert snapshot(live_server) == before

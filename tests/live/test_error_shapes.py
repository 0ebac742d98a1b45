"""The rough edges a new user found: one JSON error shape everywhere (Flask's own 404 and 405
too), no Python value in a message, the same 404 for the same object from every endpoint, 415 for
a JSON body sent as something else, read-only fields reported with the other errors."""
from __future__ import annotations

import json
import urllib.request

import pytest

from ces.testing import LiveServer


def raw_request(url: str, method: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, dict, dict]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def assert_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert set(body["error"]) <= {"code", "message", "fields"} and body["error"]["message"]


@pytest.mark.parametrize("method,path,status,code", [
    ("GET", "/api/v1/nothing-here", 404, "not_found"),
    ("GET", "/api/v1/surveys/abc", 404, "not_found"),            # a non-integer id
    ("GET", "/api/v1/surveys/-1", 404, "not_found"),
    ("GET", f"/api/v1/surveys/{2**63}", 404, "not_found"),        # beyond SQLite's integers
    ("DELETE", "/api/v1/surveys", 405, "method_not_allowed"),
    ("PATCH", "/api/v1/events", 405, "method_not_allowed"),
    ("GET", "/no/such/page", 404, "not_found"),
])
def test_flask_refusals_have_the_one_shape(live_server: LiveServer, method: str, path: str, status: int,
                                           code: str) -> None:
    got, headers, body = raw_request(live_server.url + path, method, None,
                                     {"Authorization": f"Bearer {live_server.admin_token}"})
    assert got == status and headers["Content-Type"] == "application/json"
    assert_error_shape(body, code)
    if status == 405:
        assert headers["Allow"]


def test_the_same_object_gets_the_same_404_from_every_endpoint(live_server: LiveServer) -> None:
    missing = 4242
    answers = set()
    for method, path in (("GET", f"/api/v1/surveys/{missing}"), ("PATCH", f"/api/v1/surveys/{missing}"),
                         ("DELETE", f"/api/v1/surveys/{missing}"), ("POST", f"/api/v1/surveys/{missing}/pause"),
                         ("GET", f"/api/v1/surveys/{missing}/score"), ("GET", f"/api/v1/surveys/{missing}/report"),
                         ("GET", f"/api/v1/surveys/{missing}/comments"), ("GET", f"/api/v1/surveys/{missing}/export"),
                         ("GET", f"/api/v1/surveys/{missing}/at-risk")):
        status, body = live_server.admin(method, path, {"name": "x"} if method == "PATCH" else None)
        assert status == 404, (path, body)
        answers.add(json.dumps(body, sort_keys=True))
    assert answers == {json.dumps({"error": {"code": "not_found", "message": f"No survey {missing}.",
                                             "fields": {"survey_id": [f"Unknown survey {missing}."]}}}, sort_keys=True)}
    # The score endpoint answers a site's key the same way for another site's survey.
    status, body = live_server.get(f"/api/v1/surveys/{missing}/score")
    assert status == 404 and body["error"]["message"] == f"No survey {missing}."


def test_no_python_value_leaks_into_a_message(live_server: LiveServer) -> None:
    # Two sites, a trigger naming a survey that does not exist and no site: the message once said
    # "Unknown survey 999 on site None."
    live_server.services.storage.create_site("Other", live_server.clock())
    status, body = live_server.admin("POST", "/api/v1/triggers", {"event_name": "x", "survey_id": 999})
    assert status == 400 and body["error"]["fields"] == {"survey_id": ["Unknown survey 999."]}
    for bad in ({"event_name": "x", "survey_id": None}, {"event_name": None, "survey_id": 1},
                {"name": None, "metric": None}):
        for path in ("/api/v1/triggers", "/api/v1/surveys", "/api/v1/webhooks"):
            text = json.dumps(live_server.admin("POST", path, bad)[1])
            assert "None" not in text, (path, text)


def test_a_json_body_with_another_content_type_is_a_415(live_server: LiveServer) -> None:
    body = json.dumps({"user_id": "u", "name": "x"}).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        status, _, answer = raw_request(f"{live_server.url}/api/v1/events", "POST", body,
                                        {"Authorization": f"Bearer {live_server.site['secret_key']}",
                                         "Content-Type": content_type})
        assert status == 415, content_type
        assert_error_shape(answer, "unsupported_media_type")
        assert "application/json" in answer["error"]["message"]
    # JSON's own types are JSON.
    for content_type in ("application/json", "application/json; charset=utf-8", "application/merge-patch+json"):
        status, _, _ = raw_request(f"{live_server.url}/api/v1/events", "POST", body,
                                   {"Authorization": f"Bearer {live_server.site['secret_key']}",
                                    "Content-Type": content_type})
        assert status == 200, content_type
    assert live_server.services.storage.one("select count(*) as n from events")["n"] == 3


def test_read_only_fields_come_with_the_other_field_errors(live_server: LiveServer) -> None:
    status, body = live_server.admin("POST", "/api/v1/surveys", {"id": 7, "created_at": "x", "name": "",
                                                                 "metric": "stars"})
    assert status == 400 and body["error"]["message"] == "Invalid request body."
    assert set(body["error"]["fields"]) == {"id", "created_at", "name", "metric"}
    assert body["error"]["fields"]["id"] == ["Read-only field."]
    status, body = live_server.admin("PATCH", f"/api/v1/surveys/{live_server.survey_id}",
                                     {"updated_at": "x", "metric": "stars"})
    assert status == 400 and set(body["error"]["fields"]) == {"updated_at", "metric"}
    # A survey's or trigger's site cannot change: said together with the other errors too.
    status, body = live_server.admin("PATCH", f"/api/v1/surveys/{live_server.survey_id}",
                                     {"site_id": 2, "metric": "stars", "id": 1})
    assert status == 400 and set(body["error"]["fields"]) == {"site_id", "metric", "id"}
    trigger = live_server.admin("GET", "/api/v1/triggers")[1]["items"][0]
    status, body = live_server.admin("PUT", f"/api/v1/triggers/{trigger['id']}", {"site_id": 1, "sample_rate": 500})
    assert status == 400 and set(body["error"]["fields"]) == {"site_id", "sample_rate", "event_name", "survey_id"}


def test_events_answer_as_documented(live_server: LiveServer) -> None:
    status, body = live_server.post_events({"user_id": "u", "name": "x"})
    assert status == 200 and set(body) == {"results", "dry_run"} and body["dry_run"] is False
    status, body = live_server.post_events({"user_id": "u", "name": "x"}, query="?dry_run=maybe")
    assert status == 400 and body["error"]["message"] == "Invalid query string."
    status, body = live_server.post_events({"events": [{"name": "x"}]})
    assert status == 400 and body["error"]["message"] == "Invalid request body."

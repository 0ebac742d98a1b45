"""The audit log: every change through the admin API and the CLI says who, what and when, and is
readable (paginated, filtered) through `GET /api/v1/audit`; refused requests leave no entry."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ces.testing import LiveServer

CES = str(Path(sys.executable).with_name("ces"))


def _log(server: LiveServer, query: str = "") -> dict:
    status, body = server.admin("GET", f"/api/v1/audit{query}")
    assert status == 200, body
    return body


def test_admin_api_changes_are_logged_with_their_token(live_server: LiveServer) -> None:
    s = live_server
    site = s.site["id"]
    status, survey = s.admin("POST", "/api/v1/surveys", {"site_id": site, "name": "NPS", "metric": "nps"})
    assert status == 201
    sid = survey["id"]
    assert s.admin("PATCH", f"/api/v1/surveys/{sid}", {"name": "NPS 2"})[0] == 200
    assert s.admin("POST", f"/api/v1/surveys/{sid}/pause")[0] == 200
    assert s.admin("POST", f"/api/v1/surveys/{sid}/resume")[0] == 200
    status, trigger = s.admin("POST", "/api/v1/triggers", {"event_name": "renewed", "survey_id": sid})
    tid = trigger["id"]
    assert s.admin("PUT", f"/api/v1/triggers/{tid}", {"event_name": "renewed", "survey_id": sid,
                                                      "sample_rate": 50})[0] == 200
    assert s.admin("POST", f"/api/v1/triggers/{tid}/pause")[0] == 200
    assert s.admin("POST", f"/api/v1/triggers/{tid}/resume")[0] == 200
    assert s.admin("DELETE", f"/api/v1/triggers/{tid}")[0] == 204
    assert s.admin("DELETE", f"/api/v1/surveys/{sid}")[0] == 204
    assert s.admin("PUT", f"/api/v1/sites/{site}/fatigue", {"recontact_wait": 86400})[0] == 200
    assert s.admin("PUT", f"/api/v1/sites/{site}/retention", {"events_days": 30})[0] == 200
    status, hook = s.admin("POST", "/api/v1/webhooks", {"site_id": site, "url": "http://127.0.0.1:9/h",
                                                        "events": ["answer.created"]})
    assert s.admin("DELETE", f"/api/v1/webhooks/{hook['id']}")[0] == 200
    # Refused requests change nothing and log nothing.
    assert s.admin("PATCH", f"/api/v1/surveys/{s.survey_id}", {"metric": "bogus"})[0] == 400
    assert s.admin("PUT", f"/api/v1/sites/{site}/retention", {"events_days": -1})[0] == 400
    assert s.admin("DELETE", "/api/v1/triggers/999")[0] == 404

    body = _log(s)
    actions = [e["action"] for e in reversed(body["items"])]
    assert actions == ["survey.create", "survey.update", "survey.pause", "survey.resume", "trigger.create",
                       "trigger.update", "trigger.pause", "trigger.resume", "trigger.delete", "survey.delete",
                       "site.fatigue.update", "site.retention.update", "webhook.create", "webhook.delete"]
    assert body["total"] == len(actions)
    token = s.services.storage.one("select id from admin_tokens where name = 'tests'")
    newest = body["items"][0]
    assert newest["actor"] == {"kind": "token", "id": str(token["id"]), "name": "tests"}
    assert newest["target"] == f"webhook:{hook['id']}"
    at = datetime.fromisoformat(newest["at"].replace("Z", "+00:00"))
    assert abs((at - datetime.now(timezone.utc)).total_seconds()) < 60
    update = next(e for e in body["items"] if e["action"] == "survey.update")
    assert update["target"] == f"survey:{sid}" and update["detail"] == {"fields": ["name"]}
    assert next(e for e in body["items"] if e["action"] == "site.retention.update")["detail"]["events_days"] == 30

    # Pages, filters.
    page = _log(s, "?limit=5&offset=5")
    assert [e["id"] for e in page["items"]] == [e["id"] for e in body["items"][5:10]] and page["total"] == 14
    assert [e["action"] for e in _log(s, "?action=trigger.")["items"]][-1] == "trigger.create"
    assert _log(s, f"?target=survey:{sid}")["total"] == 5
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert _log(s, f"?since={future.replace('+', '%2B')}")["total"] == 0


@pytest.mark.parametrize("query, field", [("?limit=0", "limit"), ("?offset=-1", "offset"),
                                          ("?actor_kind=robot", "actor_kind"), ("?since=yesterday", "since")])
def test_bad_audit_queries_name_the_field(live_server: LiveServer, query: str, field: str) -> None:
    status, body = live_server.admin("GET", f"/api/v1/audit{query}")
    assert status == 400 and field in body["error"]["fields"]


def test_audit_needs_an_admin_token_and_logs_the_cli(live_server: LiveServer) -> None:
    s = live_server
    assert s.get("/api/v1/audit")[0] == 401  # a site's secret key is not enough
    env_run = dict(capture_output=True, text=True, timeout=60)
    import os
    env = {**os.environ, "CES_AUDIT_ACTOR": "ops-alice"}
    assert subprocess.run([CES, "site", "create", "Shop 2", "--db", s.db_path], env=env, **env_run).returncode == 0
    created = subprocess.run([CES, "token", "create", "ci", "--db", s.db_path], env=env, **env_run)
    token_id = created.stderr.split()[1]
    assert subprocess.run([CES, "token", "revoke", token_id, "--db", s.db_path], env=env, **env_run).returncode == 0
    body = _log(s, "?actor_kind=cli")
    assert [(e["action"], e["actor"]["name"]) for e in reversed(body["items"])] == [
        ("site.create", "ops-alice"), ("token.create", "ops-alice"), ("token.revoke", "ops-alice")]
    assert body["items"][0]["target"] == f"token:{token_id}"
    printed = subprocess.run([CES, "audit", "--db", s.db_path, "--action", "token."], **env_run)
    assert printed.returncode == 0 and "token.revoke" in printed.stdout and "site.create" not in printed.stdout

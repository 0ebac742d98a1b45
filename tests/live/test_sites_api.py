"""Sites through the API and the command line: create, list, read, change, with every bad input
refused by field and nothing stored changed; identity verification switched on applies to the next
socket message."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ces.core.identity import user_hash
from ces.testing import LiveServer, http

CES = str(Path(sys.executable).with_name("ces"))


def ok(result: tuple[int, Any], status: int = 200) -> Any:
    assert result[0] == status, result
    return result[1]


def sites_rows(server: LiveServer) -> list[dict]:
    return server.services.storage.all("select * from sites order by id")


def test_create_read_list_update(live_server: LiveServer) -> None:
    s = live_server
    created = ok(s.admin("POST", "/api/v1/sites", {"name": "Shop", "identity_verification": True,
                                                   "allowed_origins": ["https://Shop.Example:443/", "https://*.shop.example"],
                                                   "time_zone": "Europe/Paris"}), 201)
    assert created["secret_key"].startswith("sk_") and created["site_key"].startswith("site_")
    assert created["allowed_origins"] == ["https://shop.example", "https://*.shop.example"]  # normalized
    assert created["time_zone"] == "Europe/Paris" and created["identity_verification"] is True
    read = ok(s.admin("GET", f"/api/v1/sites/{created['id']}"))
    assert "secret_key" not in read and read == {k: v for k, v in created.items() if k != "secret_key"}
    listed = ok(s.admin("GET", "/api/v1/sites"))
    assert listed["total"] == 2 and [x["id"] for x in listed["items"]] == [s.site["id"], created["id"]]
    assert ok(s.admin("GET", "/api/v1/sites?limit=1&offset=1"))["items"][0]["id"] == created["id"]
    changed = ok(s.admin("PATCH", f"/api/v1/sites/{created['id']}", {"time_zone": "America/New_York",
                                                                      "identity_verification": False}))
    assert changed["time_zone"] == "America/New_York" and changed["identity_verification"] is False
    assert changed["name"] == "Shop" and changed["allowed_origins"] == created["allowed_origins"]
    # Stored: the time zone is a column, read back by everything (reports will use it).
    row = s.services.storage.one("select time_zone from sites where id = ?", [created["id"]])
    assert row["time_zone"] == "America/New_York"
    # A new site through the API receives events with its own key.
    status, body = http("POST", f"{s.url}/api/v1/events", {"user_id": "u", "name": "x"}, created["secret_key"])
    assert status == 200 and body["results"][0]["reason"] == "no_trigger"


@pytest.mark.parametrize("body,fields", [
    ({"name": ""}, {"name"}),
    ({"name": "x", "time_zone": "Europe/Atlantis"}, {"time_zone"}),
    ({"name": "x", "time_zone": 3}, {"time_zone"}),
    ({"name": "x", "allowed_origins": ["shop.example/path"]}, {"allowed_origins"}),
    ({"name": "x", "allowed_origins": "*"}, {"allowed_origins"}),
    ({"name": "x", "identity_verification": "yes"}, {"identity_verification"}),
    ({"name": "x", "colour": "red"}, {"colour"}),
    # A read-only field is reported together with the other fields' errors.
    ({"id": 9, "site_key": "mine", "name": "", "time_zone": "Nowhere"}, {"id", "site_key", "name", "time_zone"}),
])
def test_bad_site_bodies_are_refused_by_field(live_server: LiveServer, body: dict, fields: set) -> None:
    before = sites_rows(live_server)
    for method, path in (("POST", "/api/v1/sites"), ("PATCH", f"/api/v1/sites/{live_server.site['id']}")):
        status, answer = live_server.admin(method, path, body)
        assert status == 400 and answer["error"]["code"] == "validation_error", answer
        assert set(answer["error"]["fields"]) == fields, answer
        assert "None" not in answer["error"]["message"]
    assert sites_rows(live_server) == before


def test_auth_and_unknown_site(live_server: LiveServer) -> None:
    for token in (None, live_server.site["secret_key"]):
        assert http("GET", f"{live_server.url}/api/v1/sites", token=token)[0] == 401
        assert http("POST", f"{live_server.url}/api/v1/sites", {"name": "x"}, token=token)[0] == 401
    status, answer = live_server.admin("PATCH", "/api/v1/sites/999", {"name": "x"})
    assert status == 404 and answer["error"]["message"] == "No site 999."
    assert live_server.admin("GET", "/api/v1/sites/abc")[0] == 404


def test_turning_identity_verification_on_applies_to_the_next_socket_message(live_server: LiveServer) -> None:
    s = live_server
    unverified = s.ws("someone")                         # the default site lets any id in
    signed = s.ws("alice", user_hash=user_hash(s.site["secret_key"], "alice"))
    anonymous = s.ws("anon-123")
    ok(s.admin("PATCH", f"/api/v1/sites/{s.site['id']}", {"identity_verification": True}))
    unverified.send({"type": "event", "name": "page_viewed", "id": "e1"})
    refusal = unverified.expect("error")
    assert refusal["code"] == "bad_user_hash" and refusal["ref"] == "e1"
    for client in (signed, anonymous):
        client.send({"type": "event", "name": "page_viewed", "id": "e2"})
        assert client.expect("ack")["ref"] == "e2"
    fresh = s.ws()
    fresh.send({"type": "hello", "site": s.site["site_key"], "user": "mallory"})
    assert fresh.expect("error")["code"] == "bad_user_hash"


def test_cli_site_list_says_plainly_when_identity_verification_is_off(live_server: LiveServer) -> None:
    db = live_server.db_path
    out = subprocess.run([CES, "site", "list", "--db", db], capture_output=True, text=True, check=True).stdout
    assert "identity verification: OFF" in out and "any page can claim any user id" in out
    assert f"ces site update {live_server.site['site_key']} --identity-verification" in out
    key = live_server.site["site_key"]
    done = subprocess.run([CES, "site", "update", key, "--db", db, "--identity-verification", "--time-zone",
                           "Asia/Tokyo", "--origin", "https://shop.example", "--add-origin", "https://*.shop.example"],
                          capture_output=True, text=True, check=True).stdout
    assert "identity verification: on" in done
    site = ok(live_server.admin("GET", f"/api/v1/sites/{live_server.site['id']}"))
    assert site["identity_verification"] is True and site["time_zone"] == "Asia/Tokyo"
    assert site["allowed_origins"] == ["https://shop.example", "https://*.shop.example"]
    subprocess.run([CES, "site", "update", key, "--db", db, "--remove-origin", "https://shop.example"], check=True,
                   capture_output=True)
    assert ok(live_server.admin("GET", f"/api/v1/sites/{live_server.site['id']}"))["allowed_origins"] == \
        ["https://*.shop.example"]
    subprocess.run([CES, "site", "update", key, "--db", db, "--no-origins"], check=True, capture_output=True)
    assert ok(live_server.admin("GET", f"/api/v1/sites/{live_server.site['id']}"))["allowed_origins"] == []
    listed = subprocess.run([CES, "site", "list", "--db", db], capture_output=True, text=True, check=True).stdout
    assert "identity verification: on" in listed and "Asia/Tokyo" in listed
    # Refusals name the field, with the API's words, and change nothing.
    before = sites_rows(live_server)
    bad = subprocess.run([CES, "site", "update", key, "--db", db, "--time-zone", "Mars/Base"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "time_zone: Unknown time zone" in bad.stderr
    bad = subprocess.run([CES, "site", "update", "site_nope", "--db", db, "--name", "x"], capture_output=True, text=True)
    assert bad.returncode != 0 and "no site with key site_nope" in bad.stderr
    assert sites_rows(live_server) == before


def test_cli_token_create_with_scope(live_server: LiveServer) -> None:
    db, key = live_server.db_path, live_server.site["site_key"]
    made = subprocess.run([CES, "token", "create", "dash", "--db", db, "--site", key, "--read-only"],
                          capture_output=True, text=True, check=True)
    token = made.stdout.strip()
    assert f"site {key} only, read-only" in made.stderr
    assert http("GET", f"{live_server.url}/api/v1/surveys", token=token)[0] == 200
    status, answer = http("POST", f"{live_server.url}/api/v1/surveys/{live_server.survey_id}/pause", token=token)
    assert status == 403 and "read-only" in answer["error"]["message"]
    listed = subprocess.run([CES, "token", "list", "--db", db], capture_output=True, text=True, check=True).stdout
    assert f"dash\tactive\tsite {key}\tread-only" in listed
    bad = subprocess.run([CES, "token", "create", "x", "--db", db, "--site", "site_nope"], capture_output=True, text=True)
    assert bad.returncode != 0 and "no site with key site_nope" in bad.stderr

"""`ces config export` / `ces config import`, run as a user runs them, on real SQLite files."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ces.storage import Storage
from ces.testing import LiveServer

from contract_helpers import answer_through_widget

CES = str(Path(sys.executable).with_name("ces"))
TABLES = ("sites", "surveys", "triggers", "webhooks", "answers", "prompts")


def ces(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run([CES, *args], capture_output=True, text=True)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def snapshot(db: Path | str) -> dict[str, list]:
    storage = Storage(str(db))
    try:
        return {t: storage.all(f"select * from {t} order by 1") for t in TABLES}
    finally:
        storage.close()


@pytest.fixture
def configured(live_server: LiveServer) -> LiveServer:
    """A site configured through the API the way a team would: two surveys, conditions, variants,
    a paused trigger, a quota, a fatigue policy, a webhook, origins, a time zone, and an answer."""
    s = live_server
    site_id = s.site["id"]
    assert s.admin("PATCH", f"/api/v1/sites/{site_id}", {"time_zone": "Europe/Bucharest", "allowed_origins":
                   ["https://shop.example", "https://*.shop.example"]})[0] == 200
    status, nps = s.admin("POST", "/api/v1/surveys", {
        "slug": "nps-onboarding", "name": "NPS after onboarding", "metric": "nps", "default_locale": "ro",
        "texts": {"ro": {"question": "Ne-ați recomanda?", "followup": "De ce?"}}, "quota": {"max_prompts_per_day": 50}})
    assert status == 201, nps
    status, trig = s.admin("POST", "/api/v1/triggers", {
        "slug": "onboarding-done", "event_name": "onboarding_done", "survey_id": nps["id"], "sample_rate": 20.5,
        "conditions": {"all": [{"field": "properties.plan", "op": "in", "value": ["pro", "team"]}]},
        "variants": [{"survey_id": nps["id"], "weight": 50, "label": "nps"},
                     {"survey_id": s.survey_id, "weight": 50}], "transaction_key": "account_id", "priority": 5})
    assert status == 201, trig
    assert s.admin("POST", f"/api/v1/triggers/{trig['id']}/pause")[0] == 200
    assert s.admin("PUT", f"/api/v1/sites/{site_id}/fatigue", {"recontact_wait": 86400, "max_prompts": 2,
                                                                "max_prompts_window": 604800})[0] == 200
    assert s.admin("POST", "/api/v1/webhooks", {"site_id": site_id, "url": "https://hooks.example/ces",
                                                "events": ["answer.high_effort"], "description": "to the CRM"})[0] == 201
    answer_through_widget(s, s.site, "u1", "checkout_completed", 6)
    return s


def test_export_import_into_an_empty_database_export_again_is_byte_identical(configured: LiveServer, tmp_path) -> None:
    first = ces("config", "export", "--db", configured.db_path).stdout
    doc = yaml.safe_load(first)
    site = doc["sites"][0]
    assert [s["slug"] for s in site["surveys"]] == [f"survey-{configured.survey_id}", "nps-onboarding"]
    trigger = next(t for t in site["triggers"] if t["slug"] == "onboarding-done")
    assert trigger["survey"] == "nps-onboarding" and trigger["status"] == "paused"
    assert [v["survey"] for v in trigger["variants"]] == ["nps-onboarding", f"survey-{configured.survey_id}"]
    assert "secret" not in first and configured.site["secret_key"] not in first  # never a secret in the file
    file = tmp_path / "ces.yaml"
    file.write_text(first)
    empty = tmp_path / "empty.db"
    imported = ces("config", "import", str(file), "--db", str(empty))
    assert "create site" in imported.stdout and "secret key sk_" in imported.stderr
    again = ces("config", "export", "--db", str(empty)).stdout
    assert again == first
    # Idempotent: a second import plans nothing and writes nothing.
    before = snapshot(empty)
    second = ces("config", "import", str(file), "--db", str(empty))
    assert "Nothing to change" in second.stdout
    assert snapshot(empty) == before
    # JSON works the same way.
    as_json = ces("config", "export", "--db", str(empty), "--format", "json", "--site", site["key"]).stdout
    (tmp_path / "ces.json").write_text(as_json)
    assert "Nothing to change" in ces("config", "import", str(tmp_path / "ces.json"), "--db", str(empty)).stdout


def test_one_invalid_trigger_refuses_the_whole_file(configured: LiveServer, tmp_path) -> None:
    doc = yaml.safe_load(ces("config", "export", "--db", configured.db_path).stdout)
    site = doc["sites"][0]
    site["name"] = "Renamed"                                   # a valid change...
    site["surveys"][0]["name"] = "Renamed survey"              # ...and another
    site["triggers"].append({"slug": "new-one", "event_name": "x", "survey": site["surveys"][0]["slug"]})
    site["triggers"][1]["conditions"] = {"all": [{"field": "properties.plan", "op": "resembles", "value": 1}]}
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(doc, sort_keys=False))
    before = snapshot(configured.db_path)
    for args in ((), ("--dry-run",)):
        out = ces("config", "import", str(file), "--db", configured.db_path, *args, check=False)
        assert out.returncode == 1
        assert "nothing was changed" in out.stderr and "sites.0.triggers.1.conditions" in out.stderr
    assert snapshot(configured.db_path) == before
    # Every problem is named at once, not only the first.
    site["triggers"][0]["survey"] = "no-such-survey"
    site["surveys"][1]["metric"] = "stars"
    file.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = ces("config", "import", str(file), "--db", configured.db_path, check=False)
    assert out.returncode == 1
    for where in ("sites.0.triggers.0.survey", "sites.0.triggers.1.conditions", "sites.0.surveys.1.metric"):
        assert where in out.stderr, out.stderr
    assert snapshot(configured.db_path) == before


def test_import_prints_what_it_creates_changes_and_pauses_and_never_deletes(configured: LiveServer, tmp_path) -> None:
    db = configured.db_path
    doc = yaml.safe_load(ces("config", "export", "--db", str(db)).stdout)
    site = doc["sites"][0]
    key = site["key"]
    site["identity_verification"] = True
    site["surveys"][1]["texts"]["ro"]["question"] = "Ne-ați recomanda prietenilor?"
    dropped = site["triggers"].pop(0)                         # an active trigger the file no longer has
    site["surveys"].append({"slug": "csat-support", "name": "CSAT", "metric": "csat5"})
    site["webhooks"] = []                                     # webhooks are never deleted by a file
    file = tmp_path / "next.yaml"
    file.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    before = snapshot(db)
    dry = ces("config", "import", str(file), "--db", str(db), "--dry-run").stdout
    assert f"would change site {key}: identity_verification" in dry
    assert f"would change survey nps-onboarding of site {key}: texts" in dry
    assert f"would create survey csat-support of site {key}" in dry
    assert f"would pause trigger {dropped['slug']} of site {key}" in dry
    assert f"would keep webhook https://hooks.example/ces of site {key}" in dry
    assert "Dry run: nothing was changed." in dry
    assert snapshot(db) == before
    applied = ces("config", "import", str(file), "--db", str(db)).stdout
    assert applied.replace("would ", "").replace("Dry run: nothing was changed.\n", "") == applied
    after = snapshot(db)
    assert after["answers"] == before["answers"] and after["prompts"] == before["prompts"]
    assert len(after["triggers"]) == len(before["triggers"])          # paused, not deleted
    assert next(t for t in after["triggers"] if t["slug"] == dropped["slug"])["status"] == "paused"
    assert after["webhooks"] == before["webhooks"]
    assert configured.admin("GET", f"/api/v1/sites/{configured.site['id']}")[1]["identity_verification"] is True
    assert "Nothing to change" in ces("config", "import", str(file), "--db", str(db)).stdout


def test_bad_files_are_refused_with_a_readable_reason(tmp_path) -> None:
    db = tmp_path / "x.db"
    for text, words in (("sites: [", "not valid YAML"), ("version: 2\nsites: []", "version: must be 1"),
                        ("version: 1\nsites:\n- key: k\n  name: n\n  time_zone: Mars/Olympus", "Unknown time zone"),
                        ("version: 1\nsites:\n- key: k\n  name: n\n  surveys:\n  - name: s\n    metric: nps",
                         "sites.0.surveys.0.slug: required")):
        file = tmp_path / "f.yaml"
        file.write_text(text)
        out = ces("config", "import", str(file), "--db", str(db), check=False)
        assert out.returncode == 1 and words in out.stderr, out.stderr
    assert ces("config", "export", "--db", str(db)).stdout == "version: 1\nsites: []\n"


def test_a_triggers_occurrences_and_cancel_events_travel_with_the_file(live_server: LiveServer, tmp_path) -> None:
    """Every trigger field of docs/api.md is in the file: a delayed prompt called off by a cancel
    event, and an onboarding moment ("the 3rd time"), arrive in the other environment as they were."""
    s = live_server
    status, trig = s.admin("POST", "/api/v1/triggers", {
        "slug": "after-ticket", "event_name": "ticket_closed", "survey_id": s.survey_id, "delay_seconds": 60,
        "transaction_key": "ticket_id", "cancel_events": ["ticket_reopened"], "cancel_same_transaction": True,
        "occurrences": [{"nth": 3}]})
    assert status == 201, trig
    first = ces("config", "export", "--db", s.db_path).stdout
    exported = next(t for t in yaml.safe_load(first)["sites"][0]["triggers"] if t["slug"] == "after-ticket")
    assert exported["occurrences"] == [{"nth": 3}]
    assert exported["cancel_events"] == ["ticket_reopened"] and exported["cancel_same_transaction"] is True
    file = tmp_path / "ces.yaml"
    file.write_text(first)
    empty = tmp_path / "empty.db"
    ces("config", "import", str(file), "--db", str(empty))
    row = next(t for t in snapshot(empty)["triggers"] if t["slug"] == "after-ticket")
    assert row["occurrences"] == [{"nth": 3}] and row["cancel_events"] == ["ticket_reopened"]
    assert row["cancel_same_transaction"] == 1
    assert ces("config", "export", "--db", str(empty)).stdout == first
    assert "Nothing to change" in ces("config", "import", str(file), "--db", str(empty)).stdout
    # A change of one of them is planned and applied like any other field.
    doc = yaml.safe_load(first)
    changed = next(t for t in doc["sites"][0]["triggers"] if t["slug"] == "after-ticket")
    changed["cancel_events"] = ["ticket_reopened", "ticket_escalated"]
    file.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    out = ces("config", "import", str(file), "--db", str(empty)).stdout
    assert "change trigger after-ticket" in out and "cancel_events" in out, out
    row = next(t for t in snapshot(empty)["triggers"] if t["slug"] == "after-ticket")
    assert row["cancel_events"] == ["ticket_reopened", "ticket_escalated"]


def site_settings(db: Path) -> dict:
    storage = Storage(str(db))
    try:
        return storage.first_site()["settings"]
    finally:
        storage.close()


def test_retention_and_site_limits_travel_with_the_file_and_an_older_file_keeps_them(
        live_server: LiveServer, tmp_path) -> None:
    s = live_server
    site_id = s.site["id"]
    assert s.admin("PUT", f"/api/v1/sites/{site_id}/retention",
                   {"events_days": 30, "answers": "anonymise", "answers_days": 400})[0] == 200
    assert s.admin("PUT", f"/api/v1/sites/{site_id}/limits", {"api_events_per_key": "50/second"})[0] == 200
    first = ces("config", "export", "--db", s.db_path).stdout
    site = yaml.safe_load(first)["sites"][0]
    assert site["retention"] == {"events_days": 30, "answers": "anonymise", "answers_days": 400}
    assert site["limits"] == {"api_events_per_key": "50/second"}
    file = tmp_path / "ces.yaml"
    file.write_text(first)
    empty = tmp_path / "empty.db"
    ces("config", "import", str(file), "--db", str(empty))
    assert site_settings(empty)["retention"]["answers"] == "anonymise"
    assert site_settings(empty)["limits"] == {"api_events_per_key": "50/second"}
    assert ces("config", "export", "--db", str(empty)).stdout == first
    # A change is planned like any other site field.
    doc = yaml.safe_load(first)
    doc["sites"][0]["retention"]["events_days"] = 14
    doc["sites"][0]["limits"] = {}
    file.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = ces("config", "import", str(file), "--db", str(empty)).stdout
    assert "retention" in out and "limits" in out, out
    assert site_settings(empty)["retention"]["events_days"] == 14 and site_settings(empty)["limits"] == {}
    # A file written before these sections existed changes neither.
    for section in ("retention", "limits"):
        del doc["sites"][0][section]
    file.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert "Nothing to change" in ces("config", "import", str(file), "--db", str(empty)).stdout
    assert site_settings(empty)["retention"]["events_days"] == 14


def test_a_bad_retention_or_limit_refuses_the_file_and_a_dry_run_creates_no_database(
        configured: LiveServer, tmp_path) -> None:
    doc = yaml.safe_load(ces("config", "export", "--db", configured.db_path).stdout)
    doc["sites"][0]["retention"] = {"events_days": 0, "answers": "shred"}
    doc["sites"][0]["limits"] = {"api_events_per_key": "lots", "no_such_limit": "1/second"}
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(doc, sort_keys=False))
    before = snapshot(configured.db_path)
    out = ces("config", "import", str(file), "--db", configured.db_path, check=False)
    assert out.returncode == 1
    for where in ("sites.0.retention.events_days", "sites.0.retention.answers", "sites.0.limits.api_events_per_key",
                  "sites.0.limits.no_such_limit"):
        assert where in out.stderr, out.stderr
    assert snapshot(configured.db_path) == before
    # A dry run against a database that does not exist plans a creation and leaves no file behind.
    good = tmp_path / "good.yaml"
    good.write_text(ces("config", "export", "--db", configured.db_path).stdout)
    missing = tmp_path / "missing.db"
    dry = ces("config", "import", str(good), "--db", str(missing), "--dry-run").stdout
    assert "would create site" in dry and "Dry run: nothing was changed." in dry
    assert not missing.exists() and not list(tmp_path.glob("missing.db*"))

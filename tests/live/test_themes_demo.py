"""The demo's seeded answers (demo_seed.py) make the themes show something real: comments in five
languages in the starter themes, themes found among the rest, and a delivery rise that
theme.grown reports."""
from __future__ import annotations

from ces.demo_seed import seed_demo_answers
from ces.testing import LiveServer


def test_demo_answers_fall_into_themes_in_several_languages(live_server: LiveServer) -> None:
    storage = live_server.services.storage
    n = seed_demo_answers(storage, live_server.site, live_server.clock())
    assert n > 300
    assert seed_demo_answers(storage, live_server.site, live_server.clock()) == 0  # once only
    locales = {r["locale"] for r in storage.all("select distinct locale from prompts")}
    assert {"en", "fr", "ro", "de", "es"} <= locales
    status, report = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/themes")
    assert status == 200, report
    assert len(report["themes"]) == 8 and report["discovered"]
    assert report["themed"] >= 0.85 * report["comments"]
    assert report["themes"][0]["key"] == "delivery"  # the most high-effort answers
    status, customers = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/customers?theme=delivery")
    assert status == 200 and customers["total"] > 20
    assert all(c["email"] and c["name"] for c in customers["customers"])
    status, hook = live_server.admin("POST", "/api/v1/webhooks", {"site_id": live_server.site["id"],
                                                                  "url": "http://127.0.0.1:9/hook",
                                                                  "events": ["theme.grown"]})
    assert status == 201, hook
    status, body = live_server.admin("POST", f"/api/v1/sites/{live_server.site['id']}/themes/check-growth")
    assert status == 200 and [a["theme"]["key"] for a in body["alerts"]] == ["delivery"], body

"""The demo's history (demo_seed.py) makes the themes show something real: comments in five
languages in the starter themes, themes found among the rest, customers with emails and names."""
from __future__ import annotations

from ces.demo_seed import seed_demo_history
from ces.testing import LiveServer


def test_demo_answers_fall_into_themes_in_several_languages(live_server: LiveServer) -> None:
    storage = live_server.services.storage
    answers = seed_demo_history(storage, live_server.site, live_server.clock())
    assert answers > 150
    locales = {r["locale"] for r in storage.all("select distinct p.locale from answers a join prompts p "
                                                 "on p.id = a.prompt_id where a.comment is not null")}
    assert {"en", "fr", "ro", "de", "es"} <= locales
    status, report = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/themes")
    assert status == 200, report
    keys = [s["key"] for s in report["themes"]]
    assert {"delivery", "payment", "transfers-repetition", "waiting"} <= set(keys), keys
    # Every high-effort comment is about something the themes know (the rest are "all good"s).
    high = storage.one("select count(*) as n from answers where survey_id = ? and comment is not null and score <= 3",
                       [live_server.survey_id])["n"]
    assert high > 10 and report["themed"] >= 0.9 * high
    assert report["discovered"] or any(s["kind"] == "starter" for s in report["themes"])
    top = report["themes"][0]["key"]  # the most high-effort answers
    status, customers = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/customers?theme={top}")
    assert status == 200 and customers["total"] > 3
    assert all(c["email"] and c["name"] for c in customers["customers"])

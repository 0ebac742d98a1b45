"""GET /api/v1/sites/<id>/fatigue/diagnostic, live: prompts made through real events, counted."""
from __future__ import annotations

from typing import Any

from ces.testing import LiveServer, http


def ok(result: tuple[int, Any], status: int = 200) -> Any:
    assert result[0] == status, result
    return result[1]


def plant_collision(server: LiveServer) -> tuple[int, int]:
    """Two surveys; users u1 and u2 get both within an hour, u3 only the first."""
    site = server.site["id"]
    ok(server.admin("PUT", f"/api/v1/sites/{site}/fatigue", {"recontact_wait": None, "survey_wait": None,
                                                            "one_open": False, "max_prompts": None}))
    first = server.survey_id
    second = ok(server.admin("POST", "/api/v1/surveys", {"name": "NPS <b>", "metric": "nps"}), 201)["id"]
    ok(server.admin("POST", "/api/v1/triggers", {"event_name": "plan_upgraded", "survey_id": second}), 201)
    for user in ("u1", "u2", "u3"):
        assert ok(server.post_events({"name": "checkout_completed", "user_id": user}))["results"][0]["prompt_id"]
    server.clock.advance(3600)
    for user in ("u1", "u2"):
        assert ok(server.post_events({"name": "plan_upgraded", "user_id": user}))["results"][0]["prompt_id"]
    return first, second


def test_diagnostic_counts_the_planted_collision(live_server: LiveServer) -> None:
    first, second = plant_collision(live_server)
    body = ok(live_server.admin("GET", f"/api/v1/sites/{live_server.site['id']}/fatigue/diagnostic"))
    assert body["users_prompted"] == 3 and body["users_colliding"] == 2 and body["colliding_share"] == 66.7
    first_name = live_server.services.storage.get_survey(first)["name"]
    assert body["pairs"] == [{"survey_a": first, "survey_a_name": first_name, "survey_b": second,
                              "survey_b_name": "NPS <b>", "users": 2}]
    assert body["window_hours"] == 24 and body["time_zone"] == "UTC"
    # A window shorter than the hour between the two prompts: no collision.
    short = ok(live_server.admin("GET", f"/api/v1/sites/{live_server.site['id']}/fatigue/diagnostic?window_hours=1"))
    assert short["users_colliding"] == 0 and short["pairs"] == []


def test_bad_query_is_a_400_naming_the_field(live_server: LiveServer) -> None:
    base = f"/api/v1/sites/{live_server.site['id']}/fatigue/diagnostic"
    for query, field in (("?window_hours=0", "window_hours"), ("?from=2026-13-01", "from"),
                         ("?from=2026-02-01&to=2026-01-01", "from"), ("?from=2020-01-01&to=2026-01-01", "from")):
        status, body = live_server.admin("GET", base + query)
        assert status == 400 and field in body["error"]["fields"], (query, body)


def test_a_token_of_another_site_gets_a_404(live_server: LiveServer) -> None:
    storage = live_server.services.storage
    other = storage.create_site("Other", live_server.clock())
    from ces.storage.tokens import TokenStore
    token = TokenStore(storage).create("other only", live_server.clock(), site_id=other["id"])[1]
    status, _ = http("GET", f"{live_server.url}/api/v1/sites/{live_server.site['id']}/fatigue/diagnostic",
                     token=token)
    assert status == 404
    assert http("GET", f"{live_server.url}/api/v1/sites/{other['id']}/fatigue/diagnostic", token=token)[0] == 200

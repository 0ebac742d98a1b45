"""The fatigue policy: every layer, every status, precedence, boundaries, JSON."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ces.core.fatigue import (
    DAY, PRECEDENCE, FatiguePolicy, PastPrompt, Skip, SurveyCounts, SurveyQuota, UserHistory,
    check, check_all, check_quota, contact_time, metric_type, policy_from_dict, quota_from_dict,
    utc_day_start, validate_policy, validate_quota,
)

NOW = 1_750_000_000.0   # 2025-06-15T15:06:40Z
HOUR = 3600
# Only the layer under test switched on.
NOTHING = FatiguePolicy(recontact_wait=None, type_wait=None, survey_wait=None,
                        max_prompts=None, max_prompts_window=None, one_open=False)


def only(**kw) -> FatiguePolicy:
    return FatiguePolicy(**{**NOTHING.as_dict(), **kw})


def shown(survey=1, metric="ces7", ago=DAY, status="answered", prompt_id=None) -> PastPrompt:
    t = NOW - ago
    return PastPrompt(survey, metric, status, created_at=t - 60, shown_at=t, closed_at=t + 30,
                      prompt_id=prompt_id)


def hist(*prompts: PastPrompt) -> UserHistory:
    return UserHistory(tuple(prompts))


def reason(policy, history, survey=1, metric="ces7", now=NOW) -> str | None:
    skip = check(policy, history, survey, metric, now)
    return skip.reason if skip else None


# --------------------------------------------------------------------------- defaults

def test_documented_defaults():
    p = FatiguePolicy()
    assert p.recontact_wait == 30 * DAY
    assert p.type_wait is None
    assert p.survey_wait == 90 * DAY
    assert (p.max_prompts, p.max_prompts_window) == (3, 90 * DAY)
    assert p.one_open is True
    assert (p.count_answered, p.count_dismissed, p.count_expired) == (True, True, False)
    assert SurveyQuota().as_dict() == dict.fromkeys(
        ["max_answers_per_day", "max_prompts_per_day", "max_answers_total", "max_prompts_total"])


def test_new_user_is_always_allowed():
    assert check(FatiguePolicy(), hist(), 1, "ces7", NOW) is None


def test_reason_codes_are_exactly_these():
    assert PRECEDENCE == ("prompt_open", "user_cap", "recontact_wait", "type_wait", "survey_wait",
                          "quota_reached")


# --------------------------------------------------------------------------- each layer

@pytest.mark.parametrize("status", ["issued", "delivered", "shown"])
def test_prompt_open(status):
    p = PastPrompt(2, "nps", status, created_at=NOW - 5, prompt_id="p_abc",
                   shown_at=NOW - 1 if status == "shown" else None)
    skip = check(only(one_open=True), hist(p), 1, "ces7", NOW)
    assert skip == Skip("prompt_open", f"prompt p_abc for survey 2 is still open ({status})")
    assert check(only(one_open=False), hist(p), 1, "ces7", NOW) is None


@pytest.mark.parametrize("status", ["answered", "dismissed", "expired"])
def test_closed_prompts_are_not_open(status):
    assert check(only(one_open=True), hist(shown(status=status)), 1, "ces7", NOW) is None


def test_old_open_prompt_still_blocks():
    # An open prompt blocks whatever its age: one at a time, full stop.
    p = PastPrompt(1, "ces7", "delivered", created_at=NOW - 400 * DAY)
    assert reason(only(one_open=True), hist(p)) == "prompt_open"


def test_recontact_wait_any_survey():
    policy = only(recontact_wait=30 * DAY)
    h = hist(shown(survey=9, metric="nps", ago=3 * DAY))
    skip = check(policy, h, 1, "ces7", NOW)
    assert skip == Skip("recontact_wait", "last prompt shown 3 days ago, wait is 30 days")


def test_type_wait_groups_ces7_and_ces5():
    policy = only(type_wait=14 * DAY)
    h = hist(shown(survey=9, metric="ces5", ago=2 * DAY))
    assert check(policy, h, 1, "ces7", NOW) == Skip(
        "type_wait", "last ces prompt shown 2 days ago, wait is 14 days")
    assert check(policy, h, 1, "nps", NOW) is None        # an NPS program is not blocked
    assert check(policy, h, 1, "csat5", NOW) is None
    h_nps = hist(shown(survey=9, metric="nps", ago=HOUR))
    assert reason(policy, h_nps, metric="nps") == "type_wait"
    assert reason(policy, h_nps, metric="ces5") is None


def test_metric_types():
    assert metric_type("ces7") == metric_type("ces5") == "ces"
    assert len({metric_type(m) for m in ("ces7", "nps", "csat5", "ves7")}) == 4
    assert metric_type("future9") == "future9"


def test_survey_wait_same_survey_only():
    policy = only(survey_wait=90 * DAY)
    h = hist(shown(survey=7, ago=40 * DAY))
    assert check(policy, h, 7, "ces7", NOW) == Skip(
        "survey_wait", "survey 7 last shown 40 days ago, wait is 90 days")
    assert check(policy, h, 8, "ces7", NOW) is None


def test_user_cap_rolling_window():
    policy = only(max_prompts=3, max_prompts_window=90 * DAY)
    two = [shown(survey=s, ago=a * DAY) for s, a in ((1, 10), (2, 50))]
    assert check(policy, hist(*two), 5, "ces7", NOW) is None
    three = two + [shown(survey=3, ago=89 * DAY)]
    assert check(policy, hist(*three), 5, "ces7", NOW) == Skip(
        "user_cap", "3 prompts in the last 90 days, cap is 3")
    # The oldest one leaves the window: allowed again.
    rolled = two + [shown(survey=3, ago=91 * DAY)]
    assert check(policy, hist(*rolled), 5, "ces7", NOW) is None


def test_user_cap_zero_asks_nobody():
    assert reason(only(max_prompts=0, max_prompts_window=DAY), hist()) == "user_cap"


# --------------------------------------------------------------------------- boundaries

@pytest.mark.parametrize("layer, kw", [
    ("recontact_wait", {"recontact_wait": 30 * DAY}),
    ("type_wait", {"type_wait": 30 * DAY}),
    ("survey_wait", {"survey_wait": 30 * DAY}),
])
def test_wait_is_over_exactly_at_the_wait(layer, kw):
    policy = only(**kw)
    assert reason(policy, hist(shown(ago=30 * DAY - 1))) == layer
    assert reason(policy, hist(shown(ago=30 * DAY))) is None
    assert reason(policy, hist(shown(ago=30 * DAY + 1))) is None


def test_cap_window_boundary():
    policy = only(max_prompts=1, max_prompts_window=7 * DAY)
    assert reason(policy, hist(shown(ago=7 * DAY - 1))) == "user_cap"
    assert reason(policy, hist(shown(ago=7 * DAY))) is None


def test_zero_wait_never_blocks():
    assert reason(only(recontact_wait=0), hist(shown(ago=0))) is None


def test_future_contact_counts_as_now():
    p = shown(ago=-HOUR)  # shown "in an hour": another server's clock is ahead
    skip = check(only(recontact_wait=DAY), hist(p), 1, "ces7", NOW)
    assert skip == Skip("recontact_wait", "last prompt shown just now, wait is 1 day")


def test_latest_contact_is_used():
    h = hist(shown(ago=20 * DAY), shown(ago=2 * DAY), shown(ago=9 * DAY))
    skip = check(only(recontact_wait=30 * DAY), h, 1, "ces7", NOW)
    assert skip.detail == "last prompt shown 2 days ago, wait is 30 days"


# --------------------------------------------------------------------------- statuses

@pytest.mark.parametrize("status, flag", [("answered", "count_answered"), ("dismissed", "count_dismissed")])
def test_answered_and_dismissed_count_as_configured(status, flag):
    h = hist(shown(status=status, ago=DAY))
    assert reason(only(recontact_wait=30 * DAY, **{flag: True}), h) == "recontact_wait"
    assert reason(only(recontact_wait=30 * DAY, **{flag: False}), h) is None
    # The same switch governs the cap.
    cap = dict(max_prompts=1, max_prompts_window=30 * DAY)
    assert reason(only(**cap, **{flag: True}), h) == "user_cap"
    assert reason(only(**cap, **{flag: False}), h) is None


def test_expired_unseen_counts_only_if_count_expired():
    p = PastPrompt(1, "ces7", "expired", created_at=NOW - 2 * DAY, closed_at=NOW - DAY)
    assert reason(only(recontact_wait=30 * DAY, count_expired=False), hist(p)) is None
    skip = check(only(recontact_wait=30 * DAY, count_expired=True), hist(p), 1, "ces7", NOW)
    # Counted from when we tried (created_at), not from the expiry.
    assert skip == Skip("recontact_wait", "last prompt issued 2 days ago, wait is 30 days")
    assert reason(only(max_prompts=1, max_prompts_window=DAY * 30, count_expired=True), hist(p)) == "user_cap"
    assert reason(only(max_prompts=1, max_prompts_window=DAY * 30, count_expired=False), hist(p)) is None


def test_expired_after_being_shown_counts_like_a_dismissal():
    p = PastPrompt(1, "ces7", "expired", created_at=NOW - 3 * DAY, shown_at=NOW - 2 * DAY,
                   closed_at=NOW - DAY)
    policy = only(recontact_wait=30 * DAY, count_expired=False, count_dismissed=True)
    assert check(policy, hist(p), 1, "ces7", NOW).detail == "last prompt shown 2 days ago, wait is 30 days"
    assert reason(only(recontact_wait=30 * DAY, count_expired=True, count_dismissed=False), hist(p)) is None


def test_contact_time_prefers_shown_then_closed():
    policy = FatiguePolicy()
    a = PastPrompt(1, "ces7", "answered", created_at=100.0, shown_at=200.0, closed_at=300.0)
    assert contact_time(policy, a) == 200.0
    # Answered through a channel that never sent `shown`: the close time counts.
    b = PastPrompt(1, "ces7", "dismissed", created_at=100.0, closed_at=300.0)
    assert contact_time(policy, b) == 300.0
    c = PastPrompt(1, "ces7", "answered", created_at=100.0)
    assert contact_time(policy, c) == 100.0


def test_dismissed_without_shown_at_uses_closed_at_in_detail():
    p = PastPrompt(1, "ces7", "dismissed", created_at=NOW - 5 * DAY, closed_at=NOW - 4 * DAY)
    skip = check(only(recontact_wait=30 * DAY), hist(p), 1, "ces7", NOW)
    assert skip.detail == "last prompt dismissed 4 days ago, wait is 30 days"


@pytest.mark.parametrize("status, shown_at", [("issued", None), ("delivered", None), ("shown", NOW - HOUR)])
def test_open_prompts_count_toward_waits_when_one_open_is_off(status, shown_at):
    p = PastPrompt(1, "ces7", status, created_at=NOW - 2 * HOUR, shown_at=shown_at)
    policy = only(one_open=False, recontact_wait=DAY, count_expired=False)
    assert reason(policy, hist(p)) == "recontact_wait"
    assert contact_time(policy, p) == (shown_at if shown_at is not None else NOW - 2 * HOUR)


def test_unknown_status_is_refused():
    with pytest.raises(ValueError):
        PastPrompt(1, "ces7", "cancelled", created_at=NOW)


# --------------------------------------------------------------------------- precedence

def test_precedence_order():
    everything = FatiguePolicy(recontact_wait=30 * DAY, type_wait=60 * DAY, survey_wait=90 * DAY,
                               max_prompts=1, max_prompts_window=90 * DAY, one_open=True)
    open_p = PastPrompt(1, "ces7", "delivered", created_at=NOW - 10)
    recent = shown(survey=1, metric="ces7", ago=DAY)
    h = hist(open_p, recent)
    quota, full = SurveyQuota(max_prompts_total=1), SurveyCounts(prompts_total=1)

    seen = [check_all(everything, h, 1, "ces7", NOW, quota, full).reason]
    p = FatiguePolicy(**{**everything.as_dict(), "one_open": False})
    seen.append(check_all(p, h, 1, "ces7", NOW, quota, full).reason)
    p = FatiguePolicy(**{**p.as_dict(), "max_prompts": None})
    seen.append(check_all(p, h, 1, "ces7", NOW, quota, full).reason)
    p = FatiguePolicy(**{**p.as_dict(), "recontact_wait": None})
    seen.append(check_all(p, h, 1, "ces7", NOW, quota, full).reason)
    p = FatiguePolicy(**{**p.as_dict(), "type_wait": None})
    seen.append(check_all(p, h, 1, "ces7", NOW, quota, full).reason)
    p = FatiguePolicy(**{**p.as_dict(), "survey_wait": None})
    seen.append(check_all(p, h, 1, "ces7", NOW, quota, full).reason)
    assert tuple(seen) == PRECEDENCE
    assert check_all(p, h, 1, "ces7", NOW, quota, SurveyCounts()) is None
    assert check_all(p, h, 1, "ces7", NOW) is None


def test_broader_wait_is_reported_even_when_narrower_is_longer():
    policy = only(recontact_wait=30 * DAY, survey_wait=90 * DAY)
    h = hist(shown(survey=1, ago=10 * DAY))
    assert reason(policy, h) == "recontact_wait"
    h = hist(shown(survey=1, ago=40 * DAY))
    assert reason(policy, h) == "survey_wait"


# --------------------------------------------------------------------------- quota

@pytest.mark.parametrize("field, count_field, what", [
    ("max_answers_per_day", "answers_today", "answers today (UTC)"),
    ("max_prompts_per_day", "prompts_today", "prompts today (UTC)"),
    ("max_answers_total", "answers_total", "answers in total"),
    ("max_prompts_total", "prompts_total", "prompts in total"),
])
def test_each_quota(field, count_field, what):
    quota = SurveyQuota(**{field: 50})
    assert check_quota(quota, SurveyCounts(**{count_field: 49})) is None
    assert check_quota(quota, SurveyCounts(**{count_field: 50})) == Skip(
        "quota_reached", f"50 {what}, quota is 50")
    assert check_quota(quota, SurveyCounts(**{count_field: 51})).reason == "quota_reached"
    assert check_quota(SurveyQuota(), SurveyCounts(**{count_field: 10**6})) is None


def test_quota_zero_stops_the_survey():
    assert check_quota(SurveyQuota(max_prompts_per_day=0), SurveyCounts()).reason == "quota_reached"


def test_quota_totals_reported_before_daily():
    quota = SurveyQuota(max_answers_per_day=5, max_prompts_total=100)
    counts = SurveyCounts(answers_today=5, prompts_total=100)
    assert check_quota(quota, counts).detail == "100 prompts in total, quota is 100"


def test_utc_day_start():
    assert utc_day_start(NOW) == 1_749_945_600.0          # 2025-06-15T00:00:00Z
    assert utc_day_start(1_749_945_600.0) == 1_749_945_600.0
    assert utc_day_start(1_749_945_599.5) == 1_749_945_600.0 - DAY


# --------------------------------------------------------------------------- JSON

def test_policy_json_round_trip():
    p = FatiguePolicy(type_wait=7 * DAY, count_expired=True)
    d = json.loads(json.dumps(p.as_dict()))
    assert policy_from_dict(d) == p
    assert policy_from_dict({}) == FatiguePolicy()
    assert policy_from_dict({"recontact_wait": None}).recontact_wait is None


def test_quota_json_round_trip():
    q = SurveyQuota(max_prompts_per_day=50, max_answers_total=1000)
    assert quota_from_dict(json.loads(json.dumps(q.as_dict()))) == q
    assert quota_from_dict({}) == SurveyQuota()


@pytest.mark.parametrize("d, errors", [
    ({"recontact_wait": -1}, {"recontact_wait": ["Must be between 0 and 316224000."]}),
    ({"survey_wait": 1.5}, {"survey_wait": ["Must be an integer (seconds) or null."]}),
    ({"type_wait": "7d"}, {"type_wait": ["Must be an integer (seconds) or null."]}),
    ({"type_wait": True}, {"type_wait": ["Must be an integer (seconds) or null."]}),
    ({"max_prompts": -3}, {"max_prompts": ["Must be between 0 and 1000000000."]}),
    ({"max_prompts_window": 0}, {"max_prompts_window": ["Must be between 1 and 316224000."]}),
    ({"max_prompts_window": None}, {"max_prompts_window": ["Required when max_prompts is set."]}),
    ({"one_open": 1}, {"one_open": ["Not a valid boolean."]}),
    ({"count_expired": "yes"}, {"count_expired": ["Not a valid boolean."]}),
    ({"recontact": 10}, {"recontact": ["Unknown field."]}),
    ([], {"_schema": ["Invalid input type."]}),
])
def test_validate_policy_errors(d, errors):
    assert validate_policy(d) == errors
    with pytest.raises(ValueError):
        policy_from_dict(d)


def test_validate_policy_accepts_cap_off():
    assert validate_policy({"max_prompts": None, "max_prompts_window": None}) == {}
    assert validate_policy(FatiguePolicy().as_dict()) == {}


def test_policy_constructor_validates():
    with pytest.raises(ValueError):
        FatiguePolicy(recontact_wait=-5)
    with pytest.raises(ValueError):
        SurveyQuota(max_prompts_per_day=-1)


@pytest.mark.parametrize("d, errors", [
    ({"max_prompts_per_day": -1}, {"max_prompts_per_day": ["Must be between 0 and 1000000000."]}),
    ({"max_answers_total": "10"}, {"max_answers_total": ["Must be an integer (count) or null."]}),
    ({"per_hour": 3}, {"per_hour": ["Unknown field."]}),
    ("x", {"_schema": ["Invalid input type."]}),
])
def test_validate_quota_errors(d, errors):
    assert validate_quota(d) == errors
    with pytest.raises(ValueError):
        quota_from_dict(d)


def test_lookback_covers_every_layer():
    assert FatiguePolicy().lookback() == 90 * DAY
    assert only(type_wait=200 * DAY, recontact_wait=DAY).lookback() == 200 * DAY
    assert NOTHING.lookback() is None
    # A window without a cap looks back at nothing.
    assert only(max_prompts=None, max_prompts_window=400 * DAY).lookback() is None


# --------------------------------------------------------------------------- properties

statuses = st.sampled_from(["issued", "delivered", "shown", "answered", "dismissed", "expired"])


@st.composite
def past_prompts(draw):
    status = draw(statuses)
    created = NOW - draw(st.integers(0, 200 * DAY))
    seen = status == "shown" or (status != "issued" and status != "delivered" and draw(st.booleans()))
    shown_at = created + draw(st.integers(0, HOUR)) if seen else None
    closed_at = created + draw(st.integers(0, 2 * DAY)) if status in ("answered", "dismissed", "expired") else None
    return PastPrompt(draw(st.integers(1, 4)), draw(st.sampled_from(["ces7", "ces5", "nps", "csat5"])),
                      status, created, shown_at, closed_at)


optional_seconds = st.one_of(st.none(), st.integers(0, 120 * DAY))
policies = st.builds(
    FatiguePolicy,
    recontact_wait=optional_seconds, type_wait=optional_seconds, survey_wait=optional_seconds,
    max_prompts=st.one_of(st.none(), st.integers(0, 5)),
    max_prompts_window=st.integers(1, 120 * DAY),
    one_open=st.booleans(), count_answered=st.booleans(), count_dismissed=st.booleans(),
    count_expired=st.booleans(),
)


@given(policies)
def test_any_policy_round_trips_through_json(policy):
    assert policy_from_dict(json.loads(json.dumps(policy.as_dict()))) == policy


@given(policies, st.lists(past_prompts(), max_size=6), past_prompts(),
       st.integers(1, 4), st.sampled_from(["ces7", "ces5", "nps", "csat5"]))
def test_more_history_never_unblocks(policy, prompts, extra, survey, metric):
    before = check(policy, hist(*prompts), survey, metric, NOW)
    after = check(policy, hist(*prompts, extra), survey, metric, NOW)
    if before is not None:
        assert after is not None
        # ...and never by a reason of lower precedence.
        assert PRECEDENCE.index(after.reason) <= PRECEDENCE.index(before.reason)


@given(policies, st.lists(past_prompts(), max_size=6), st.integers(1, 4))
def test_result_is_a_known_reason_and_order_independent(policy, prompts, survey):
    a = check(policy, hist(*prompts), survey, "ces7", NOW)
    b = check(policy, hist(*reversed(prompts)), survey, "ces7", NOW)
    assert (a is None) == (b is None)
    if a:
        assert a.reason in PRECEDENCE[:-1] and a.detail
        assert a.reason == b.reason

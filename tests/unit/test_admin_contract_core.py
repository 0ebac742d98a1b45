"""The pure parts of the admin contract: import plans, time zones, keys in force during a rotation,
two webhook signatures during a secret's overlap."""
from __future__ import annotations

import pytest

from ces.core import webhook_signing
from ces.core.config_plan import Plan, diff_rows
from ces.core.identity import keys_in_force, user_hash, verify
from ces.core.time_zones import time_zone_error


def test_plan_creates_changes_pauses_and_keeps() -> None:
    plan = Plan()
    current = {"a": {"slug": "a", "name": "A", "status": "active"}, "b": {"slug": "b", "name": "B", "status": "active"},
               "c": {"slug": "c", "name": "C", "status": "paused"}}
    wanted = {"a": {"slug": "a", "name": "A2", "status": "active"}, "d": {"slug": "d", "name": "D", "status": "active"}}
    diff_rows(plan, "site_1", "survey", current, wanted)
    assert plan.creates == [("site_1", "survey", "d")]
    assert plan.changes == [("site_1", "survey", "a", ["name"])]
    assert plan.pauses == [("site_1", "survey", "b")]   # c is paused already: nothing to do
    diff_rows(plan, "site_1", "webhook", {"u": {"url": "u"}}, {}, pausable=False)
    assert plan.kept == [("site_1", "webhook", "u")]
    assert plan.lines()[0] == "create survey d of site site_1"
    again = Plan()
    diff_rows(again, "s", "survey", wanted, wanted)
    assert again.empty


@pytest.mark.parametrize("name,ok", [("Europe/Paris", True), ("UTC", True), ("America/New_York", True),
                                     ("Europe/Pariss", False), ("", False), (3, False), ("../etc/passwd", False)])
def test_time_zones_are_iana_names(name: object, ok: bool) -> None:
    assert (time_zone_error(name) is None) is ok


def test_keys_in_force_during_and_after_a_rotation() -> None:
    site = {"secret_key": "sk_new", "previous_secret_key": "sk_old", "previous_secret_expires_at": 1000.0}
    assert keys_in_force(site, 999.0) == ["sk_new", "sk_old"]
    assert keys_in_force(site, 1000.0) == ["sk_new"]
    assert verify(keys_in_force(site, 999.0), "u1", user_hash("sk_old", "u1"))
    assert not verify(keys_in_force(site, 1001.0), "u1", user_hash("sk_old", "u1"))
    assert verify(keys_in_force(site, 1001.0), "u1", user_hash("sk_new", "u1"))


def test_two_signatures_in_one_header_each_verifies() -> None:
    new, old = webhook_signing.generate_secret(), webhook_signing.generate_secret()
    headers = webhook_signing.headers([new, old], "msg_1", 1700000000, b"{}")
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (new, old):
        webhook_signing.verify(secret, headers, b"{}", now=1700000000)
    with pytest.raises(webhook_signing.SignatureError):
        webhook_signing.verify(webhook_signing.generate_secret(), headers, b"{}", now=1700000000)

"""The command line (``python -m ces_sdk``) against the scripted loopback server."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ces_sdk.__main__ import build_parser, main

pytestmark = pytest.mark.timeout(30)


def run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ces_sdk", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=20)


def test_track_prints_the_decision(fake_ces):
    out = run("track", "--user", "u1", "--event", "ticket_closed", "--prop", "channel=chat",
              "--prop", "team=l2", "--json-prop", "minutes=12.5", "--event-id", "t-1",
              env={"CES_SECRET_KEY": "sk_test", "CES_HOST": fake_ces.url})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["event_id"] == "t-1"
    event = fake_ces.events[0]
    assert event["user_id"] == "u1" and event["name"] == "ticket_closed"
    assert event["properties"] == {"channel": "chat", "team": "l2", "minutes": 12.5}


def test_identify_and_user_hash(fake_ces):
    env = {"CES_SECRET_KEY": "sk_test", "CES_HOST": fake_ces.url}
    out = run("identify", "--user", "u1", "--trait", "plan=pro", "--json-trait", "old=null", env=env)
    assert out.returncode == 0, out.stderr
    assert fake_ces.users == [{"user_id": "u1", "traits": {"plan": "pro", "old": None}}]
    out = run("user-hash", "--user", "u1", env=env)
    from ces_sdk.identity import user_hash
    assert out.stdout.strip() == user_hash("sk_test", "u1")


def test_server_down_exits_1_quickly(unused_port):
    started = time.monotonic()
    out = run("track", "--user", "u1", "--event", "e", "--retries", "1", "--timeout", "1",
              env={"CES_SECRET_KEY": "sk_test", "CES_HOST": f"http://127.0.0.1:{unused_port}"})
    assert out.returncode == 1 and "not delivered" in out.stderr
    assert time.monotonic() - started < 10


def test_usage_errors_exit_2(fake_ces, capsys):
    assert main(["track", "--user", "", "--event", "e", "--secret-key", "sk", "--host", fake_ces.url]) == 2
    assert "user_id must not be empty" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["track", "--user", "u1", "--event", "e", "--prop", "novalue", "--secret-key", "sk",
              "--host", fake_ces.url])
    env_without_key = {k: v for k, v in os.environ.items() if k != "CES_SECRET_KEY"}
    out = subprocess.run([sys.executable, "-m", "ces_sdk", "track", "--user", "u1", "--event", "e"],
                         env=env_without_key, capture_output=True, text=True, timeout=20)
    assert out.returncode == 2 and "CES_SECRET_KEY" in out.stderr
    assert fake_ces.requests == []


def test_every_command_has_help():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001
    assert set(commands) == {"track", "identify", "user-hash", "opt-out"}
    for name, sub in commands.items():
        assert sub.format_help()
        for action in sub._actions:  # noqa: SLF001
            assert action.help, f"{name} {action.dest} has no help text"

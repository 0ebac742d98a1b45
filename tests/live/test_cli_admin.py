"""The command line's first run and settings: `ces demo` honours CES_PORT like `ces serve`, the
first run says how to get an admin token and where the API docs are, and CES_HOST's two meanings
have two names (the old one still works, with a warning)."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from ces import config as config_module
from ces.testing import free_port, http, wait_until_serving

CES = str(Path(sys.executable).with_name("ces"))


def start(args: list[str], env: dict[str, str], url: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([CES, *args], env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_serving(url, proc)
    except AssertionError:
        print(proc.communicate(timeout=5)[0])
        raise
    return proc, url


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    return proc.communicate(timeout=15)[0]


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_ces_port_is_honoured_and_the_first_run_says_where_to_go(tmp_path, command: str) -> None:
    port = free_port()
    db = tmp_path / "ces.db"
    proc, url = start([command, "--db", str(db), "--connections", "20"], {"CES_PORT": str(port)},
                      f"http://127.0.0.1:{port}")
    try:
        assert http("GET", f"{url}/api/openapi.json")[0] == 200
        if command == "demo":
            assert http("GET", f"{url}/demo/?user=u1")[0] == 200
    finally:
        out = stop(proc)
    assert f"Listening on http://127.0.0.1:{port}" in out
    assert f"ces token create NAME --db {db}" in out
    assert f"API docs: http://127.0.0.1:{port}/api/docs" in out


def test_ces_host_still_binds_the_server_with_a_deprecation_warning(tmp_path) -> None:
    port = free_port()
    proc, url = start(["serve", "--db", str(tmp_path / "ces.db"), "--connections", "20"],
                      {"CES_PORT": str(port), "CES_HOST": "127.0.0.1"}, f"http://127.0.0.1:{port}")
    out = stop(proc)
    assert "CES_HOST is deprecated for the server: set CES_LISTEN_HOST" in out


def test_listen_host_and_the_old_name_in_the_configuration() -> None:
    assert config_module.resolve(environ={"CES_LISTEN_HOST": "0.0.0.0"})["LISTEN_HOST"] == "0.0.0.0"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert config_module.resolve(environ={"CES_HOST": "0.0.0.0"})["LISTEN_HOST"] == "0.0.0.0"
        # A URL is the SDK's setting: the server does not try to bind it.
        assert config_module.resolve(environ={"CES_HOST": "https://ces.example"})["LISTEN_HOST"] == "127.0.0.1"
        # The new name wins, silently.
        assert config_module.resolve(environ={"CES_HOST": "10.0.0.1", "CES_LISTEN_HOST": "127.0.0.2"})[
            "LISTEN_HOST"] == "127.0.0.2"
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 2 and "CES_LISTEN_HOST" in messages[0] and "CES_URL" in messages[1]


def test_the_sdk_reads_ces_url_and_still_ces_host_with_a_warning() -> None:
    from ces_sdk.settings import server_url
    assert server_url({"CES_URL": "https://a.example"}) == "https://a.example"
    assert server_url({"CES_URL": "https://a.example", "CES_HOST": "https://b.example"}) == "https://a.example"
    assert server_url({}) is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert server_url({"CES_HOST": "https://b.example"}) == "https://b.example"
    assert any("set CES_URL" in str(w.message) for w in caught)


def test_every_command_is_in_the_readme_and_has_help() -> None:
    import click

    from ces.cli import main
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    def walk(group: click.Group, prefix: str) -> list[str]:
        names = []
        for name, cmd in group.commands.items():
            names.append(f"{prefix} {name}")
            assert cmd.help, f"{prefix} {name} has no help text"
            if isinstance(cmd, click.Group):
                names += walk(cmd, f"{prefix} {name}")
        return names
    commands = walk(main, "ces")
    assert len(commands) > 15
    for command in commands:
        assert f"`{command}" in readme, f"README's command table lacks {command}"


def test_ces_serve_without_db_uses_ces_database(tmp_path) -> None:
    """README: every command's --db defaults to CES_DATABASE (then ./ces.db), `ces serve` too."""
    port = free_port()
    db = tmp_path / "from-env.db"
    proc = subprocess.Popen([CES, "serve", "--connections", "20"], cwd=tmp_path / "..",
                            env={**os.environ, "CES_PORT": str(port), "CES_DATABASE": str(db)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", proc)
    finally:
        out = stop(proc)
    assert db.exists(), out
    assert f"(database {db})" in out and f"ces token create NAME --db {db}" in out

"""Fixtures shared by tests/ and e2e/: a real server on a free loopback port, on a fresh database.

Every test that takes `live_server` (or `database`) runs twice: on a fresh SQLite file and on a
fresh PostgreSQL database of a throw-away cluster the run starts itself (ces.testing_pg: initdb in
a temporary folder, a free loopback port, stopped at the end of the session even on failure).
`-m "not postgresql"` or CES_TEST_ENGINES=sqlite runs the SQLite half only.
"""
from __future__ import annotations

import ast
import os
import sys
import threading
from typing import Iterator

import pytest

from ces.testing import LiveServer

ENGINES = [e for e in os.environ.get("CES_TEST_ENGINES", "sqlite,postgresql").split(",") if e]


def _one_ast_parse_at_a_time() -> None:
    """CPython 3.11.7's ast.parse() is not thread-safe (gh-106905: "AST constructor recursion
    depth mismatch", seen once in a full run, from werkzeug compiling an app's routes while another
    thread of the same test process parsed too). A test process runs many servers' threads at once;
    a production process parses only while it builds its app, once."""
    if sys.version_info >= (3, 12):
        return
    parse, lock = ast.parse, threading.Lock()

    def locked_parse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        with lock:
            return parse(*args, **kwargs)
    ast.parse = locked_parse


_one_ast_parse_at_a_time()


# Files with the longest tests (8-24 s each: restarts, a 14 s delayed prompt, 100k answers), run
# first so that no worker is left with one of them while the others have finished (xdist hands
# out tests in this order). Within a file the order is unchanged.
SLOW_FIRST = ("tests/live/test_scale_out.py", "tests/live/test_export.py", "e2e/dashboard/test_dashboard_overview.py",
              "e2e/dashboard/test_results_demo.py", "e2e/dashboard/test_dashboard_demo.py",
              "tests/live/test_config_as_code.py", "tests/live/test_rate_limits.py", "tests/live/test_backup.py")


def pytest_collection_modifyitems(config, items) -> None:
    """Tests of a SQLite-only feature (`ces backup` copies the SQLite file) run on SQLite only;
    the SLOW_FIRST files first."""
    keep = [i for i in items if not (i.get_closest_marker("sqlite_only") and "[postgresql" in i.nodeid)]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    rank = {path: n for n, path in enumerate(SLOW_FIRST)}
    keep.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable
    items[:] = keep


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    from ces import testing_pg
    if not testing_pg.available():
        pytest.fail("PostgreSQL is not installed (no initdb): `bash .ci/setup test` installs it")
    cluster = testing_pg.PgCluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=[pytest.param(e, marks=[pytest.mark.postgresql] if e == "postgresql" else [])
                        for e in ENGINES])
def engine(request) -> str:
    return request.param


@pytest.fixture
def database(engine, tmp_path, request) -> Iterator[str]:
    """A fresh database of the engine under test: a SQLite file path, or a PostgreSQL URL."""
    if engine == "sqlite":
        yield str(tmp_path / "ces.db")
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database()
    yield url
    cluster.drop_database(url, wait=False)  # dropped by the cluster's thread while the next test runs


@pytest.fixture
def live_server(database) -> Iterator[LiveServer]:
    server = LiveServer(database)
    try:
        yield server
    finally:
        server.stop()

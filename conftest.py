"""Fixtures shared by tests/ and e2e/: a real server on a free loopback port, fresh SQLite file."""
from __future__ import annotations

from typing import Iterator

import pytest

from ces.testing import LiveServer


@pytest.fixture
def live_server(tmp_path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "ces.db")
    try:
        yield server
    finally:
        server.stop()

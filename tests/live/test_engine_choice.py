"""Which engine a database setting selects: a path or `sqlite:` is SQLite, `postgresql://` is
PostgreSQL, through `--db` and `CES_DATABASE` alike; nothing else in the product asks."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ces.storage import Storage
from ces.testing import release

CES = str(Path(sys.executable).with_name("ces"))


@pytest.mark.parametrize("spelling", ["{path}", "sqlite:{path}", "sqlite:///{path}"])
def test_a_path_or_sqlite_url_is_a_sqlite_file(tmp_path: Path, spelling: str) -> None:
    path = tmp_path / "ces.db"
    storage = Storage(spelling.format(path=path))
    try:
        storage.migrate()
        assert storage.engine == "sqlite" and storage.path == str(path) and path.exists()
    finally:
        release(storage)


@pytest.mark.postgresql
def test_a_postgresql_url_selects_postgresql_from_the_flag_and_the_environment(pg_cluster) -> None:
    url = pg_cluster.new_database(migrated=False)
    storage = Storage(url.replace("ces@", "ces:hunter2@"))  # trust auth: the password is not checked
    try:
        assert storage.engine == "postgresql" and "hunter2" not in storage.describe()
    finally:
        release(storage)
    created = subprocess.run([CES, "site", "create", "Shop", "--json", "--db", url], capture_output=True, text=True,
                             timeout=60)
    assert created.returncode == 0, created.stderr
    listed = subprocess.run([CES, "site", "list"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "CES_DATABASE": url})
    assert listed.returncode == 0 and "Shop" in listed.stdout, listed.stderr

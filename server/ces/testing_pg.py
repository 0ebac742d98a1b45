"""A throw-away PostgreSQL cluster for tests and benchmarks: never a system cluster.

`PgCluster()` runs `initdb` into a temporary folder, starts the server on a free loopback port
(unix socket in that folder too), and `stop()` stops it and removes the folder. Each test gets a
fresh database: `new_database()` creates one from a template that already has the product's
schema, which takes ~20 ms instead of the ~1 s that migrating an empty database costs. A thread
of the cluster's keeps SPARES such databases made ahead and drops the used ones it is handed, so
that a test waits for neither (CREATE DATABASE took 0.1-0.5 s on the loaded 2-core CI machine).
"""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .testing import free_port

SPARES = 2  # migrated databases made ahead of the tests that will take them

PG_BIN_DIRS = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")


def pg_bin(name: str) -> str | None:
    """The path of a PostgreSQL server program (initdb, pg_ctl), or None when none is installed."""
    found = shutil.which(name)
    if found:
        return found
    for folder in PG_BIN_DIRS:
        if os.access(os.path.join(folder, name), os.X_OK):
            return os.path.join(folder, name)
    return None


def _as_owner(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its programs as the `postgres` user."""
    if os.geteuid() != 0:
        return cmd
    import pwd
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root and there is no `postgres` user to run PostgreSQL as") from None
    return ["runuser", "-u", "postgres", "--", *cmd]


def available() -> bool:
    return pg_bin("initdb") is not None and pg_bin("pg_ctl") is not None


class PgCluster:
    """A PostgreSQL server of its own, for as long as the test run (see the module's docstring)."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError("PostgreSQL is not installed (initdb not found): run `bash .ci/setup test`")
        self.pg_ctl = pg_ctl
        self.folder = Path(tempfile.mkdtemp(prefix="ces-pg-"))
        if os.geteuid() == 0:
            import pwd
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        self.data = self.folder / "data"
        self.port = free_port()
        self.user = "ces"
        subprocess.run(_as_owner([initdb, "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8",
                        "--no-instructions", "--no-sync"]), check=True, stdout=subprocess.DEVNULL)
        # Small and quick: a test cluster holds throw-away data, so it does not fsync (CREATE DATABASE
        # and every commit would wait for the disk). The product's own durability setting is
        # untouched: a durable write() still commits with synchronous_commit on (tested), which on
        # a real server waits for the WAL to reach the disk.
        conf = {"listen_addresses": "'127.0.0.1'", "port": str(self.port),
                "unix_socket_directories": f"'{self.folder}'", "max_connections": "300",
                "shared_buffers": "64MB", "log_min_messages": "warning", "fsync": "off",
                "full_page_writes": "off", **(settings or {})}
        subprocess.run(_as_owner(["sh", "-c", f"cat >> {self.data}/postgresql.conf"]), check=True,
                       input="".join(f"{k} = {v}\n" for k, v in conf.items()).encode())
        self._started = False
        try:
            subprocess.run(_as_owner([pg_ctl, "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-t", "60",
                                      "start"]),
                           check=True, stdout=subprocess.DEVNULL)
            self._started = True
        except BaseException:
            self.stop()
            raise
        self._template: str | None = None
        self._n = 0
        self._name_lock = threading.Lock()
        self._ready: queue.Queue[str | BaseException] = queue.Queue()  # made ahead, for new_database()
        self._work: queue.Queue[tuple[str, str] | None] = queue.Queue()  # ("create"|"drop", name)
        self._maker: threading.Thread | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def template(self) -> str:
        """A database with the product's schema (migrated once), to copy."""
        if self._template is None:
            from .storage import Storage
            self._admin("create database ces_template")
            storage: Any = Storage(self.url("ces_template"))
            storage.migrate()
            storage.shutdown()
            self._template = "ces_template"
        return self._template

    def _next_name(self) -> str:
        with self._name_lock:
            self._n += 1
            return f"ces_test_{os.getpid()}_{self._n}"

    def _create(self, name: str, source: str) -> None:
        for attempt in range(50):  # CREATE … TEMPLATE fails while another session is on the template
            try:
                self._admin(f"create database {name}{source}")
                return
            except Exception:
                if attempt == 49:
                    raise
                time.sleep(0.1)

    def new_database(self, migrated: bool = True) -> str:
        """The URL of a fresh, empty database (with the schema, from the template, unless `migrated=False`)."""
        if not migrated:
            name = self._next_name()
            self._create(name, "")
            return self.url(name)
        if self._maker is None:
            self.template()
            self._maker = threading.Thread(target=self._make_and_drop, name="ces-pg-spares", daemon=True)
            self._maker.start()
            for _ in range(SPARES):
                self._work.put(("create", self._next_name()))
        made = self._ready.get(timeout=120)
        if isinstance(made, BaseException):
            raise made
        self._work.put(("create", self._next_name()))  # the next test's
        return self.url(made)

    def _make_and_drop(self) -> None:
        """The spares' thread: creates databases from the template and drops used ones, in order."""
        while (task := self._work.get()) is not None:
            action, name = task
            if action == "drop":
                self._drop(name)
                continue
            try:
                self._create(name, f" template {self.template()}")
                self._ready.put(name)
            except BaseException as err:  # noqa: BLE001 - handed to the test that waits for it
                self._ready.put(err)

    def drop_database(self, url: str, wait: bool = True) -> None:
        """Drop a database new_database() made (its files would otherwise pile up in the folder:
        ~8 MB each); `wait=False` leaves it to the spares' thread."""
        name = url.rsplit("/", 1)[1]
        if not wait and self._maker is not None:
            self._work.put(("drop", name))
            return
        self._drop(name)

    def _drop(self, name: str) -> None:
        try:
            self._admin(f"drop database if exists {name} with (force)")
        except Exception:  # noqa: BLE001 - a test's leftovers go with the cluster at the end anyway
            pass

    def stop(self) -> None:
        if self._maker is not None:
            self._work.put(None)
            self._maker.join(timeout=30)
        if self._started:
            subprocess.run(_as_owner([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self._started = False
        shutil.rmtree(self.folder, ignore_errors=True)

"""Real parts for the scale-out tests: a throw-away redis-server, `ces serve` processes sharing one
database, nginx in front of them. Each runs in the test's temp folder on a free loopback port and
is stopped at the end, also on failure.

The database is the suite's `database` fixture (conftest.py): a fresh SQLite file, and a fresh
PostgreSQL database of the throw-away cluster, so every test here runs on both engines; it is
passed to every server as --db.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from ces.testing import free_port, http, wait_until_serving

CES = str(Path(sys.executable).with_name("ces"))
SITE, SECRET = "site_scale", "sk_scale"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class RedisServer:
    """redis-server --port N --save '' in a temp folder; kill() and start() again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            assert self.proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    if not os.path.exists(REDIS):
        pytest.fail("redis-server is missing: run `bash .ci/setup test` (installs Debian's redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def redis_up(redis_server: RedisServer) -> RedisServer:
    """The session's Redis, running (a test before may have killed it), with nothing left in it."""
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    subprocess.run(["redis-cli", "-p", str(redis_server.port), "flushall"], capture_output=True, check=True)
    return redis_server


class Server:
    """One `ces serve` process; its log in the temp folder."""

    def __init__(self, db: str, folder: Path, env: dict[str, str], port: int | None = None,
                 args: tuple[str, ...] = ()) -> None:
        # One worker unless told: /healthz then speaks for the process that holds the sockets.
        self.db, self.folder, self.env = db, folder, env
        self.args = args if "--workers" in args else ("--workers", "1", *args)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.proc: subprocess.Popen | None = None

    def spawn(self) -> subprocess.Popen:
        log = open(self.folder / f"server-{self.port}.log", "ab")
        self.proc = subprocess.Popen([CES, "serve", "--port", str(self.port), "--db", self.db, *self.args],
                                     env={**os.environ, **self.env}, stdout=log, stderr=log)
        return self.proc

    def start(self) -> "Server":
        try:
            wait_until_serving(self.url, self.spawn())
        except AssertionError as err:
            raise AssertionError(f"{err}; its log ends:\n{self.log()[-3000:]}") from None
        return self

    def health(self) -> dict[str, Any]:
        status, body = http("GET", self.url + "/healthz")
        assert status == 200, (body, self.log()[-3000:])
        return body

    def log(self) -> str:
        return (self.folder / f"server-{self.port}.log").read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Cluster:
    def __init__(self, db: str, folder: Path, redis_url: str | None, sweep: float) -> None:
        self.db, self.folder = db, folder
        self.env = {"CES_BOOTSTRAP_SITE_KEY": SITE, "CES_BOOTSTRAP_SECRET_KEY": SECRET,
                    "CES_SWEEP_INTERVAL": str(sweep), "CES_LOG_LEVEL": "INFO"}
        if redis_url:
            self.env["CES_REDIS_URL"] = redis_url
        self.servers: list[Server] = []
        self._token: str | None = None

    def add(self, n: int = 1, start: bool = True, **kwargs: Any) -> list[Server]:
        new = [Server(self.db, self.folder, self.env, **kwargs) for _ in range(n)]
        self.servers += new
        if start:
            for server in new:
                server.start()
        return new

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = subprocess.run([CES, "token", "create", "tests", "--db", self.db], capture_output=True,
                                         text=True, check=True).stdout.split()[-1]
        return self._token

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = http(method, self.servers[0].url + path, body, token=self.token)
        assert status in (200, 201), (status, answer)
        return answer

    def stop(self) -> None:
        for server in self.servers:
            if server.proc is not None and server.proc.poll() is None:
                server.proc.terminate()
        for server in self.servers:
            server.stop()


@pytest.fixture
def cluster_factory(database, tmp_path) -> Iterator[Any]:
    made: list[Cluster] = []

    def make(redis_url: str | None, sweep: float = 2.0) -> Cluster:
        cluster = Cluster(database, tmp_path, redis_url, sweep)
        made.append(cluster)
        return cluster
    try:
        yield make
    finally:
        for cluster in made:
            cluster.stop()


def post_event(url: str, user: str, name: str = "checkout_completed", **extra: Any) -> dict[str, Any]:
    status, body = http("POST", url + "/api/v1/events", {"user_id": user, "name": name, **extra}, SECRET)
    assert status == 200, body
    return body["results"][0]


def poll(predicate: Any, timeout: float, what: str) -> Any:
    """predicate() until truthy, within `timeout` seconds; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)


class Swarm:
    """`python -m ces.swarm`: many widget stand-ins in one gevent process."""

    def __init__(self, urls: list[str], count: int, answer: bool = False, prefix: str = "w") -> None:
        args = [sys.executable, "-m", "ces.swarm", "--site", SITE, "--count", str(count), "--prefix", prefix]
        for url in urls:
            args += ["--url", url]
        if answer:
            args.append("--answer")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def wait_connected(self, timeout: float = 60) -> None:
        line = self._line(timeout)
        assert line.get("event") == "connected", line

    def report(self, timeout: float = 30) -> list[dict[str, Any]]:
        self.proc.stdin.write("report\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return self._line(timeout)["widgets"]

    def _line(self, timeout: float) -> dict[str, Any]:
        import selectors
        # A selector, not select(): a worker that ran many tests may hold descriptors above 1024.
        with selectors.DefaultSelector() as waiting:
            waiting.register(self.proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
            ready = waiting.select(timeout)
        assert ready, "the swarm said nothing in time"
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        assert line, f"the swarm ended (exit {self.proc.poll()})"
        return json.loads(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")  # type: ignore[union-attr]
                self.proc.stdin.flush()  # type: ignore[union-attr]
                self.proc.wait(timeout=10)
            except Exception:
                self.proc.kill()
                self.proc.wait()


NGINX_CONF = Path(__file__).resolve().parents[2] / "docs" / "nginx-ces.conf"


class Nginx:
    """Debian's nginx as a throw-away, non-root process in a temp folder, with the configuration
    docs/deployment.md gives (docs/nginx-ces.conf), its upstream servers filled in."""

    def __init__(self, upstreams: list[str]) -> None:
        # Its own folder outside pytest's (which only root may enter): as root, nginx runs as nobody.
        folder = Path(tempfile.mkdtemp(prefix="ces-nginx-"))
        self.folder, self.port = folder, free_port()
        (folder / "logs").mkdir(exist_ok=True)
        servers = "\n".join(f"    server {u} max_fails=1 fail_timeout=5s;" for u in upstreams)
        site = NGINX_CONF.read_text().replace("    server 127.0.0.1:8001 max_fails=1 fail_timeout=5s;\n"
                                              "    server 127.0.0.1:8002 max_fails=1 fail_timeout=5s;", servers)
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        (folder / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log warn;
events {{ worker_connections 4096; }}
worker_rlimit_nofile 8192;
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{site}
}}
""")
        as_nobody: dict[str, Any] = {}
        if os.geteuid() == 0:
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, 65534, 65534)
            as_nobody = {"user": 65534, "group": 65534, "extra_groups": []}
        self.proc = subprocess.Popen([NGINX, "-p", str(folder), "-e", str(folder / "logs" / "error.log"),
                                      "-c", str(folder / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **as_nobody)
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        wait_until_serving(self.url, self.proc)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

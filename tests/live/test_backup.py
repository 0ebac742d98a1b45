"""`ces backup` of a live database while answers are being written: the copy opens, passes
`PRAGMA integrity_check`, holds every answer acknowledged before it began, and a server restored
from it reports exactly what its rows say; a copy taken at rest reports what the live server does."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ces.backup import BackupError, backup
from ces.core.scoring import score as pure_score
from ces.testing import LiveServer, ces_serve, http

# `ces backup` copies the SQLite file; a PostgreSQL database is backed up with pg_dump (docs/deployment.md).
pytestmark = pytest.mark.sqlite_only
CES = str(Path(sys.executable).with_name("ces"))


class AnswerLoad:
    """Threads answering prompts over real sockets, one new user per answer, until stopped."""

    def __init__(self, server: LiveServer, threads: int = 2) -> None:
        self.server, self.acked, self._stop = server, [], threading.Event()
        self._lock = threading.Lock()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, worker: int) -> None:
        k = 0
        try:
            while not self._stop.is_set():
                user = f"load-{worker}-{k}"
                k += 1
                status, body = self.server.post_events({"user_id": user, "name": "checkout_completed",
                                                        "properties": {"channel": "web", "wait_minutes": k % 30}})
                assert body["results"][0]["decision"] == "prompt", body
                tab = self.server.ws(user)
                pid = tab.expect("prompt")["prompt"]["id"]
                tab.send({"type": "answer", "prompt": pid, "score": 1 + k % 7, "id": "a"})
                assert tab.expect("ack")["status"] == "answered"
                tab.close()
                with self._lock:
                    self.acked.append(pid)
        except BaseException as err:  # reported by stop()
            self.errors.append(err)

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def count(self) -> int:
        with self._lock:
            return len(self.acked)

    def stop(self) -> None:
        self._stop.set()
        for t in self.threads:
            t.join(30)
        assert not self.errors, self.errors


def _check(path: Path) -> list[tuple[str, int]]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        return conn.execute("select prompt_id, score from answers").fetchall()
    finally:
        conn.close()


def _restored_report(copy: Path, tmp: Path, name: str) -> dict:
    """Restore as the docs say (copy the file into place), serve it with `ces serve`, ask for the report."""
    target = tmp / name
    shutil.copyfile(copy, target)
    proc, url = ces_serve(target, threads=4, env={"CES_RETENTION_INTERVAL": "0"})
    try:
        token = subprocess.run([CES, "token", "create", "restore-check", "--db", str(target)], capture_output=True,
                               text=True, timeout=60, check=True).stdout.strip()
        status, body = http("GET", f"{url}/api/v1/surveys/1/report?driver=wait_minutes", token=token)
        assert status == 200, body
        return body
    finally:
        proc.terminate()
        proc.wait(10)


def test_backup_during_a_write_load_restores_and_reports_the_same(live_server: LiveServer, tmp_path: Path) -> None:
    s = live_server
    load = AnswerLoad(s)
    load.start()
    try:
        s.wait_for(lambda: load.count() >= 20, timeout=60)
        acked_before = set(load.acked)
        copy = tmp_path / "during.db"
        run = subprocess.run([CES, "backup", str(copy), "--db", s.db_path], capture_output=True, text=True,
                             timeout=120)
        acked_after = set(load.acked)
        s.wait_for(lambda: load.count() >= len(acked_after) + 5, timeout=60)  # the load went on meanwhile
    finally:
        load.stop()
    assert run.returncode == 0, run.stderr
    assert "integrity_check ok" in run.stdout
    rows = _check(copy)
    in_copy = {pid for pid, _ in rows}
    assert acked_before <= in_copy  # every answer acknowledged before the backup began is in it
    assert in_copy <= acked_after | {p["id"] for p in s.services.storage.all("select id from prompts")}
    # The restored server's report is what the copy's rows say.
    report = _restored_report(copy, tmp_path, "restored.db")
    assert report["score"] == pure_score("ces7", [score for _, score in rows]).as_dict()
    assert report["funnel"]["answered"] == len(rows)
    # At rest, a copy reports exactly what the live server does.
    rest = tmp_path / "rest.db"
    result = backup(s.db_path, rest)
    assert result.integrity == "ok" and result.bytes > 0
    _check(rest)
    status, live = s.admin("GET", f"/api/v1/surveys/{s.survey_id}/report?driver=wait_minutes")
    assert _restored_report(rest, tmp_path, "restored-rest.db") == live


def test_backup_refuses_bad_targets(tmp_path: Path, live_server: LiveServer) -> None:
    for source, target, words in ((tmp_path / "missing.db", tmp_path / "x.db", "no database"),
                                  (Path(live_server.db_path), Path(live_server.db_path), "overwrite")):
        try:
            backup(source, target)
        except BackupError as err:
            assert words in str(err)
        else:
            raise AssertionError("backup accepted a bad target")
    run = subprocess.run([CES, "backup", str(tmp_path / "nodir" / "x.db"), "--db", live_server.db_path],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "backup failed" in run.stderr
    assert not list(tmp_path.glob(".x.db.partial*"))
    assert live_server.get("/healthz")[0] == 200

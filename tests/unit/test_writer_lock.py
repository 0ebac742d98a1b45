"""The writers of several processes on one SQLite file queue on a flock beside it (writer_lock.py):
held during each Storage.write() transaction, released after it, its descriptor not inherited by
programs the process starts."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys

from ces.storage import Storage

PROBE = "import fcntl, os, sys; fcntl.flock(os.open(sys.argv[1], os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')"


def other_process_sees(lock_path: str) -> str:
    """'free' when another process can take the lock at once, else 'held'."""
    done = subprocess.run([sys.executable, "-c", PROBE, lock_path], capture_output=True, text=True)
    return done.stdout.strip() or ("held" if "BlockingIOError" in done.stderr else done.stderr)


def test_the_lock_is_held_for_a_write_transaction_and_released_after(tmp_path) -> None:
    storage = Storage(str(tmp_path / "ces.db"))
    storage.migrate()
    lock_path = str(tmp_path / "ces.db.write-lock")
    with storage.write() as db:
        db.execute("select 1")
        assert other_process_sees(lock_path) == "held"
    assert other_process_sees(lock_path) == "free"
    try:
        with storage.write():
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert other_process_sees(lock_path) == "free"
    storage.shutdown()


def test_the_descriptor_is_not_inherited(tmp_path) -> None:
    storage = Storage(str(tmp_path / "ces.db"))
    storage.migrate()
    with storage.write():
        pass
    fd = storage._writer._fd  # noqa: SLF001 - the descriptor itself is what is checked
    assert fd is not None and fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
    storage.shutdown()
    assert storage._writer._fd is None  # noqa: SLF001
    assert not os.path.exists(f"/proc/self/fd/{fd}") or os.readlink(f"/proc/self/fd/{fd}") != str(
        tmp_path / "ces.db.write-lock")

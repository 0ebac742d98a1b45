"""Storage connections: per-thread ones, and the pool that websocket threads borrow from."""
from __future__ import annotations

import threading
from typing import Any, Callable

from ces.storage import Storage


def in_thread(fn: Callable[[], Any]) -> Any:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join(timeout=10)
    return out[0]


def test_a_borrowed_connection_goes_back_to_the_pool_and_serves_the_next_thread(tmp_path) -> None:
    storage = Storage(str(tmp_path / "ces.db"))
    storage.migrate()

    def borrow() -> tuple[int, bool]:
        with storage.borrowed():
            used = id(storage.db)
        return used, getattr(storage._local, "db", None) is None  # the thread keeps nothing

    first, kept_nothing = in_thread(borrow)
    second, _ = in_thread(borrow)
    assert kept_nothing and first == second
    own = storage.db  # a thread with its own connection keeps using it inside the block
    with storage.borrowed():
        assert storage.db is own


def test_the_synchronous_level_travels_with_a_pooled_connection(tmp_path) -> None:
    """Decisions commit at NORMAL, answers at FULL: a connection lent for the one and then for the
    other must not keep the first level (write() skips the PRAGMA when the level is unchanged)."""
    storage = Storage(str(tmp_path / "ces.db"), "FULL")
    storage.migrate()

    def level(durable: bool) -> int:
        with storage.borrowed(), storage.write(durable=durable) as db:
            return db.execute("PRAGMA synchronous").fetchone()[0]

    assert in_thread(lambda: level(False)) == 1  # NORMAL
    assert in_thread(lambda: level(True)) == 2   # FULL, on the same pooled connection
    assert in_thread(lambda: level(True)) == 2
    assert in_thread(lambda: level(False)) == 1

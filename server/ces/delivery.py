"""Getting prompts onto screens, in whichever process holds the user's sockets.

The database is the source of truth; a doorbell (bus.py) only says "look at user U of site S".
`reconcile` is the one step every path takes: read U's due prompts, send each tab those it does
not have, tell each tab which of the prompts it has were closed since. It is idempotent, so the
three things that call it can overlap freely:
- a doorbell, rung after a decision, an answer or a dismissal commits (any process);
- the sweep, every `SWEEP_INTERVAL` seconds, for every user this process holds: a doorbell lost
  (Redis down, a blip) delays a prompt by at most that interval, never loses it;
- a widget connecting or identifying (`deliver_pending`).
A tab gets a prompt once (`Connection.send_prompt`); a new socket of the same tab gets it again,
and the widget ignores a prompt id it has.

Delayed prompts: the due time is stored. The process that decided one times it, and every
process times those falling due before its next sweep (so also after every process restarted);
when the time comes each tries to claim it in the database (`claim_delayed`) and the one that
wins rings the doorbell. The sweep claims those whose time passed with nobody to ring them.
"""
from __future__ import annotations

import heapq
import logging
import os
import socket
import threading
import time
from collections import defaultdict
from typing import Any, Callable, Iterable, Sequence

from .bus import Bus, LocalBus
from .core import protocol
from .core.prompt_message import prompt_message as build_prompt_message
from .hub import Connection
from .services import Services
from .storage import presence
from .storage.prompt_delivery import (claim_delayed, claim_overdue, closed_among, due_prompts, mark_delivered,
                                      upcoming_delayed, users_with_open_prompts)

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 2.0  # seconds (CES_SWEEP_INTERVAL): the most a lost doorbell delays a prompt
SWEEP_SLICE = 200     # users reconciled per query at a sweep (the loop runs others in between)
PRESENCE_TICK = 1.0   # seconds: how stale another process's socket count may be
PRESENCE_REFRESH = 5.0  # seconds: an unchanged count is written again this often (liveness)


def prompt_message(services: Services, prompt: dict[str, Any], survey: dict[str, Any],
                   conn_locale: str | None) -> dict[str, Any]:
    traits = services.storage.traits(prompt["site_id"], prompt["user_id"])
    return build_prompt_message(prompt["id"], survey, [conn_locale, traits.get("locale")], prompt["expires_at"])


def reconcile(services: Services, site_id: int, users: dict[str, list[Connection]]) -> int:
    """Bring these users' open sockets (all of one site, held here) in line with the database; the
    number of prompts sent."""
    storage, now = services.storage, services.now()
    due = due_prompts(storage, site_id, users, now)
    surveys: dict[int, dict[str, Any] | None] = {}
    delivered: list[str] = []
    for prompt in due:
        for conn in users.get(prompt["user_id"], ()):
            if conn.sent is not None and prompt["id"] in conn.sent:
                continue
            if prompt["survey_id"] not in surveys:
                surveys[prompt["survey_id"]] = storage.get_survey(prompt["survey_id"])
            survey = surveys[prompt["survey_id"]]
            if survey is not None and conn.send_prompt(prompt["id"], prompt_message(services, prompt, survey,
                                                                                    conn.locale)):
                delivered.append(prompt["id"])
    if delivered:
        mark_delivered(storage, sorted(set(delivered)), now)
    open_ids = {p["id"] for p in due}
    shown = {prompt_id for conns in users.values() for conn in conns for prompt_id in (conn.sent or ())} - open_ids
    if shown:
        closed = closed_among(storage, shown, now)
        for conns in users.values():
            for conn in conns:
                for prompt_id in [p for p in (conn.sent or ()) if p in closed]:
                    if conn.forget(prompt_id):
                        conn.send(protocol.close(prompt_id, closed[prompt_id]))
    return len(delivered)


def survey_screens_changed(services: Services, survey_id: int) -> None:
    """A survey was paused or resumed: its open prompts leave (or come back to) the tabs of their
    users on every process."""
    if services.courier is None:
        return
    for site_id, user_ids in users_with_open_prompts(services.storage, survey_id).items():
        for start in range(0, len(user_ids), 500):  # a doorbell stays a small message
            services.courier.ring(site_id, user_ids[start:start + 500])


class Scheduler:
    """Times delayed prompts: at the due time, claim it and ring its user's doorbell. One daemon
    thread, one heap; a prompt is timed once per process however often it is scheduled."""

    def __init__(self, services: Services, ring: Callable[[int, Sequence[str]], None]) -> None:
        self.services = services
        self._ring = ring
        self._heap: list[tuple[float, str]] = []
        self._timed: set[str] = set()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def schedule(self, due: float, prompt_id: str) -> None:
        with self._cv:
            if prompt_id in self._timed or self._stopped:
                return
            self._timed.add(prompt_id)
            heapq.heappush(self._heap, (due, prompt_id))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ces-scheduler", daemon=True)
                self._thread.start()
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()

    def _next_due(self) -> str | None:
        """Wait for the earliest prompt to fall due; its id, or None when stopped."""
        with self._cv:
            while not self._stopped:
                if not self._heap:
                    self._cv.wait()
                    continue
                due, prompt_id = self._heap[0]
                wait = due - self.services.now()
                if wait <= 0:
                    heapq.heappop(self._heap)
                    self._timed.discard(prompt_id)
                    return prompt_id
                self._cv.wait(timeout=min(wait, 1.0))
            return None

    def _run(self) -> None:
        while (prompt_id := self._next_due()) is not None:
            try:
                with self.services.storage.borrowed():
                    won = claim_delayed(self.services.storage, prompt_id, self.services.now())
                if won is not None:
                    self._ring(won[0], [won[1]])
            except Exception:  # one bad prompt must not stop the others; the sweep claims it later
                log.exception("ringing delayed prompt %s failed", prompt_id)


class DoorbellCourier:
    """The courier of services.Courier: doorbells through `bus`, a sweep, a scheduler."""

    def __init__(self, services: Services, bus: Bus | None = None, sweep_interval: float = SWEEP_INTERVAL) -> None:
        self.services = services
        self.bus = bus or LocalBus()
        self.sweep_interval = sweep_interval
        self.scheduler = Scheduler(services, self._ring)
        self._stopped = threading.Event()
        self._sweeper: threading.Thread | None = None
        self._host, self._pid = socket.gethostname(), os.getpid()
        self.swept = 0  # prompts the sweep sent because no doorbell had brought them (/healthz)
        self._presence: tuple[int, dict[int, int], float] = (-1, {}, 0.0)  # (count, per site, when written)

    def start(self) -> "DoorbellCourier":
        self.bus.start(self._on_doorbell)
        self._sweeper = threading.Thread(target=self._sweep_loop, name="ces-sweep", daemon=True)
        self._sweeper.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.scheduler.stop()
        self.bus.stop()
        try:
            presence.forget(self.services.storage, self.services.process_id)
        except Exception:  # stopping: the row ages out by itself
            pass

    # -- services.Courier ------------------------------------------------------------------------
    def prompts_issued(self, site_id: int, issued: Sequence[tuple[str, str, float]]) -> None:
        now = self.services.now()
        due = []
        for prompt_id, user_id, deliver_after in issued:
            if deliver_after > now:
                self.scheduler.schedule(deliver_after, prompt_id)
            else:
                due.append(user_id)
        if due:
            self._ring(site_id, due)

    def prompts_closed(self, site_id: int, user_id: str, prompt_ids: Sequence[str],
                       by: Connection | None = None) -> None:
        if by is not None:
            for prompt_id in prompt_ids:
                by.forget(prompt_id)  # the tab that closed it knows
        self._ring(site_id, [user_id])

    def ring(self, site_id: int, user_ids: Sequence[str]) -> None:
        self._ring(site_id, user_ids)

    def deliver_pending(self, conn: Connection) -> int:
        site_id, user_id = conn.key  # type: ignore[misc]
        return reconcile(self.services, site_id, {user_id: [conn]})

    # -- doorbells --------------------------------------------------------------------------------
    def _ring(self, site_id: int, user_ids: Iterable[str]) -> None:
        self.bus.ring(site_id, list(dict.fromkeys(user_ids)))

    def _on_doorbell(self, site_id: int, user_ids: Sequence[str]) -> None:
        held = {}
        for user_id in user_ids:
            conns = self.services.hub.connections(site_id, user_id)
            if conns:
                held[user_id] = conns
        if held:
            with self.services.storage.borrowed():
                reconcile(self.services, site_id, held)

    # -- the sweep ----------------------------------------------------------------------------------
    def sweep(self) -> int:
        """One pass: this process's presence, overdue delayed prompts, every held user reconciled,
        the delayed prompts falling due before the next pass timed. Prompts sent."""
        services, storage = self.services, self.services.storage
        self.heartbeat(force=True)
        now = services.now()
        for site_id, user_id in claim_overdue(storage, now):
            self._ring(site_id, [user_id])
        by_site: dict[int, dict[str, list[Connection]]] = defaultdict(dict)
        for (site_id, user_id), conns in services.hub.users().items():
            by_site[site_id][user_id] = conns
        sent = 0
        for site_id, users in by_site.items():
            held = list(users.items())
            for start in range(0, len(held), SWEEP_SLICE):
                swept = reconcile(services, site_id, dict(held[start:start + SWEEP_SLICE]))
                sent, self.swept = sent + swept, self.swept + swept
                time.sleep(0)  # under the event loop, let the sockets' greenlets run between slices
        for due, prompt_id in upcoming_delayed(storage, now, now + 2 * self.sweep_interval):
            self.scheduler.schedule(due, prompt_id)
        return sent

    def heartbeat(self, force: bool = False) -> None:
        """This process's presence row: written when its socket count changed, else every few seconds."""
        by_site, at = self.services.hub.count_by_site(), time.time()
        count = sum(by_site.values())  # every socket in the hub is one site's
        written_count, written_sites, written_at = self._presence
        if force or count != written_count or by_site != written_sites or at - written_at >= PRESENCE_REFRESH:
            presence.heartbeat(self.services.storage, self.services.process_id, self._host, self._pid, count, at,
                               by_site)
            self._presence = (count, by_site, at)

    def _sweep_loop(self) -> None:
        failing = False
        next_sweep = 0.0  # a first pass at once: presence, what fell due while every process was down
        while not self._stopped.is_set():
            try:
                with self.services.storage.borrowed():
                    if time.monotonic() >= next_sweep:
                        next_sweep = time.monotonic() + self.sweep_interval
                        if self.sweep():
                            log.info("the sweep sent prompts that no doorbell brought (%d so far)", self.swept)
                    else:
                        self.heartbeat()
                failing = False
            except Exception:
                if not failing:  # logged once until a pass succeeds again
                    log.exception("the sweep failed; retrying every %.1f s", self.sweep_interval)
                failing = True
            self._stopped.wait(max(0.05, min(PRESENCE_TICK, next_sweep - time.monotonic())))

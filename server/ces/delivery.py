"""Getting prompts onto screens: pushed to every open tab the moment they are due, or kept until
the user connects. Prompts with a delay are held by a small scheduler thread, which reads the
delayed prompts already stored when the server starts: a restart before they fall due loses none."""
from __future__ import annotations

import heapq
import logging
import threading
from typing import Any

from .core.prompt_message import prompt_message as build_prompt_message
from .hub import Connection
from .services import Services

log = logging.getLogger(__name__)


def prompt_message(services: Services, prompt: dict[str, Any], survey: dict[str, Any],
                   conn_locale: str | None) -> dict[str, Any]:
    traits = services.storage.traits(prompt["site_id"], prompt["user_id"])
    return build_prompt_message(prompt["id"], survey, [conn_locale, traits.get("locale")], prompt["expires_at"])


def push_prompt(services: Services, prompt_id: str) -> int:
    """Send a due prompt to every open socket of its user; how many sockets took it."""
    storage = services.storage
    prompt = storage.get_prompt(prompt_id)
    if prompt is None or prompt["status"] not in ("issued", "delivered"):
        return 0
    survey = storage.get_survey(prompt["survey_id"])
    sent = 0
    for conn in services.hub.connections(prompt["site_id"], prompt["user_id"]):
        if conn.send(prompt_message(services, prompt, survey, conn.locale)):  # type: ignore[arg-type]
            sent += 1
    if sent:
        storage.mark_delivered([prompt_id], services.now())
    return sent


def deliver_pending(services: Services, conn: Connection) -> int:
    """On connect (or identify): every prompt that waited for this user."""
    site_id, user_id = conn.key  # type: ignore[misc]
    storage = services.storage
    delivered = []
    for prompt in storage.deliverable_prompts(site_id, user_id, services.now()):
        survey = storage.get_survey(prompt["survey_id"])
        if conn.send(prompt_message(services, prompt, survey, conn.locale)):  # type: ignore[arg-type]
            delivered.append(prompt["id"])
    storage.mark_delivered(delivered, services.now())
    return len(delivered)


class Scheduler:
    """Pushes delayed prompts when they become due. One daemon thread, one heap."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._heap: list[tuple[float, str]] = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def resume(self) -> int:
        """Schedule the delayed prompts that the database holds (a restart); how many."""
        pending = self.services.storage.delayed_prompts(self.services.now())
        for due, prompt_id in pending:
            self.schedule(due, prompt_id)
        return len(pending)

    def schedule(self, due: float, prompt_id: str) -> None:
        with self._cv:
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
                    return prompt_id
                self._cv.wait(timeout=min(wait, 1.0))
            return None

    def _run(self) -> None:
        while (prompt_id := self._next_due()) is not None:
            try:
                push_prompt(self.services, prompt_id)
            except Exception:  # one bad prompt must not stop the others
                log.exception("pushing delayed prompt %s failed", prompt_id)

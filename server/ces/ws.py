"""The widget's websocket (`/ws`): a thin adapter from protocol messages to the core and storage.

Every failure inside one message becomes an `error` message to that socket only; nothing a
client sends can take down another user's socket.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from flask import current_app, has_request_context, request
from flask_sock import Sock

from . import answering
from .core import origins, protocol
from .core.identity import ANONYMOUS_PREFIX, is_anonymous, verify
from .core.limits import check_object
from .delivery import deliver_pending
from .hub import Connection
from .ingest import ingest
from .rate_limits import spend_ws_event, spend_ws_message
from .services import Services

log = logging.getLogger(__name__)
sock = Sock()


class Quit(Exception):
    """Close this socket (after an error that makes it pointless to go on)."""


# Refusals after which the socket is closed; origin_not_allowed also says why in the close frame
# (1008, policy violation), for a developer reading the browser's network panel.
QUIT_CODES = ("unknown_site", "bad_user_hash", "origin_not_allowed")


def page_origin() -> str | None:
    """The `Origin` the browser sent with the upgrade (None from non-browser clients)."""
    return request.headers.get("Origin") if has_request_context() else None


class WidgetSession:
    def __init__(self, services: Services, conn: Connection, max_message: int) -> None:
        self.services = services
        self.conn = conn
        self.max_message = max_message

    def handle(self, raw: str | bytes) -> None:
        try:
            over = spend_ws_message(self.conn)  # every message counts, even one that does not parse
            msg = protocol.parse(raw, self.max_message)
            if over is not None:
                raise over.for_message(msg.ref)
            if msg.type != "hello" and self.conn.site is None:
                raise protocol.ProtocolError("not_identified", "Send 'hello' first.", ref=msg.ref)
            handler: Callable[[protocol.ClientMessage], None] = getattr(self, f"on_{msg.type}")
            try:
                handler(msg)
            except answering.Refused as refused:
                raise protocol.ProtocolError(refused.code, refused.message, refused.field, msg.ref) from None
        except protocol.ProtocolError as err:
            self.conn.send(err.to_message())
            if err.code in QUIT_CODES:
                if err.code == "origin_not_allowed":
                    _close(self.conn, 1008, "origin_not_allowed")
                raise Quit from None
        except Quit:
            raise
        except Exception:
            log.exception("websocket message failed")
            self.conn.send(protocol.error("internal", "Internal error; nothing was stored."))

    # -- session ---------------------------------------------------------------------------
    def _check_user(self, site: dict[str, Any], user: str, user_hash: str | None, ref: str | None) -> None:
        if site["identity_verification"] and not is_anonymous(user) and not verify(site["secret_key"], user, user_hash):
            raise protocol.ProtocolError("bad_user_hash", "This site verifies identity: user_hash is missing "
                                         "or wrong.", "user_hash", ref)

    def _join(self, user: str, msg: protocol.ClientMessage) -> None:
        """Become `user`: leave the hub under the old id, join under the new, get pending prompts."""
        self.services.hub.remove(self.conn)
        self.conn.user_id = user
        if msg.get("locale"):
            self.conn.locale = msg.get("locale")
        if msg.get("traits"):
            problem = check_object(msg.get("traits"))
            if problem:
                raise protocol.ProtocolError("bad_message", f"traits: {problem}", "traits", msg.ref)
            with self.services.storage.write() as db:
                self.services.storage.merge_traits(db, self.conn.site["id"], user, msg.get("traits"),  # type: ignore[index]
                                                   self.services.now())
        self.services.hub.add(self.conn)
        self.conn.send(protocol.welcome(user, self.conn.session))
        deliver_pending(self.services, self.conn)

    def on_hello(self, msg: protocol.ClientMessage) -> None:
        if self.conn.site is not None:
            raise protocol.ProtocolError("bad_message", "'hello' was already sent; use 'identify'.", "type", msg.ref)
        site = self.services.storage.site_by_key(msg.get("site"))
        if site is None:
            raise protocol.ProtocolError("unknown_site", "No site has this key.", "site", msg.ref)
        origin = page_origin()
        if not origins.allowed(origin, site.get("allowed_origins") or []):
            raise protocol.ProtocolError("origin_not_allowed", f"Pages of {origin[:100]!r} may not open this site's "  # type: ignore[index]
                                         "widget: add the origin to the site's allowed origins.", "origin", msg.ref)
        user = msg.get("user")
        if user is None:
            raise protocol.ProtocolError("bad_message", "'user' is required (an anonymous id is fine).", "user",
                                         msg.ref)
        if msg.get("anonymous") and not is_anonymous(user):
            raise protocol.ProtocolError("bad_message", f"Anonymous ids start with '{ANONYMOUS_PREFIX}'.", "user",
                                         msg.ref)
        self._check_user(site, user, msg.get("user_hash"), msg.ref)
        self.conn.site = site
        self._join(user, msg)

    def on_identify(self, msg: protocol.ClientMessage) -> None:
        self._check_user(self.conn.site, msg.get("user"), msg.get("user_hash"), msg.ref)  # type: ignore[arg-type]
        self._join(msg.get("user"), msg)

    def on_reset(self, msg: protocol.ClientMessage) -> None:
        if not is_anonymous(msg.get("user")):
            raise protocol.ProtocolError("bad_message", f"After reset the id must start with '{ANONYMOUS_PREFIX}'.",
                                         "user", msg.ref)
        self._join(msg.get("user"), msg)

    # -- events ------------------------------------------------------------------------------
    def on_event(self, msg: protocol.ClientMessage) -> None:
        properties = msg.get("properties") or {}
        problem = check_object(properties)
        if problem:
            raise protocol.ProtocolError("bad_message", f"properties: {problem}", "properties", msg.ref)
        spend_ws_event(self.conn, msg.ref)  # before anything is stored: a flood cannot fill the database
        event = {"user_id": self.conn.user_id, "name": msg.get("name"), "properties": properties,
                 "event_id": msg.get("event_id")}
        result = ingest(self.services, self.conn.site, [event], source="widget")[0]  # type: ignore[arg-type]
        self.conn.send(protocol.ack(msg.ref, **result))

    # -- prompts ------------------------------------------------------------------------------
    def _ids(self) -> tuple[int, str]:
        return self.conn.site["id"], self.conn.user_id  # type: ignore[index,return-value]

    def on_shown(self, msg: protocol.ClientMessage) -> None:
        status = answering.shown(self.services, *self._ids(), msg.get("prompt"), self.conn.locale)
        self.conn.send(protocol.ack(msg.ref, prompt=msg.get("prompt"), status=status))

    def on_answer(self, msg: protocol.ClientMessage) -> None:
        prompt_id = msg.get("prompt")
        status = answering.answer(self.services, *self._ids(), prompt_id, msg.get("score"), msg.get("comment"))
        self.conn.send(protocol.ack(msg.ref, prompt=prompt_id, status=status))  # after the commit
        self.services.hub.send_to_user(*self._ids(), protocol.close(prompt_id, "answered"), exclude=self.conn)

    def on_comment(self, msg: protocol.ClientMessage) -> None:
        status = answering.add_comment(self.services, *self._ids(), msg.get("prompt"), msg.get("comment"))
        self.conn.send(protocol.ack(msg.ref, prompt=msg.get("prompt"), status=status))

    def on_dismiss(self, msg: protocol.ClientMessage) -> None:
        prompt_id = msg.get("prompt")
        status = answering.dismiss(self.services, *self._ids(), prompt_id)
        self.conn.send(protocol.ack(msg.ref, prompt=prompt_id, status=status))
        self.services.hub.send_to_user(*self._ids(), protocol.close(prompt_id, "dismissed"), exclude=self.conn)


def _close(conn: Connection, code: int, reason: str) -> None:
    """Close with a code and reason; not yet in the hub, so no other thread sends on it."""
    conn.alive = False
    try:
        conn.ws.close(reason=code, message=reason)  # type: ignore[attr-defined]
    except Exception:  # already gone
        pass


@sock.route("/ws")
def widget_socket(ws: Any) -> None:
    services: Services = current_app.extensions["ces"]
    conn = Connection(ws)
    session = WidgetSession(services, conn, current_app.config["WS_MAX_MESSAGE"])
    try:
        while conn.alive:
            raw = ws.receive(timeout=30)
            if raw is None:
                continue
            # An idle socket holds no SQLite connection (2 file descriptors): with thousands of
            # sockets those, not the sockets, would exhaust the open-file limit.
            with services.storage.borrowed():
                session.handle(raw)
    except Quit:
        pass
    finally:
        services.hub.remove(conn)
        services.storage.close()

"""The widget's websocket (`/ws`): a thin adapter from protocol messages to the core and storage.

Every failure inside one message becomes an `error` message to that socket only; nothing a
client sends can take down another user's socket.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from flask import current_app, has_request_context, request
from flask_sock import Sock

from . import answering
from .core import origins, protocol
from .core.identity import ANONYMOUS_PREFIX, is_anonymous, keys_in_force, verify
from .core.limits import check_object
from .hub import Connection
from .ingest import ingest
from .rate_limits import spend_ws_event, spend_ws_message
from .services import Services
from .storage.visits import touch_visit

log = logging.getLogger(__name__)
sock = Sock()
POLICY_VIOLATION = 1008


class Quit(Exception):
    """Close this socket (after an error that makes it pointless to go on)."""


# Refusals after which the socket is closed: a normal close after the error message, or 1008
# (policy violation) with the code as the reason for the policies a page runs into.
QUIT_CODES = ("unknown_site", "bad_user_hash", "origin_not_allowed", "too_many_sockets")
POLICY_CLOSES = ("origin_not_allowed", "too_many_sockets")


def page_origin() -> str | None:
    """The `Origin` the browser sent with the upgrade (None from non-browser clients)."""
    return request.headers.get("Origin") if has_request_context() else None


class WidgetSession:
    def __init__(self, services: Services, conn: Connection, max_message: int) -> None:
        self.services = services
        self.conn = conn
        self.max_message = max_message
        self.user_hash: str | None = None  # as given with the current user, checked again if the site changes
        self.visit: str | None = None  # the tab's visit id, from hello (core/visits.py)
        self.first = True  # no message received yet

    def handle(self, raw: str | bytes) -> None:
        ref: str | None = None  # the message's id, for every reply, `internal` included
        try:
            first, self.first = self.first, False
            try:
                msg = protocol.parse(raw, self.max_message)
            except protocol.ProtocolError:
                spend_ws_message(self.conn)  # a message that does not parse counts too
                raise
            ref = msg.ref
            # Every message counts but a socket's opening hello: an idle widget then holds no
            # counter at all (~5 KB a socket, with 20,000 open).
            over = None if first and msg.type == "hello" else spend_ws_message(self.conn)
            if over is not None:
                raise over.for_message(msg.ref)
            if msg.type != "hello" and self.conn.site is None:
                raise protocol.ProtocolError("not_identified", "Send 'hello' first.", ref=msg.ref)
            if msg.type != "hello":
                self._refresh_site(msg.ref, check_user=msg.type not in ("identify", "reset"))
            handler: Callable[[protocol.ClientMessage], None] = getattr(self, f"on_{msg.type}")
            try:
                handler(msg)
            except answering.Refused as refused:
                raise protocol.ProtocolError(refused.code, refused.message, refused.field, msg.ref) from None
        except protocol.ProtocolError as err:
            self.conn.send(err.to_message())
            if err.code in QUIT_CODES:
                if err.code in POLICY_CLOSES:  # the code as the reason, for the browser's network panel
                    self.conn.close(POLICY_VIOLATION, err.code)
                raise Quit from None
        except Quit:
            raise
        except Exception:
            log.exception("websocket message failed")
            self.conn.send(protocol.error("internal", "Internal error; nothing was stored.", ref=ref))

    # -- session ---------------------------------------------------------------------------
    def _refresh_site(self, ref: str | None, check_user: bool) -> None:
        """The site as it is now (identity verification turned on, a key rotated apply to this very
        message); a user this socket can no longer prove is refused."""
        site = self.services.storage.get_site(self.conn.site["id"])  # type: ignore[index]
        if site is not None:
            self.conn.site = self.services.hub.shared_site(site)
            if check_user and self.conn.user_id is not None:
                self._check_user(site, self.conn.user_id, self.user_hash, ref)

    def _check_user(self, site: dict[str, Any], user: str, user_hash: str | None, ref: str | None) -> None:
        if site["identity_verification"] and not is_anonymous(user) and \
                not verify(keys_in_force(site, self.services.now()), user, user_hash):
            raise protocol.ProtocolError("bad_user_hash", "This site verifies identity: user_hash is missing "
                                         "or wrong.", "user_hash", ref)

    def _join(self, user: str, msg: protocol.ClientMessage) -> None:
        """Become `user`: leave the hub under the old id, join under the new, get pending prompts."""
        self.services.hub.remove(self.conn)
        if user != self.conn.user_id:
            self.conn.sent = None  # another user's prompts: none of them is on screen
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
        if not self.services.hub.add(self.conn, current_app.config["WS_MAX_PER_USER"]):
            raise protocol.ProtocolError("too_many_sockets", "This user has too many widgets open; close one.",
                                         "user", msg.ref)
        if self.visit:
            touch_visit(self.services.storage, self.conn.site["id"], user, self.visit, self.services.now())  # type: ignore[index]
        self.conn.send(protocol.welcome(user, self.conn.session))
        if self.services.courier is not None:
            self.services.courier.deliver_pending(self.conn)

    def on_hello(self, msg: protocol.ClientMessage) -> None:
        if self.conn.site is not None:
            raise protocol.ProtocolError("bad_message", "'hello' was already sent; use 'identify'.", "type", msg.ref)
        site = self.services.storage.site_by_key(msg.get("site"))
        if site is None:
            raise protocol.ProtocolError("unknown_site", "No site has this key.", "site", msg.ref)
        origin = page_origin()
        if not origins.allowed(origin, site.get("allowed_origins") or []):
            advice = ("a page of the opaque origin 'null' (a sandboxed frame, a file:// page) never may"
                      if (origin or "").strip().lower() == "null" else "add the origin to the site's allowed origins")
            raise protocol.ProtocolError("origin_not_allowed", f"Pages of {origin[:100]!r} may not open this site's "  # type: ignore[index]
                                         f"widget: {advice}.", "origin", msg.ref)
        user = msg.get("user")
        if user is None:
            raise protocol.ProtocolError("bad_message", "'user' is required (an anonymous id is fine).", "user",
                                         msg.ref)
        if msg.get("anonymous") and not is_anonymous(user):
            raise protocol.ProtocolError("bad_message", f"Anonymous ids start with '{ANONYMOUS_PREFIX}'.", "user",
                                         msg.ref)
        self._check_user(site, user, msg.get("user_hash"), msg.ref)
        self.visit = msg.get("visit")
        self.conn.site, self.user_hash = self.services.hub.shared_site(site), msg.get("user_hash")
        self._join(user, msg)

    def on_identify(self, msg: protocol.ClientMessage) -> None:
        self._check_user(self.conn.site, msg.get("user"), msg.get("user_hash"), msg.ref)  # type: ignore[arg-type]
        self.user_hash = msg.get("user_hash")
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
        self.visit = msg.get("visit") or self.visit  # the tab starts a new visit after 30 idle minutes
        if self.visit:  # activity keeps the visit going
            touch_visit(self.services.storage, self.conn.site["id"], self.conn.user_id, self.visit,  # type: ignore[index,arg-type]
                        self.services.now())
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
        self._closed(prompt_id, status)

    def on_comment(self, msg: protocol.ClientMessage) -> None:
        status = answering.add_comment(self.services, *self._ids(), msg.get("prompt"), msg.get("comment"))
        self.conn.send(protocol.ack(msg.ref, prompt=msg.get("prompt"), status=status))

    def on_dismiss(self, msg: protocol.ClientMessage) -> None:
        prompt_id = msg.get("prompt")
        status = answering.dismiss(self.services, *self._ids(), prompt_id)
        self.conn.send(protocol.ack(msg.ref, prompt=prompt_id, status=status))
        self._closed(prompt_id, status)

    def _closed(self, prompt_id: str, status: str) -> None:
        """Off the user's other tabs, on every process (a re-sent answer closes nothing new)."""
        if status != "duplicate" and self.services.courier is not None:
            self.services.courier.prompts_closed(*self._ids(), [prompt_id], by=self.conn)


def without_compression(wsgi_app: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse permessage-deflate on websockets (the handshake simply does not accept it).

    simple-websocket accepts every extension the client offers, and Chromium offers compression:
    zlib's state for both directions costs ~130 KB per socket, held for the socket's life, to
    compress messages of a few hundred bytes that compression hardly shortens
    (bench/bench_sockets.py: 133-208 KB per idle socket with it, 40 without).
    """
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi_app(environ, start_response)
    return app


@sock.route("/ws")
def widget_socket(ws: Any) -> None:
    services: Services = current_app.extensions["ces"]
    config = current_app.config
    conn = Connection(ws, request.remote_addr)
    if not services.hub.accept(conn, config["WS_MAX_PER_ADDRESS"]):
        conn.send(protocol.error("too_many_sockets", "Too many sockets from this address."))
        conn.close(POLICY_VIOLATION, "Too many sockets from this address")
        return
    session = WidgetSession(services, conn, config["WS_MAX_MESSAGE"])
    hello_by = time.monotonic() + config["WS_HELLO_TIMEOUT"]
    try:
        while conn.alive:
            # Until 'hello' the socket has a deadline: an upgraded socket that never says who it
            # is would otherwise be held for ever. After it, an idle widget waits as long as it
            # answers the pings (simple-websocket closes a socket whose pong does not come).
            raw = ws.receive(timeout=None if conn.site is not None else max(0.0, hello_by - time.monotonic()))
            if raw is None:
                if conn.site is None:
                    conn.send(protocol.error("hello_timeout", "Send 'hello' within "
                                             f"{config['WS_HELLO_TIMEOUT']} s of connecting."))
                    conn.close(POLICY_VIOLATION, "No hello")
                continue
            # An idle socket holds no SQLite connection: with thousands of sockets those, not the
            # sockets, would exhaust the open-file limit.
            with services.storage.borrowed():
                session.handle(raw)
    except Quit:
        pass
    finally:
        services.hub.release(conn)
        services.storage.close()

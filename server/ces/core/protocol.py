"""The widget protocol's messages (docs/protocol.md): parsing what clients send, building what
the server sends. Pure: no sockets here, so every rule is unit-tested directly."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .texts import ui_strings
from . import json_input
from .finite import finite

MAX_COMMENT = 2000
MAX_ID = 64

# type -> field -> (python type, required, max length for strings)
_FIELDS: dict[str, dict[str, tuple[type, bool, int | None]]] = {
    "hello": {"site": (str, True, 128), "user": (str, False, 256), "user_hash": (str, False, 128),
              "anonymous": (bool, False, None), "locale": (str, False, 35), "traits": (dict, False, None),
              "visit": (str, False, 64)},
    "identify": {"user": (str, True, 256), "user_hash": (str, False, 128), "traits": (dict, False, None),
                 "locale": (str, False, 35)},
    "reset": {"user": (str, True, 256)},
    "event": {"name": (str, True, 128), "properties": (dict, False, None), "event_id": (str, False, 128),
              "visit": (str, False, 64)},
    "shown": {"prompt": (str, True, 64)},
    "dismiss": {"prompt": (str, True, 64)},
    "answer": {"prompt": (str, True, 64), "score": (int, True, None), "comment": (str, False, MAX_COMMENT)},
    "comment": {"prompt": (str, True, 64), "comment": (str, True, MAX_COMMENT)},
}


class ProtocolError(Exception):
    """A client message we refuse; becomes an `error` message."""

    def __init__(self, code: str, message: str, field: str | None = None, ref: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field, self.ref = code, message, field, ref

    def to_message(self) -> dict[str, Any]:
        return error(self.code, self.message, ref=self.ref, field=self.field)


@dataclass(frozen=True)
class ClientMessage:
    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


def parse(raw: str | bytes, max_size: int = 16 * 1024) -> ClientMessage:
    """One client message, validated; ProtocolError names the problem and the field."""
    if len(raw) > max_size:
        raise ProtocolError("too_large", f"Message is over {max_size} bytes.")
    try:
        data = json_input.loads(raw)
    except json_input.JsonRefused as refused:
        if refused.kind == "syntax":
            raise ProtocolError("bad_json", f"Message is not valid JSON: {refused.message}") from None
        where = refused.where()
        raise ProtocolError("bad_message", f"'{where}': {refused.message}" if where else refused.message,
                            where or None, _ref_of(refused.value) if where != "id" else None) from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "Message must be a JSON object.")
    ref = data.get("id")
    if ref is not None and (not isinstance(ref, str) or len(ref) > MAX_ID):
        raise ProtocolError("bad_message", f"'id' must be a string of at most {MAX_ID} characters.", "id")
    kind = data.get("type")
    if type(kind) is not str or kind not in _FIELDS:  # a list or an object is not even hashable
        if kind is None:
            problem = "'type' is required."
        elif type(kind) is str:
            problem = f"Unknown message type {kind[:40]!r}."
        else:
            problem = f"'type' must be a string, one of {', '.join(_FIELDS)}."
        raise ProtocolError("bad_message", problem, "type", ref)
    return ClientMessage(kind, _check_fields(kind, data, ref), ref)


def _ref_of(data: Any) -> str | None:
    """The message's `id` when it is a usable one (to answer a refusal with its `ref`)."""
    ref = data.get("id") if isinstance(data, dict) else None
    ok = isinstance(ref, str) and len(ref) <= MAX_ID and json_input.text_problem(ref) is None
    return ref if ok else None


def _check_fields(kind: str, data: Mapping[str, Any], ref: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (typ, required, max_len) in _FIELDS[kind].items():
        value = data.get(name)
        if value is None:
            if required:
                raise ProtocolError("bad_message", f"'{name}' is required.", name, ref)
            continue
        # bool is a subclass of int: a score of true is not a score.
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            raise ProtocolError("bad_message", f"'{name}' must be of type {typ.__name__}.", name, ref)
        if max_len is not None and typ is str:
            if not value.strip():
                raise ProtocolError("bad_message", f"'{name}' must not be empty.", name, ref)
            if len(value) > max_len:
                raise ProtocolError("bad_message", f"'{name}' is longer than {max_len} characters.", name, ref)
        out[name] = value
    return out


# -- server messages -------------------------------------------------------------------------

def welcome(user: str, session: str) -> dict[str, Any]:
    return {"type": "welcome", "user": user, "session": session}


def prompt(prompt_id: str, survey: Mapping[str, Any], texts: Mapping[str, Any], locale: str,
           metric_min: int, metric_max: int, expires_at: float, ui: list[str] | None = None) -> dict[str, Any]:
    """`ui`: the widget's strings [close, send, skip, thanks] (texts.ui_strings), in the user's language."""
    followup = None
    if texts.get("followup"):
        followup = {"question": texts["followup"], "max_score": survey.get("followup_max_score")}
    return {
        "type": "prompt",
        "prompt": {
            "id": prompt_id,
            "expires_at": expires_at,
            "survey": {
                "id": survey["id"], "metric": survey["metric"], "min": metric_min, "max": metric_max,
                "question": texts["question"], "low_label": texts["low_label"],
                "high_label": texts["high_label"], "labels": texts["labels"], "followup": followup,
                "ui": ui if ui is not None else ui_strings(locale, texts.get("thanks")),
                # finite(): an appearance an older version stored with NaN would make the whole
                # message invalid JSON for the widget (JSON.parse refuses NaN), and the prompt lost.
                "locale": locale, "appearance": finite(survey.get("appearance") or {}),
            },
        },
    }


def ack(ref: str | None, **extra: Any) -> dict[str, Any]:
    return {"type": "ack", "ref": ref, **extra}


def close(prompt_id: str, reason: str) -> dict[str, Any]:
    return {"type": "close", "prompt": prompt_id, "reason": reason}


def error(code: str, message: str, ref: str | None = None, field: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "error", "code": code, "message": message, "ref": ref}
    if field:
        out["field"] = field
    return out

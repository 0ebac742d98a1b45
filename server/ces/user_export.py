"""One user's data as one JSON document (`GET /api/v1/users/<id>/export`, `ces user export`).

Every field is described in docs/privacy.md; the document holds every row `erase` deletes.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from .storage import Storage
from .storage.erasure import export_rows

FORMAT = "ces.user-export/1"


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _times(row: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: (iso(v) if k in names else v) for k, v in row.items()}


def export_document(storage: Storage, site: Mapping[str, Any], user_id: str, now: float) -> dict[str, Any]:
    """The document; erasure.NotFound when nothing is stored about the user."""
    raw = export_rows(storage, site["id"], user_id)
    user = raw["user"][0] if raw["user"] else None
    opt = raw["opt_out"]
    events = [{
        "id": e["id"], "event_id": e["event_id"], "name": e["name"], "source": e["source"],
        "properties": e["properties"], "timestamp": iso(e["timestamp"]), "received_at": iso(e["received_at"]),
        "decision": {"decision": e["decision"], "reason": e["reason"], "detail": e["detail"],
                     "trigger_id": e["trigger_id"], "prompt_id": e["prompt_id"]},
    } for e in raw["events"]]
    prompts = [{
        "id": p["id"], "survey_id": p["survey_id"], "trigger_id": p["trigger_id"], "event_row": p["event_row"],
        "status": p["status"], "locale": p["locale"], "variant": p["variant"], "transaction": p["transaction"],
        **{k: iso(p[k]) for k in ("created_at", "deliver_after", "expires_at", "delivered_at", "shown_at",
                                  "closed_at")},
    } for p in raw["prompts"]]
    answers = [{
        "id": a["id"], "prompt_id": a["prompt_id"], "survey_id": a["survey_id"], "score": a["score"],
        "comment": a["comment"], "created_at": iso(a["created_at"]), "followed_up_at": iso(a["followed_up_at"]),
    } for a in raw["answers"]]
    deliveries = [_times(d, ("created_at", "updated_at", "delivered_at")) for d in raw["webhook_deliveries"]]
    return {
        "format": FORMAT, "exported_at": iso(now),
        "site": {"id": site["id"], "name": site["name"], "site_key": site["site_key"]},
        "user_id": user_id,
        "traits": user["traits"] if user else None,
        "traits_updated_at": iso(user["updated_at"]) if user else None,
        "opt_out": {"opted_out_at": iso(opt[0]), "source": opt[1]} if opt else None,
        "events": events, "prompts": prompts, "answers": answers, "webhook_deliveries": deliveries,
    }

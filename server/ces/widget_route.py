"""`GET /widget.js`: the widget, compressed when the browser accepts it, cached by ETag.

The file is read and compressed once per process (and again only when it changes on disk), so
serving it costs a dictionary lookup.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import brotli
from flask import Blueprint, Response, current_app, request

bp = Blueprint("widget", __name__)

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"


@dataclass(frozen=True)
class Bundle:
    mtime: float
    raw: bytes
    gzip: bytes
    br: bytes
    etag: str


_cache: dict[Path, Bundle] = {}


def widget_path() -> Path:
    configured = current_app.config.get("WIDGET_PATH")
    if configured:
        return Path(configured)
    built = WIDGET_DIR / "dist" / "ces.min.js"
    return built if built.exists() else WIDGET_DIR / "ces.js"


def load_bundle(path: Path) -> Bundle:
    mtime = os.stat(path).st_mtime
    cached = _cache.get(path)
    if cached is None or cached.mtime != mtime:
        raw = path.read_bytes()
        cached = Bundle(mtime, raw, gzip.compress(raw, 9), brotli.compress(raw, quality=11),
                        '"' + hashlib.sha256(raw).hexdigest()[:20] + '"')
        _cache[path] = cached
    return cached


@bp.get("/widget.js")
def widget_js():
    bundle = load_bundle(widget_path())
    versioned = request.args.get("v") == bundle.etag.strip('"')
    headers = {
        "ETag": bundle.etag,
        "Vary": "Accept-Encoding",
        # A versioned URL never changes; the plain one is revalidated cheaply with the ETag.
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "public, max-age=300",
        "Access-Control-Allow-Origin": "*",
    }
    if request.if_none_match.contains(bundle.etag.strip('"')):
        return Response(status=304, headers=headers)
    accepted = request.accept_encodings
    if accepted["br"]:
        body, headers["Content-Encoding"] = bundle.br, "br"
    elif accepted["gzip"]:
        body, headers["Content-Encoding"] = bundle.gzip, "gzip"
    else:
        body = bundle.raw
    return Response(body, mimetype="application/javascript", headers=headers)

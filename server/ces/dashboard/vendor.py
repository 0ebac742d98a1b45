"""The chart library (uPlot, from npm via .ci/setup) served by this server at /dashboard/vendor/.

Only the two files the pages use are reachable; nothing else of node_modules is served.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, send_file

UPLOT = Path(__file__).resolve().parents[3] / "chartlib" / "node_modules" / "uplot" / "dist"
FILES = {"uplot.min.js": ("uPlot.iife.min.js", "application/javascript"),
         "uplot.min.css": ("uPlot.min.css", "text/css")}


def vendor_file(name: str) -> Any:
    entry = FILES.get(name)
    if entry is None:
        abort(404)
    path = UPLOT / entry[0]
    if not path.is_file():
        return Response("/* uPlot is not installed: run `bash chartlib/install.sh` (needs npm). */\n",
                        status=503, mimetype=entry[1])
    response = send_file(path, mimetype=entry[1], max_age=7 * 86400)
    return response


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/vendor/<name>", "vendor", vendor_file)

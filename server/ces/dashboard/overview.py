"""The Overview page of a site: each survey's headline score, and what is happening now."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from .access import site_page


def _surveys(site: dict[str, Any]) -> list[dict[str, Any]]:
    rows, _ = current_app.extensions["ces"].storage.list_rows("surveys", {"site_id": site["id"]}, 200, 0)
    return rows


@site_page
def overview(site: dict[str, Any]) -> Any:
    return render_template("dashboard/overview.html", site=site, active="overview", surveys=_surveys(site))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/", "overview", overview)

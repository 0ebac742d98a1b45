"""The Settings page of a site: keys, identity verification, allowed origins, webhooks, tokens."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from .access import site_page


@site_page
def settings(site: dict[str, Any]) -> Any:
    return render_template("dashboard/settings.html", site=site, active="settings")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/settings", "settings", settings, methods=["GET"])

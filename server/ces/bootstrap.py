"""First run: a default site, a CES 2.0 survey and triggers, so the product works out of the box.

The same seed serves `ces serve`, the demo and the tests, so the demo is always a tested path.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from .core.texts import BUILTIN
from .storage import Storage

# The default survey's texts: CES 2.0's built-in wording in the five languages (core/texts.py).
DEFAULT_TEXTS = {lang: {k: t[k] for k in ("question", "low_label", "high_label", "followup")}
                 for lang, t in BUILTIN["ces7"].items()}


def seed_default_site(storage: Storage, now: float, environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Create the default site, survey and triggers when the database has no site yet.

    Returns the new site, or None when one existed already (keys are printed only once).
    """
    environ = os.environ if environ is None else environ
    with storage.setting_up():  # two servers started together on a new file seed it once
        return _seed(storage, now, environ)


def _seed(storage: Storage, now: float, environ: Mapping[str, str]) -> dict[str, Any] | None:
    if storage.first_site() is not None:
        return None
    site = storage.create_site("Default site", now, site_key=environ.get("CES_BOOTSTRAP_SITE_KEY") or None,
                               secret_key=environ.get("CES_BOOTSTRAP_SECRET_KEY") or None)
    # One survey on the default site: a survey wait on top of the 30-day recontact wait would only
    # make the demo's single survey ask less often than the policy's documented recontact wait.
    storage.set_site_settings(site["id"], {"fatigue": {"survey_wait": None}})
    site = storage.get_site(site["id"])
    survey = storage.create_survey(site["id"], now, name="Effort after checkout and support", metric="ces7",
                                   default_locale="en", texts=DEFAULT_TEXTS, followup_max_score=4,
                                   appearance={"placement": "bottom-right", "color": "#3b5bdb"})
    for event_name in ("checkout_completed", "ticket_closed"):
        storage.create_trigger(site["id"], now, name=f"Ask after {event_name}", event_name=event_name,
                               survey_id=survey["id"])
    return site


def script_tag(base_url: str, site_key: str) -> str:
    return (f'<script async src="{base_url.rstrip("/")}/widget.js" data-site="{site_key}" '
            'data-user="USER_ID" data-user-hash="HMAC"></script>')

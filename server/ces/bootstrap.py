"""First run: a default site, a CES 2.0 survey and triggers, so the product works out of the box.

The same seed serves `ces serve`, the demo and the tests, so the demo is always a tested path.
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Mapping

from .core import origins as origin_rules
from .core.texts import BUILTIN
from .storage import Storage
from .storage.sites import SiteStore

# The default survey's texts: CES 2.0's built-in wording in the five languages (core/texts.py).
DEFAULT_TEXTS = {lang: {k: t[k] for k in ("question", "low_label", "high_label", "followup")}
                 for lang, t in BUILTIN["ces7"].items()}


def own_origins(host: str, port: int) -> list[str]:
    """The origins of pages this server itself serves (the demo shop): http://HOST:PORT, and the
    loopback names a browser on this machine would use."""
    names = ["localhost", "127.0.0.1"]
    if host not in ("", "0.0.0.0", "::", "[::]"):  # a wildcard bind is no page's origin
        names.insert(0, f"[{host}]" if ":" in host and not host.startswith("[") else host)
    return origin_rules.clean(f"http://{name}:{port}" for name in names)


def allow_own_origins(storage: Storage, host: str, port: int) -> list[str]:
    """For `ces demo`: the first site (the demo shop's) allows the pages this server serves, also
    when an earlier run on another port or host made the database (its origins were that run's,
    and the demo would show no prompt). The origins added, [] when none were missing."""
    site = storage.first_site()
    if site is None:
        return []
    current = site["allowed_origins"]
    missing = [o for o in own_origins(host, port) if not origin_rules.allowed(o, current)]
    if missing:
        SiteStore(storage).update(site["id"], {"allowed_origins": [*current, *missing]})
    return missing


def bootstrap_origins(environ: Mapping[str, str]) -> list[str]:
    """CES_BOOTSTRAP_ORIGINS, comma-separated; ValueError naming the variable when one is not an origin."""
    entries = [e.strip() for e in environ.get("CES_BOOTSTRAP_ORIGINS", "").split(",") if e.strip()]
    problem = origin_rules.list_problem(entries)
    if problem:
        raise ValueError(f"CES_BOOTSTRAP_ORIGINS: {problem}")
    return entries


def seed_default_site(storage: Storage, now: float, environ: Mapping[str, str] | None = None,
                      origins: Iterable[str] = ()) -> dict[str, Any] | None:
    """Create the default site, survey and triggers when the database has no site yet.

    The site's allowed origins are `origins` (the server's own, from `ces serve`; "*" in the tests)
    plus CES_BOOTSTRAP_ORIGINS. Returns the new site, or None when one existed already (keys are
    printed only once).
    """
    environ = os.environ if environ is None else environ
    with storage.setting_up():  # two servers started together on a new file seed it once
        return _seed(storage, now, environ, origins)


def _seed(storage: Storage, now: float, environ: Mapping[str, str], origins: Iterable[str]) -> dict[str, Any] | None:
    if storage.first_site() is not None:
        return None
    allowed = origin_rules.clean([*origins, *bootstrap_origins(environ)])
    site = storage.create_site("Default site", now, site_key=environ.get("CES_BOOTSTRAP_SITE_KEY") or None,
                               secret_key=environ.get("CES_BOOTSTRAP_SECRET_KEY") or None,
                               allowed_origins=allowed)
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

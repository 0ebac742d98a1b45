"""`ces config export` / `ces config import`: surveys (with their texts), triggers, the fatigue
policy, webhooks and the site's settings in one readable YAML (or JSON) file, keyed by site key
and by `slug`, never by database id, so a team keeps it in a repository and promotes it between
environments.

An import reads and validates the whole file first, with the admin API's own schemas, and
changes nothing when anything in it is wrong. Then it plans (core/config_plan.py), prints the
plan, and unless it is a dry run applies it in one transaction. Secrets are never in the file: a
site or webhook the import creates gets new ones, printed once.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from marshmallow import ValidationError

from .api.admin import survey_json, trigger_json
from .api.admin_schemas import SLUG, SurveySchema, TriggerSchema
from .api.site_schemas import SiteSchema
from .api.webhooks import WebhookSchema
from . import rate_limits
from .core import webhook_signing
from .core.config_plan import Plan, diff_rows
from .core.fatigue import FatiguePolicy, SurveyQuota, validate_policy
from .core.retention import RetentionPolicy
from .core.retention import validate as validate_retention
from .retention import site_policy as retention_policy
from .rules_cache import policy_from_settings
from .storage import Storage
from .storage.config_rows import ConfigRows, SiteWrites

VERSION = 1
SITE_FIELDS = ("name", "identity_verification", "allowed_origins", "time_zone")
SURVEY_FIELDS = ("slug", "name", "metric", "default_locale", "texts", "followup_max_score", "appearance", "quota",
                 "status")
TRIGGER_FIELDS = ("slug", "name", "event_name", "survey", "conditions", "source", "sample_rate", "variants",
                  "delay_seconds", "ttl_seconds", "transaction_key", "priority", "status",
                  "occurrences", "cancel_events", "cancel_same_transaction")
WEBHOOK_FIELDS = ("url", "events", "high_effort_max", "description")
# Sections of a site's settings that the file carries beside `fatigue`. A file without one (e.g.
# written before it existed) leaves it as stored: importing an old file must not reset a
# retention policy or a site's limits to the defaults.
OPTIONAL_SETTINGS = ("retention", "limits")


class ConfigError(Exception):
    """The file is refused: every problem, each as `path: message`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --------------------------------------------------------------------------- export

def export(storage: Storage, site_key: str | None = None) -> dict[str, Any]:
    rows = ConfigRows(storage)
    sites = rows.sites(site_key)
    if site_key is not None and not sites:
        raise ConfigError([f"no site with key {site_key}"])
    return {"version": VERSION, "sites": [_site_form(rows, site) for site in sites]}


def _site_form(rows: ConfigRows, site: dict[str, Any]) -> dict[str, Any]:
    surveys = rows.rows("surveys", site["id"])
    slug_of = {s["id"]: s["slug"] for s in surveys}
    return {"key": site["site_key"], "name": site["name"], "identity_verification": bool(site["identity_verification"]),
            "allowed_origins": site.get("allowed_origins") or [], "time_zone": site.get("time_zone") or "UTC",
            "fatigue": policy_from_settings(site.get("settings")).as_dict(),
            "retention": retention_policy(site.get("settings")).as_dict(),
            "limits": dict(sorted(((site.get("settings") or {}).get("limits") or {}).items())),
            "surveys": [survey_form(s) for s in surveys],
            "triggers": [trigger_form(t, slug_of) for t in rows.rows("triggers", site["id"])],
            "webhooks": [{k: h[k] for k in WEBHOOK_FIELDS} for h in rows.webhooks(site["id"])]}


def survey_form(row: dict[str, Any]) -> dict[str, Any]:
    public = survey_json(row)
    return {k: public[k] for k in SURVEY_FIELDS}


def trigger_form(row: dict[str, Any], slug_of: dict[int, str]) -> dict[str, Any]:
    public = trigger_json(row)
    out = {k: public[k] for k in TRIGGER_FIELDS if k != "survey"}
    out = {**{k: out[k] for k in ("slug", "name", "event_name")}, "survey": slug_of.get(public["survey_id"]),
           **{k: out[k] for k in TRIGGER_FIELDS[4:]}}
    out["variants"] = [{"survey": slug_of.get(v["survey_id"]), "weight": v["weight"],
                        **({"label": v["label"]} if "label" in v else {})} for v in out["variants"]]
    return out


def dump(doc: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


# --------------------------------------------------------------------------- import: read and validate

@dataclass
class WantedSite:
    key: str
    site: dict[str, Any]
    fatigue: dict[str, Any]
    settings: dict[str, dict[str, Any]]    # OPTIONAL_SETTINGS the file has: section -> value
    surveys: dict[str, dict[str, Any]]     # slug -> file form
    stored_surveys: dict[str, dict[str, Any]]   # slug -> values as stored
    triggers: dict[str, dict[str, Any]]
    webhooks: dict[str, dict[str, Any]]


def parse(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"not valid YAML or JSON{where}: {getattr(err, 'problem', None) or err}"]) from None


def _messages(prefix: str, messages: Any) -> list[str]:
    """marshmallow's nested messages as `a.b.c: message` lines."""
    if isinstance(messages, dict):
        return [line for k, v in messages.items() for line in _messages(f"{prefix}.{k}" if prefix else str(k), v)]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {m}" for m in messages]
    if isinstance(messages, list):
        return [line for i, v in enumerate(messages) for line in _messages(f"{prefix}.{i}", v)]
    return [f"{prefix}: {messages}"]


def _list(entry: dict[str, Any], name: str, where: str, problems: list[str]) -> list[Any]:
    value = entry.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}.{name}: a list")
        return []
    return value


def validate(doc: Any) -> list[WantedSite]:
    """The file's sites in their file form and stored form; ConfigError naming every problem."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise ConfigError(["the file must hold a mapping with `version` and `sites`"])
    if doc.get("version") != VERSION:
        problems.append(f"version: must be {VERSION}")
    unknown = set(doc) - {"version", "sites"}
    if unknown:
        problems.append(f"{sorted(unknown)[0]}: unknown key (expected version, sites)")
    sites = doc.get("sites")
    if not isinstance(sites, list):
        raise ConfigError(problems + ["sites: a list of sites"])
    wanted, keys = [], set()
    for i, entry in enumerate(sites):
        site = _site(entry, f"sites.{i}", problems)
        if site is not None:
            if site.key in keys:
                problems.append(f"sites.{i}.key: site {site.key} is listed twice")
            keys.add(site.key)
            wanted.append(site)
    if problems:
        raise ConfigError(problems)
    return wanted


def _site(entry: Any, where: str, problems: list[str]) -> WantedSite | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: a mapping")
        return None
    unknown = set(entry) - {"key", *SITE_FIELDS, "fatigue", *OPTIONAL_SETTINGS, "surveys", "triggers", "webhooks"}
    for name in sorted(unknown):
        problems.append(f"{where}.{name}: unknown key")
    key = entry.get("key")
    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", key):
        problems.append(f"{where}.key: the site key, 1-64 letters, digits, '_' and '-'")
        key = ""
    site: dict[str, Any] = {}
    try:
        site = SiteSchema().load({k: entry[k] for k in SITE_FIELDS if k in entry})
    except ValidationError as err:
        problems += _messages(where, err.normalized_messages())
    fatigue = entry.get("fatigue") or {}
    errors = validate_policy(fatigue)
    if errors:
        problems += _messages(f"{where}.fatigue", errors)
        fatigue = {}
    settings = _optional_settings(entry, where, problems)
    surveys, stored = _surveys(_list(entry, "surveys", where, problems), where, problems)
    triggers = _triggers(_list(entry, "triggers", where, problems), where, set(surveys), problems)
    webhooks = _webhooks(_list(entry, "webhooks", where, problems), where, problems)
    return WantedSite(key, site, FatiguePolicy(**fatigue).as_dict() if not errors else {}, settings, surveys,
                      stored, triggers, webhooks)


def _optional_settings(entry: dict[str, Any], where: str, problems: list[str]) -> dict[str, dict[str, Any]]:
    """`retention` and `limits` as stored, validated as their API endpoints validate them."""
    found: dict[str, dict[str, Any]] = {}
    if "retention" in entry:
        errors = validate_retention(entry["retention"])
        if errors:
            problems += _messages(f"{where}.retention", errors)
        else:
            found["retention"] = RetentionPolicy(**entry["retention"]).as_dict()
    if "limits" in entry:
        limits = entry["limits"] if entry["limits"] is not None else {}
        errors = rate_limits.settings_problems(limits)
        if errors:
            problems += _messages(f"{where}.limits", errors)
        else:
            found["limits"] = dict(sorted((k, v) for k, v in limits.items() if v is not None))
    return found


def _slug(entry: dict[str, Any], where: str, seen: set[str], problems: list[str]) -> str | None:
    slug = entry.get("slug")
    if not isinstance(slug, str) or not re.fullmatch(SLUG, slug):
        problems.append(f"{where}.slug: required, 1-64 lowercase letters, digits and '-'")
        return None
    if slug in seen:
        problems.append(f"{where}.slug: {slug} is used twice")
        return None
    seen.add(slug)
    return slug


def _surveys(entries: list[Any], where: str, problems: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    forms, stored, seen = {}, {}, set()
    for i, entry in enumerate(entries):
        at = f"{where}.surveys.{i}"
        if not isinstance(entry, dict):
            problems.append(f"{at}: a mapping")
            continue
        slug = _slug(entry, at, seen, problems)
        try:
            data = SurveySchema().load(entry)
        except ValidationError as err:
            problems += _messages(at, err.normalized_messages())
            continue
        if slug is None:
            continue
        data.pop("site_id", None)
        data["quota"] = {k: v for k, v in (data.get("quota") or {}).items() if v is not None}
        stored[slug] = data
        forms[slug] = {**{k: data.get(k) for k in SURVEY_FIELDS}, "slug": slug,
                       "quota": {**SurveyQuota().as_dict(), **data["quota"]}}
    return forms, stored


def _triggers(entries: list[Any], where: str, survey_slugs: set[str], problems: list[str]) -> dict[str, Any]:
    forms, seen = {}, set()
    for i, entry in enumerate(entries):
        at = f"{where}.triggers.{i}"
        if not isinstance(entry, dict):
            problems.append(f"{at}: a mapping")
            continue
        slug = _slug(entry, at, seen, problems)
        refs = [("survey", entry.get("survey"))]
        variants = entry.get("variants") if isinstance(entry.get("variants"), list) else []
        refs += [(f"variants.{j}.survey", v.get("survey") if isinstance(v, dict) else None)
                 for j, v in enumerate(variants)]
        bad = False
        for field_name, ref in refs:
            if ref not in survey_slugs:
                problems.append(f"{at}.{field_name}: the slug of a survey of this site in the file "
                                f"(got {json.dumps(ref)})")
                bad = True
        # The schema checks everything else; survey ids stand in for the slugs checked above.
        body = {k: v for k, v in entry.items() if k != "survey"}
        body["survey_id"] = 1
        if isinstance(entry.get("variants"), list):
            body["variants"] = [{**{k: x for k, x in v.items() if k != "survey"}, "survey_id": 1}
                                if isinstance(v, dict) else v for v in entry["variants"]]
        try:
            data = TriggerSchema().load(body)
        except ValidationError as err:
            problems += _messages(at, err.normalized_messages())
            continue
        if slug is None or bad:
            continue
        forms[slug] = {
            "slug": slug, "name": data["name"] or f"Ask after {data['event_name']}", "event_name": data["event_name"],
            "survey": entry["survey"], "conditions": data["conditions"] or None, "source": data["source"],
            "sample_rate": float(data["sample_rate"]),
            "variants": [{"survey": v["survey"], "weight": d["weight"], **({"label": d["label"]} if "label" in d else {})}
                         for v, d in zip(entry.get("variants") or [], data["variants"])],
            "delay_seconds": data["delay_seconds"], "ttl_seconds": data["ttl_seconds"],
            "transaction_key": data["transaction_key"], "priority": data["priority"], "status": data["status"],
            "occurrences": data["occurrences"], "cancel_events": data["cancel_events"] or [],
            "cancel_same_transaction": bool(data["cancel_same_transaction"])}
    return forms


def _webhooks(entries: list[Any], where: str, problems: list[str]) -> dict[str, Any]:
    forms: dict[str, Any] = {}
    for i, entry in enumerate(entries):
        at = f"{where}.webhooks.{i}"
        if not isinstance(entry, dict):
            problems.append(f"{at}: a mapping")
            continue
        try:
            data = WebhookSchema().load({**entry, "site_id": 1})
        except ValidationError as err:
            problems += _messages(at, err.normalized_messages())
            continue
        if data["url"] in forms:
            problems.append(f"{at}.url: listed twice")
            continue
        forms[data["url"]] = {"url": data["url"], "events": sorted(set(data["events"])),
                              "high_effort_max": data["high_effort_max"], "description": data["description"]}
    return forms


# --------------------------------------------------------------------------- import: plan and apply

def plan(storage: Storage, wanted: list[WantedSite]) -> tuple[Plan, list[SiteWrites]]:
    rows = ConfigRows(storage)
    result, writes = Plan(), []
    for site in wanted:
        found = rows.sites(site.key)
        current = _site_form(rows, found[0]) if found else None
        w = SiteWrites(site.key, found[0]["id"] if found else None)
        if current is None:
            result.creates.append((site.key, "site", site.key))
            w.site, w.fatigue, w.settings = site.site, site.fatigue, site.settings
        else:
            fields = [f for f in SITE_FIELDS if current[f] != site.site[f]]
            if current["fatigue"] != site.fatigue:
                fields.append("fatigue")
                w.fatigue = site.fatigue
            for section, value in site.settings.items():
                if current[section] != value:
                    fields.append(section)
                    w.settings[section] = value
            if fields:
                result.changes.append((site.key, "site", site.key, fields))
                if set(fields) - {"fatigue", *OPTIONAL_SETTINGS}:
                    w.site = site.site
        cur = current or {"surveys": [], "triggers": [], "webhooks": []}
        before = len(result.creates), len(result.changes), len(result.pauses)
        diff_rows(result, site.key, "survey", {s["slug"]: s for s in cur["surveys"]}, site.surveys)
        diff_rows(result, site.key, "trigger", {t["slug"]: t for t in cur["triggers"]}, site.triggers)
        hooks: dict[str, Any] = {}
        for h in cur["webhooks"]:
            hooks.setdefault(h["url"], h)
        diff_rows(result, site.key, "webhook", hooks, site.webhooks, pausable=False)
        for _, kind, name in result.creates[before[0]:]:
            _write(w, site, kind, name)
        for _, kind, name, _fields in result.changes[before[1]:]:
            _write(w, site, kind, name)
        for _, kind, name in result.pauses[before[2]:]:
            (w.pause_surveys if kind == "survey" else w.pause_triggers).append(name)
        writes.append(w)
    return result, writes


def _write(w: SiteWrites, site: WantedSite, kind: str, name: str) -> None:
    if kind == "survey":
        w.surveys[name] = site.stored_surveys[name]
    elif kind == "trigger":
        w.triggers[name] = site.triggers[name]
    elif kind == "webhook":
        w.webhooks[name] = site.webhooks[name]


def import_text(storage: Storage, text: str, now: float, dry_run: bool) -> tuple[Plan, list[str]]:
    """Validate the whole file, plan, and (unless `dry_run`) apply: (the plan, secrets created)."""
    wanted = validate(parse(text))
    result, writes = plan(storage, wanted)
    if dry_run or result.empty:
        return result, []
    return result, ConfigRows(storage).apply(writes, now, webhook_signing.generate_secret)

"""`ces site list|update|rotate-secret` and `ces config export|import`: the admin side of the
command line. Registered on the groups of cli.py; bodies are validated by the admin API's own
schemas, so the command line and the API refuse the same things with the same words.
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

import click
from marshmallow import ValidationError

from . import config as config_module
from .api.site_schemas import MAX_GRACE_SECONDS, SiteSchema
from .cli_common import open_storage
from .storage import Storage
from .storage.sites import SiteStore

_DB = click.option("--db", default=None, help="Database: a SQLite file or a postgresql:// URL (default: CES_DATABASE or ./ces.db).")


@contextmanager
def planning_storage(db: str | None, dry_run: bool) -> Iterator[Storage]:
    """The database to plan an import against. A dry run against a database file that does not
    exist plans against an empty throw-away one: "change nothing" includes creating no file."""
    path = config_module.resolve({"DATABASE": db} if db else None)["DATABASE"]
    if not (dry_run and "://" not in path and not os.path.exists(path.removeprefix("sqlite:"))):
        yield open_storage(db)
        return
    with tempfile.TemporaryDirectory(prefix="ces-plan-") as tmp:
        storage = Storage(os.path.join(tmp, "plan.db"))
        try:
            storage.migrate()
            yield storage
        finally:
            storage.close()


def site_by_key(storage: Storage, key: str) -> dict[str, Any]:
    site = SiteStore(storage).by_key(key)
    if site is None:
        known = ", ".join(s["site_key"] for s in SiteStore(storage).list()) or "none yet"
        raise click.ClickException(f"no site with key {key} (sites: {known})")
    return site


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _fields_error(err: ValidationError) -> click.ClickException:
    messages = err.normalized_messages()
    lines = [f"{k}: {' '.join(v) if isinstance(v, list) else v}" for k, v in messages.items()]
    return click.ClickException("; ".join(lines))


# --------------------------------------------------------------------------- ces site list

def verification_words(site: dict[str, Any]) -> str:
    if site["identity_verification"]:
        return "identity verification: on"
    return ("identity verification: OFF — any page can claim any user id "
            f"(turn it on: ces site update {site['site_key']} --identity-verification)")


@click.command("list")
@_DB
@click.option("--json", "as_json", is_flag=True, help="Print the sites as JSON (as the API does).")
def site_list(db: str | None, as_json: bool) -> None:
    """List sites: key, name, identity verification, allowed origins, time zone."""
    storage = open_storage(db)
    sites = SiteStore(storage).list()
    if as_json:
        from .api.sites import site_json
        click.echo(json.dumps([site_json(s, time.time()) for s in sites], indent=2))
        return
    if not sites:
        click.echo("No site yet: `ces serve` creates one on first run, `ces site create NAME` another.")
    for s in sites:
        click.echo(f"site {s['id']} '{s['name']}'  key {s['site_key']}")
        click.echo(f"  {verification_words(s)}")
        origins = s.get("allowed_origins") or []
        click.echo("  allowed origins: " + (", ".join(origins) if origins else "none (no page may open the widget)"))
        click.echo(f"  time zone: {s.get('time_zone') or 'UTC'}")
        expires = s.get("previous_secret_expires_at")
        if expires is not None and expires > time.time():
            click.echo(f"  the previous secret key still works until {_iso(expires)}")


# --------------------------------------------------------------------------- ces site update

@click.command("update")
@click.argument("key")
@_DB
@click.option("--name", default=None, help="A new name.")
@click.option("--identity-verification/--no-identity-verification", "verification", default=None,
              help="Refuse widget users without a valid user hash (applies to the next socket message).")
@click.option("--origin", "origins", multiple=True,
              help="Replace the allowed origins with these (repeatable): https://shop.example, "
                   "https://*.shop.example, or '*'.")
@click.option("--add-origin", multiple=True, help="Add an allowed origin (repeatable).")
@click.option("--remove-origin", multiple=True, help="Remove an allowed origin (repeatable).")
@click.option("--any-origin", is_flag=True, help="Let any page open the widget (allowed origins: *).")
@click.option("--no-origins", is_flag=True, help="Let no page open the widget (allowed origins: none).")
@click.option("--time-zone", default=None, help="An IANA time zone name, e.g. Europe/Paris.")
def site_update(key: str, db: str | None, name: str | None, verification: bool | None, origins: tuple[str, ...],
                add_origin: tuple[str, ...], remove_origin: tuple[str, ...], any_origin: bool, no_origins: bool,
                time_zone: str | None) -> None:
    """Change a site: name, identity verification, allowed origins, time zone."""
    if sum(bool(x) for x in (origins, any_origin, no_origins)) > 1:
        raise click.UsageError("give one of --origin, --any-origin and --no-origins")
    storage = open_storage(db)
    site = site_by_key(storage, key)
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if verification is not None:
        body["identity_verification"] = verification
    if time_zone is not None:
        body["time_zone"] = time_zone
    current = list(site.get("allowed_origins") or [])
    wanted = list(origins) if origins else ["*"] if any_origin else [] if no_origins else current
    wanted = [o for o in wanted + list(add_origin) if o not in remove_origin]
    if origins or any_origin or no_origins or add_origin or remove_origin:
        body["allowed_origins"] = wanted
    if not body:
        raise click.UsageError("nothing to change: give --name, --identity-verification, an origin option "
                               "or --time-zone")
    try:
        data = SiteSchema(partial=True).load(body)
    except ValidationError as err:
        raise _fields_error(err) from None
    row = SiteStore(storage).update(site["id"], data)
    assert row is not None
    click.echo(f"site {row['id']} '{row['name']}' updated: {', '.join(sorted(data))}")
    click.echo(f"  {verification_words(row)}")
    origins_now = row.get("allowed_origins") or []
    click.echo("  allowed origins: " + (", ".join(origins_now) if origins_now else "none"))
    click.echo(f"  time zone: {row.get('time_zone')}")


# --------------------------------------------------------------------------- ces site rotate-secret

def parse_grace(text: str) -> int:
    """`24h`, `90m`, `2d`, `30s` or plain seconds."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if not m:
        raise click.BadParameter("a duration: seconds, or a number with s, m, h or d (e.g. 24h)")
    seconds = int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if seconds > MAX_GRACE_SECONDS:
        raise click.BadParameter(f"at most {MAX_GRACE_SECONDS // 86400} days")
    return seconds


@click.command("rotate-secret")
@click.argument("key")
@_DB
@click.option("--grace", default=None, help="How long the old secret key keeps working "
              "(default: SECRET_GRACE_SECONDS, 24h); 0 stops it now.")
def site_rotate_secret(key: str, db: str | None, grace: str | None) -> None:
    """Issue a new secret key; the old one keeps working for events and user hashes during the grace period."""
    storage = open_storage(db)
    site = site_by_key(storage, key)
    conf = config_module.resolve({"DATABASE": db} if db else None)
    seconds = parse_grace(grace) if grace is not None else int(conf["SECRET_GRACE_SECONDS"])
    now = time.time()
    row = SiteStore(storage).rotate_secret(site["id"], now, seconds)
    click.echo(row["secret_key"])
    if seconds:
        click.echo(f"new secret key for site {key}; the old one works until {_iso(now + seconds)}: "
                   "deploy the new one to your backend before then.", err=True)
    else:
        click.echo(f"new secret key for site {key}; the old one stopped working now.", err=True)


# --------------------------------------------------------------------------- ces webhook

@click.group("webhook")
def webhook_group() -> None:
    """Webhooks (created through the admin API or `ces config import`)."""


@webhook_group.command("rotate-secret")
@click.argument("webhook_id", type=int)
@_DB
@click.option("--grace", default=None, help="How long the old signing secret keeps signing too "
              "(default: SECRET_GRACE_SECONDS, 24h); 0 stops it now.")
def webhook_rotate_secret(webhook_id: int, db: str | None, grace: str | None) -> None:
    """Issue a new signing secret; during the grace period every delivery carries both signatures."""
    from . import audit
    from .core import webhook_signing
    from .storage.webhooks import WebhookStore
    storage = open_storage(db)
    store = WebhookStore(storage)
    if store.get(webhook_id) is None:
        raise click.BadParameter(f"No webhook {webhook_id}.", param_hint="WEBHOOK_ID")
    conf = config_module.resolve({"DATABASE": db} if db else None)
    seconds = parse_grace(grace) if grace is not None else int(conf["SECRET_GRACE_SECONDS"])
    now = time.time()
    store.rotate_secret(webhook_id, webhook_signing.generate_secret(), now, seconds)
    audit.record(storage, audit.cli_actor(), "webhook.rotate_secret", f"webhook:{webhook_id}",
                 {"grace_seconds": seconds})
    click.echo(store.get(webhook_id)["secret"])  # type: ignore[index]
    until = f"also signs until {_iso(now + seconds)}" if seconds else "stopped signing now"
    click.echo(f"new signing secret for webhook {webhook_id}; the old one {until}: "
               "give the receiver the new one before then.", err=True)


# --------------------------------------------------------------------------- ces config

@click.group("config")
def config_group() -> None:
    """Configuration as code: surveys, triggers, fatigue policy and webhooks in a file."""


@config_group.command("export")
@_DB
@click.option("--site", "site_key", default=None, help="Only this site (by its key).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
def config_export(db: str | None, site_key: str | None, fmt: str) -> None:
    """Print the configuration (no secrets, no answers) as YAML or JSON."""
    from .config_as_code import ConfigError, dump, export
    try:
        click.echo(dump(export(open_storage(db), site_key), fmt), nl=False)
    except ConfigError as err:
        raise click.ClickException(str(err)) from None


@config_group.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@_DB
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
def config_import(file: Any, db: str | None, dry_run: bool) -> None:
    """Validate FILE whole, print what it creates, changes and pauses, then apply it (never deletes)."""
    from .config_as_code import ConfigError, import_text
    try:
        with planning_storage(db, dry_run) as storage:
            result, created = import_text(storage, file.read(), time.time(), dry_run)
    except ConfigError as err:
        click.echo(f"{file.name}: refused, nothing was changed:", err=True)
        for problem in err.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    if result.empty:
        click.echo("Nothing to change: the database already matches the file.")
    for line in result.lines():
        click.echo(("would " if dry_run else "") + line)
    for line in created:
        click.echo(f"created {line}   (shown only now)", err=True)
    if dry_run and not result.empty:
        click.echo("Dry run: nothing was changed.")

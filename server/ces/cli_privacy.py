"""`ces user …`, `ces retention …`, `ces backup`, `ces audit`: people's data, retention, backups, audit.

Registered on the `ces` group by cli.py. They work on the database file directly, beside a
running server (SQLite serializes the writes); a running server's open widgets are not told of
an erasure made here (the API's erasure closes them).
"""
from __future__ import annotations

import json
import time
from typing import Any

import click

from . import audit
from . import config as config_module
from .cli_common import open_storage
from .storage import Storage

_db_option = click.option("--db", default=None, help="Database: a SQLite file or a postgresql:// URL (default: CES_DATABASE or ./ces.db).")


def _site(storage: Storage, key: str) -> dict[str, Any]:
    site = storage.site_by_key(key)
    if site is None and key.isdigit():
        site = storage.get_site(int(key))
    if site is None:
        raise click.BadParameter(f"no site with key {key!r}", param_hint="--site")
    return site


# -- users ------------------------------------------------------------------------------------------

@click.group()
def user() -> None:
    """One person's data: erase, export, opt out (docs/privacy.md)."""


@user.command("erase")
@click.option("--site", "site_key", required=True, help="The site's key (or its id).")
@click.argument("user_id")
@_db_option
def user_erase(site_key: str, user_id: str, db: str | None) -> None:
    """Delete everything stored about USER_ID on the site, reports corrected; the erasure is recorded."""
    from .storage import erasure
    storage = open_storage(db)
    site = _site(storage, site_key)
    actor = audit.cli_actor()
    now = time.time()
    digest = erasure.user_sha256(user_id)
    try:
        done = erasure.erase(storage, site["id"], user_id, f"cli:{actor['name']}", now,
                             record=lambda d: audit.record(d, actor, "user.erase", f"user_sha256:{digest}",
                                                           {"site_id": site["id"]}, now))
    except erasure.NotFound:
        raise click.ClickException(f"nothing is stored about user {user_id!r} on site {site['id']}") from None
    parts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in done["deleted"].items())
    click.echo(f"erased user {user_id!r} on site {site['id']}: {parts} (recorded as sha256 {digest})")


@user.command("export")
@click.option("--site", "site_key", required=True, help="The site's key (or its id).")
@click.argument("user_id")
@click.option("--out", default="-", type=click.Path(dir_okay=False, writable=True),
              help="Output file (default: standard output).")
@_db_option
def user_export(site_key: str, user_id: str, out: str, db: str | None) -> None:
    """Print everything stored about USER_ID on the site as one JSON document."""
    from .storage.erasure import NotFound
    from .user_export import export_document
    storage = open_storage(db)
    site = _site(storage, site_key)
    try:
        doc = export_document(storage, site, user_id, time.time())
    except NotFound:
        raise click.ClickException(f"nothing is stored about user {user_id!r} on site {site['id']}") from None
    with click.open_file(out, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


@user.command("opt-out")
@click.option("--site", "site_key", required=True, help="The site's key (or its id).")
@click.argument("user_id")
@_db_option
def user_opt_out(site_key: str, user_id: str, db: str | None) -> None:
    """Never ask USER_ID again on the site (their open prompts close)."""
    from .storage import erasure
    storage = open_storage(db)
    site = _site(storage, site_key)
    actor, now = audit.cli_actor(), time.time()
    created, closed = erasure.opt_out(storage, site["id"], user_id, "cli", now, record=lambda d: audit.record(
        d, actor, "user.opt_out", f"user_sha256:{erasure.user_sha256(user_id)}", {"site_id": site["id"]}, now))
    click.echo(f"user {user_id!r} {'opted out' if created else 'had already opted out'} on site {site['id']}"
               + (f"; {len(closed)} open prompt(s) closed" if closed else ""))


# -- retention ----------------------------------------------------------------------------------------

@click.group()
def retention() -> None:
    """How long each site keeps events, decisions and answers."""


@retention.command("run")
@click.option("--site", "site_key", default=None, help="Only this site (key or id); default: every site.")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows per write transaction.")
@_db_option
def retention_run(site_key: str | None, batch: int, db: str | None) -> None:
    """Apply the retention policies now (the server also does it in the background, hourly)."""
    from . import retention as job
    storage = open_storage(db)
    site_id = _site(storage, site_key)["id"] if site_key else None
    done = job.run(storage, time.time(), batch=batch, site_id=site_id)
    for sid, counts in done.items():
        click.echo(f"site {sid}: " + ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in counts.items()))
        audit.record(storage, audit.cli_actor(), "site.retention.run", f"site:{sid}", counts)


@retention.command("show")
@click.option("--site", "site_key", required=True, help="The site's key (or its id).")
@_db_option
def retention_show(site_key: str, db: str | None) -> None:
    """Print the site's retention policy as JSON."""
    from . import retention as job
    storage = open_storage(db)
    click.echo(json.dumps(job.site_policy(_site(storage, site_key).get("settings")).as_dict()))


@retention.command("set")
@click.option("--site", "site_key", required=True, help="The site's key (or its id).")
@click.option("--events-days", type=int, default=None, help="Keep events and decisions this many days.")
@click.option("--answers", type=click.Choice(["keep", "anonymise", "delete"]), default=None,
              help="What becomes of answers older than --answers-days.")
@click.option("--answers-days", type=int, default=None, help="Age in days at which --answers applies.")
@_db_option
def retention_set(site_key: str, events_days: int | None, answers: str | None, answers_days: int | None,
                  db: str | None) -> None:
    """Change the site's retention policy (options not given keep their value)."""
    from . import retention as job
    from .core.retention import RetentionPolicy, validate
    storage = open_storage(db)
    site = _site(storage, site_key)
    merged = {**job.site_policy(site.get("settings")).as_dict(),
              **{k: v for k, v in (("events_days", events_days), ("answers", answers),
                                   ("answers_days", answers_days)) if v is not None}}
    errors = validate(merged)
    if errors:
        field, problems = next(iter(errors.items()))
        raise click.BadParameter(problems[0], param_hint=f"--{field.replace('_', '-')}")
    policy = RetentionPolicy(**merged).as_dict()
    settings = dict(site.get("settings") or {})
    settings["retention"] = policy
    storage.set_site_settings(site["id"], settings)
    audit.record(storage, audit.cli_actor(), "site.retention.update", f"site:{site['id']}", policy)
    click.echo(json.dumps(policy))


# -- backups ------------------------------------------------------------------------------------------

@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@_db_option
def backup_command(path: str, db: str | None) -> None:
    """Write a consistent copy of the live database to PATH (the server keeps running)."""
    from .backup import BackupError, backup
    conf = config_module.resolve({"DATABASE": db} if db else None)
    try:
        result = backup(conf["DATABASE"], path)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"backed up {conf['DATABASE']} to {result.path}: {result.bytes} bytes in {result.seconds:.2f}s, "
               f"integrity_check {result.integrity}")


# -- audit --------------------------------------------------------------------------------------------

@click.command("audit")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--action", default=None, help="Only this action (or a prefix ending in '.', e.g. 'survey.').")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@_db_option
def audit_command(limit: int, action: str | None, as_json: bool, db: str | None) -> None:
    """Print the latest changes made through the admin API and the CLI, newest first."""
    from .storage import audit as audit_sql
    from .user_export import iso
    rows, total = audit_sql.entries(open_storage(db), {"action": action}, limit, 0)
    for r in rows:
        if as_json:
            click.echo(json.dumps({**r, "created_at": iso(r["created_at"])}, ensure_ascii=False))
        else:
            who = f"{r['actor_kind']}:{r['actor_name'] or r['actor_id']}"
            click.echo(f"{iso(r['created_at'])}  {who:<24} {r['action']:<24} {r['target'] or ''}  {r['detail'] or ''}")
    if not as_json:
        click.echo(f"({len(rows)} of {total})", err=True)


COMMANDS = (user, retention, backup_command, audit_command)

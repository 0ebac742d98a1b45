"""The `ces` command: serve, demo, and site management."""
from __future__ import annotations

import json
import time
from typing import Any

import click

from . import config as config_module
from .bootstrap import script_tag, seed_default_site
from .storage import Storage


def _storage(db: str | None) -> Storage:
    conf = config_module.resolve({"DATABASE": db} if db else None)
    storage = Storage(conf["DATABASE"], conf["SQLITE_SYNCHRONOUS"])
    storage.migrate()
    return storage


@click.group()
def main() -> None:
    """Customer Effort Score server."""


def _run(host: str, port: int, db: str, threads: int, demo: bool) -> None:
    storage = _storage(db)
    site = seed_default_site(storage, time.time())
    base = f"http://{host}:{port}"
    if site is not None:
        click.echo("Created the default site, a CES 2.0 survey and triggers for "
                   "checkout_completed and ticket_closed.")
        click.echo(f"  site key:   {site['site_key']}")
        click.echo(f"  secret key: {site['secret_key']}   (keep it on your backend)")
        click.echo("Paste this into your pages:")
        click.echo("  " + script_tag(base, site["site_key"]))
    if demo:
        click.echo(f"Demo shop: {base}/demo/")
    click.echo(f"Listening on {base} (database {db})")
    from .server import serve
    serve(host, port, {"DATABASE": db, "DEMO": demo}, threads=threads)


_serve_options = [
    click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on."),
    click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on."),
    click.option("--db", default="ces.db", show_default=True, help="SQLite database file."),
    click.option("--threads", default=2000, show_default=True, type=int,
                 help="Threads of the server process: each open websocket holds one."),
]


def _with_serve_options(f: Any) -> Any:
    for option in reversed(_serve_options):
        f = option(f)
    return f


@main.command()
@_with_serve_options
def serve(host: str, port: int, db: str, threads: int) -> None:
    """Run the server (gunicorn, threaded worker) on the SQLite file DB."""
    _run(host, port, db, threads, demo=False)


@main.command()
@_with_serve_options
def demo(host: str, port: int, db: str, threads: int) -> None:
    """Run the server with the demo shop at /demo/."""
    _run(host, port, db, threads, demo=True)


@main.group()
def site() -> None:
    """Manage sites (embedding applications)."""


@site.command("create")
@click.argument("name")
@click.option("--db", default=None, help="SQLite database file (default: CES_DATABASE or ./ces.db).")
@click.option("--identity-verification/--no-identity-verification", default=False,
              help="Refuse widget users without a valid user hash.")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON, for scripts.")
def site_create(name: str, db: str | None, identity_verification: bool, as_json: bool) -> None:
    """Create a site and print its keys."""
    created = _storage(db).create_site(name, time.time(), identity_verification=identity_verification)
    keys = {"id": created["id"], "name": name, "site_key": created["site_key"],
            "secret_key": created["secret_key"], "identity_verification": identity_verification}
    if as_json:
        click.echo(json.dumps(keys))
        return
    click.echo(f"site {created['id']} '{name}'")
    click.echo(f"  site key:   {created['site_key']}")
    click.echo(f"  secret key: {created['secret_key']}")


@main.group()
def token() -> None:
    """Manage admin API tokens (for the admin API and the dashboard)."""


@token.command("create")
@click.argument("name")
@click.option("--db", default=None, help="SQLite database file (default: CES_DATABASE or ./ces.db).")
def token_create(name: str, db: str | None) -> None:
    """Create an admin token and print it (it is stored hashed: this is the only time it is shown)."""
    row, secret = _storage(db).create_admin_token(name, time.time())
    click.echo(secret)
    click.echo(f"token {row['id']} '{name}' created; it is shown only now.", err=True)


@token.command("list")
@click.option("--db", default=None, help="SQLite database file.")
def token_list(db: str | None) -> None:
    """List admin tokens (never their secret)."""
    for row in _storage(db).list_admin_tokens():
        state = "revoked" if row["revoked_at"] else "active"
        click.echo(f"{row['id']}\t{row['name']}\t{state}")


@token.command("revoke")
@click.argument("token_id", type=int)
@click.option("--db", default=None, help="SQLite database file.")
def token_revoke(token_id: int, db: str | None) -> None:
    """Revoke an admin token by its id."""
    if not _storage(db).revoke_admin_token(token_id, time.time()):
        raise click.ClickException(f"no active token {token_id}")
    click.echo(f"token {token_id} revoked")

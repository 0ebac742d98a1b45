"""`ces user create|list|disable|set-password`: the people who log in to the dashboard."""
from __future__ import annotations

import sys
import time
from datetime import datetime, timezone

import click

from . import audit
from .accounts import AccountError, create_user, normal_email, password_problem
from .cli_admin import site_by_key
from .cli_common import open_storage
from .storage.dashboard_users import DashboardUserStore

_DB = click.option("--db", default=None, help="SQLite database file (default: CES_DATABASE or ./ces.db).")
_STDIN = click.option("--password-stdin", is_flag=True,
                      help="Read the password from the first line of standard input (for scripts).")


def _password(from_stdin: bool) -> str:
    """The password: one line of stdin, or typed twice at a hidden prompt."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)
    return password


@click.group("user")
def user_group() -> None:
    """Dashboard users (email and password; every site or one site)."""


def attach(group: click.Group) -> None:
    """Add these commands to `ces user` (whose other commands are about one customer's data)."""
    for command in user_group.commands.values():
        group.add_command(command)
    group.help = ("Customers' data: erase, export, opt out (docs/privacy.md); and the people who log in "
                  "to the dashboard: create, list, disable, set-password (docs/dashboard.md).")


@user_group.command("create")
@click.argument("email")
@click.option("--site", "site_key", default=None, help="Only this site (by its key); default: every site.")
@click.option("--read-only", is_flag=True, help="May look, never change anything.")
@_STDIN
@_DB
def user_create(email: str, site_key: str | None, read_only: bool, password_stdin: bool, db: str | None) -> None:
    """Create a dashboard user (who logs in with EMAIL and a password); the password is prompted for (or read with --password-stdin)."""
    storage = open_storage(db)
    site_id = site_by_key(storage, site_key)["id"] if site_key else None
    password = _password(password_stdin)
    try:
        row = create_user(storage, email, password, time.time(), site_id, read_only)
    except AccountError as err:
        raise click.ClickException(str(err)) from None
    audit.record(storage, audit.cli_actor(), "dashboard_user.create", f"dashboard_user:{row['id']}",
                 {"site_id": site_id, "read_only": read_only})
    scope = f"site {site_key} only" if site_key else "every site"
    click.echo(f"user {row['id']} {row['email']} created ({scope}, {'read-only' if read_only else 'read-write'}); "
               "log in at /dashboard/login")


@user_group.command("list")
@_DB
def user_list(db: str | None) -> None:
    """List the dashboard users with their scope (never a password)."""
    storage = open_storage(db)
    keys = {s["id"]: s["site_key"] for s in storage.list_sites()}
    for row in DashboardUserStore(storage).list():
        state = "disabled" if row["disabled_at"] else "active"
        scope = f"site {keys.get(row['site_id'], row['site_id'])}" if row["site_id"] else "every site"
        created = datetime.fromtimestamp(row["created_at"], timezone.utc).strftime("%Y-%m-%d")
        click.echo(f"{row['id']}\t{row['email']}\t{state}\t{scope}\t"
                   f"{'read-only' if row['read_only'] else 'read-write'}\t{created}")


def _user_or_fail(store: DashboardUserStore, email: str) -> dict:
    row = next((r for r in store.list() if r["email"] == normal_email(email)), None)
    if row is None:
        raise click.ClickException(f"no user {normal_email(email)}")
    return row


@user_group.command("disable")
@click.argument("email")
@_DB
def user_disable(email: str, db: str | None) -> None:
    """Disable a dashboard user: their sessions end at their next request; they can no longer log in."""
    storage = open_storage(db)
    store = DashboardUserStore(storage)
    row = _user_or_fail(store, email)
    if not store.disable(row["id"], time.time()):
        raise click.ClickException(f"user {row['email']} is disabled already")
    audit.record(storage, audit.cli_actor(), "dashboard_user.disable", f"dashboard_user:{row['id']}")
    click.echo(f"user {row['email']} disabled")


@user_group.command("set-password")
@click.argument("email")
@_STDIN
@_DB
def user_set_password(email: str, password_stdin: bool, db: str | None) -> None:
    """Set a dashboard user's password (prompted for, or read with --password-stdin)."""
    from werkzeug.security import generate_password_hash
    storage = open_storage(db)
    store = DashboardUserStore(storage)
    row = _user_or_fail(store, email)
    store.set_password(row["id"], generate_password_hash(_password(password_stdin)))
    audit.record(storage, audit.cli_actor(), "dashboard_user.set_password", f"dashboard_user:{row['id']}")
    click.echo(f"password of {row['email']} changed")

"""Dashboard users: create one, check a login. The rules live here, for the CLI and the dashboard.

Passwords are hashed with werkzeug.security (already a dependency through Flask): scrypt, salted,
with the parameters in the stored string so they can be raised later, and a constant-time check.
"""
from __future__ import annotations

import re
from functools import cache
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from .storage import Storage
from .storage.dashboard_users import DashboardUserStore
from .storage.sites import SiteStore

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # a hash of megabytes of text would only cost the server time
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")


@cache
def _dummy_hash() -> str:
    """Checked when the email is unknown, so a wrong email takes as long as a wrong password.
    Made at the first login, not at import: scrypt costs ~90 ms of CPU, which every `ces`
    command and every server start paid."""
    return generate_password_hash("not a password of anyone")


class AccountError(ValueError):
    """Bad input for a user: `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normal_email(email: str) -> str:
    return email.strip().lower()


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"A password needs at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"A password has at most {MAX_PASSWORD} characters."
    return None


def create_user(storage: Storage, email: str, password: str, now: float, site_id: int | None = None,
                read_only: bool = False) -> dict[str, Any]:
    """A new dashboard user; AccountError (nothing stored) for a bad email, a short password, an
    unknown site or an email already taken."""
    email = normal_email(email)
    if not _EMAIL.fullmatch(email):
        raise AccountError("email", f"{email!r} is not an email address.")
    problem = password_problem(password)
    if problem:
        raise AccountError("password", problem)
    if site_id is not None and SiteStore(storage).get(site_id) is None:
        raise AccountError("site", f"Unknown site {site_id}.")
    row = DashboardUserStore(storage).create(email, generate_password_hash(password), now, site_id, read_only)
    if row is None:
        raise AccountError("email", f"A user {email} exists already.")
    return row


def check_login(storage: Storage, email: str, password: str) -> dict[str, Any] | None:
    """The user when `password` is theirs; None for an unknown email or a wrong password alike."""
    if not email or not password or len(password) > MAX_PASSWORD:
        return None
    dummy = _dummy_hash()  # made before the lookup: a process's first login costs it for any email
    row = DashboardUserStore(storage).credentials(normal_email(email))
    if row is None:
        check_password_hash(dummy, password)
        return None
    if not check_password_hash(row.pop("password_hash"), password):
        return None
    return row
